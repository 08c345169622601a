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

/// Each present linear of `x` (`[T, in] → [T, out]`, nil where absent), in one parallel pass over
/// all their rows: projections that share an input cost one dispatch, not one each.
func project(_ x: [Float], _ linears: [Linear?]) -> [[Float]?] {
    var outs = Kernels.linears(x, linears.compactMap { $0?.weight }).makeIterator()
    return linears.map { $0 == nil ? nil : outs.next() }
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
    private init(gate: Matrix, up: Matrix, down: Matrix) {
        self.gate = Linear(weight: gate); self.up = Linear(weight: up); self.down = Linear(weight: down)
    }

    /// The part of this MLP that computes hidden units `range` (its gate and up rows, its down
    /// columns): summed over a partition of the hidden layer, the parts give the whole.
    func hiddenRows(_ range: Range<Int>) -> MLP {
        MLP(gate: gate.weight.rows(range), up: up.weight.rows(range), down: down.weight.columns(range))
    }
    /// `[T, dim] → [T, dim]`.
    func callAsFunction(_ x: [Float]) -> [Float] {
        let dim = gate.weight.cols
        return weightedSwiGLUs(x, dim: dim, [job(allOf: x.count / dim)]).map(Float.init)
    }

    /// `[T, dim] → [T, dim]` with the work split over ranks: each rank computes its 128-row blocks
    /// of the hidden layer (gate, up, activation) and of the output (down), gathered in rank order —
    /// the values one rank computes alone, each weight row read by one rank.
    func callAsFunction(_ x: [Float], comm: Collectives) -> [Float] {
        guard comm.size > 1 else { return self(x) }
        let t = x.count / gate.weight.cols
        let mine = { (m: Matrix) in m.rows(ShardPlan.rowBlocks(of: comm.rank, ranks: comm.size, count: m.rows)) }
        let gu = linears(x, [mine(gate.weight), mine(up.weight)])
        let hidden = joinColumns(comm.allGather(swiGLU(gu[0], gu[1])), rows: t)  // [T, inter]
        return joinColumns(comm.allGather(linear(hidden, mine(down.weight))), rows: t)
    }

    /// This MLP over `tokens` of a batch, its outputs weighted (for `weightedSwiGLUs`).
    func job(tokens: [Int], weights: [Float]) -> SwiGLUJob {
        SwiGLUJob(gate: gate.weight, up: up.weight, down: down.weight, tokens: tokens, weights: weights)
    }

    /// This MLP over all `t` tokens of a batch, unweighted.
    func job(allOf t: Int) -> SwiGLUJob { job(tokens: Array(0..<t), weights: Array(repeating: 1, count: t)) }

    /// The weights one token reads.
    var matrices: [Matrix] { [gate.weight, up.weight, down.weight] }
}

/// `[rows, Σ widths]` from each part's `[rows, width]`, each row's slices in part order.
func joinColumns<Part: RandomAccessCollection<Float>>(_ parts: [Part], rows: Int) -> [Float] where Part.Index == Int {
    guard parts.count > 1 else { return Array(parts[0]) }
    var out = [Float]()
    out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for r in 0..<rows {
        for p in parts {
            let width = p.count / rows
            out += p[(r * width)..<((r + 1) * width)]
        }
    }
    return out
}

/// Token embedding table `[vocab, dim]`.
struct Embedding: Sendable {
    let weight: Matrix
    /// `[T] → [T, dim]`.
    func callAsFunction(_ tokens: [Int]) -> [Float] { tokens.flatMap { weight.row($0) } }
}
