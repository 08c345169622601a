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
/// Split over ranks (dense MLPs and shared experts), each rank holds a 128-row-block share of the
/// intermediate rows (gate, up) and of the output rows (down); gathers between the two make every
/// value exactly what one rank computes alone.
struct MLP: Sendable {
    let gate: Linear, up: Linear, down: Linear

    /// `split`: the plan whose rank's share this holds; nil: the whole MLP (a routed expert).
    init(_ ckpt: Checkpoint, _ prefix: String, dim: Int, inter: Int, split plan: ShardPlan? = nil) throws {
        let hidden = plan.map { $0.rows(of: $0.rank, count: inter) } ?? 0..<inter
        let out = plan.map { $0.rows(of: $0.rank, count: dim) } ?? 0..<dim
        gate = Linear(weight: try ckpt.matrix(prefix + ".gate_proj", rows: inter, cols: dim).rows(hidden))
        up = Linear(weight: try ckpt.matrix(prefix + ".up_proj", rows: inter, cols: dim).rows(hidden))
        down = Linear(weight: try ckpt.matrix(prefix + ".down_proj", rows: dim, cols: inter).rows(out))
    }

    /// `[T, dim] → [T, dim]` of a split MLP (every rank calls it; one rank holds it whole).
    func callAsFunction(_ x: [Float], comm: Collectives) -> [Float] {
        let tokens = x.count / gate.weight.cols
        let share = MLP.run([(self, x)]) { comm.allGatherColumns($0, tokens: tokens) }[0]
        return comm.allGatherColumns(share, tokens: tokens)
    }

    /// Several MLPs, each over its own tokens, in two parallel passes (every gate and up
    /// projection, then every down projection). `gather` completes the first MLP's intermediate
    /// values from this rank's share when that MLP is split over ranks.
    static func run(_ calls: [(mlp: MLP, x: [Float])], gather: (([Float]) -> [Float])? = nil) -> [[Float]] {
        let hidden = linears(calls.flatMap { [($0.x, $0.mlp.gate.weight), ($0.x, $0.mlp.up.weight)] })
        var acts = calls.indices.map { siluMul(hidden[2 * $0], hidden[2 * $0 + 1]) }
        if let gather { acts[0] = gather(acts[0]) }
        return linears(calls.indices.map { (acts[$0], calls[$0].mlp.down.weight) })
    }

    /// The weights one token reads (this rank's share).
    var matrices: [Matrix] { [gate.weight, up.weight, down.weight] }
}

/// Token embedding table `[vocab, dim]`.
struct Embedding: Sendable {
    let weight: Matrix
    /// `[T] → [T, dim]`.
    func callAsFunction(_ tokens: [Int]) -> [Float] { tokens.flatMap { weight.row($0) } }
}
