import Kernels

/// `y = x · Wᵀ` with a checkpoint weight (FP8 block-scaled, bf16, f16 or f32).
public struct Linear: Sendable {
    public let weight: Matrix
    init(_ ckpt: Checkpoint, _ name: String, in inDim: Int, out outDim: Int) throws {
        weight = try ckpt.matrix(name, rows: outDim, cols: inDim)
    }
    init(weight: Matrix) { self.weight = weight }
    /// `[T, in] → [T, out]`.
    func callAsFunction(_ x: [Float]) -> [Float] { linear(x, weight) }
}

/// Root-mean-square norm with a learned scale.
struct RMSNorm: Sendable {
    let weight: [Float]
    let eps: Float
    init(_ ckpt: Checkpoint, _ name: String, dim: Int) throws {
        weight = try ckpt.vector(name + ".weight", count: dim)
        eps = ckpt.config.rmsNormEps
    }
    /// `[T, dim] → [T, dim]`.
    func callAsFunction(_ x: [Float]) -> [Float] { rmsNorm(x, weight: weight, eps: eps) }
}

/// SwiGLU feed-forward: `down(silu(gate(x)) ⊙ up(x))` — the dense MLP, a routed or shared expert.
struct MLP: Sendable {
    let gate: Linear, up: Linear, down: Linear
    init(_ ckpt: Checkpoint, _ prefix: String, dim: Int, inter: Int) throws {
        gate = try Linear(ckpt, prefix + ".gate_proj", in: dim, out: inter)
        up = try Linear(ckpt, prefix + ".up_proj", in: dim, out: inter)
        down = try Linear(ckpt, prefix + ".down_proj", in: inter, out: dim)
    }
    /// `[T, dim] → [T, dim]`.
    func callAsFunction(_ x: [Float]) -> [Float] { MLP.run([(self, x)])[0] }

    /// Several MLPs, each over its own tokens, in two parallel passes (every gate and up
    /// projection, then every down projection); each output equals the MLP's alone bit for bit.
    static func run(_ calls: [(mlp: MLP, x: [Float])]) -> [[Float]] {
        let hidden = linears(calls.flatMap { [($0.x, $0.mlp.gate.weight), ($0.x, $0.mlp.up.weight)] })
        return linears(calls.indices.map { (siluMul(hidden[2 * $0], hidden[2 * $0 + 1]), calls[$0].mlp.down.weight) })
    }

    /// The weights one token reads.
    var matrices: [Matrix] { [gate.weight, up.weight, down.weight] }
}

/// Token embedding table `[vocab, dim]`.
struct Embedding: Sendable {
    let weight: Matrix
    /// `[T] → [T, dim]`.
    func callAsFunction(_ tokens: [Int]) -> [Float] { tokens.flatMap { weight.row($0) } }
}
