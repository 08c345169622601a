import Foundation

/// One SwiGLU feed-forward (`down(silu(gate(x)) ⊙ up(x))`) applied to some tokens, each output
/// weighted: a routed expert (its tokens and gate weights), a shared expert or a dense MLP (all
/// tokens, weight 1).
public struct SwiGLUJob {
    public let gate: Matrix, up: Matrix, down: Matrix
    public let tokens: [Int], weights: [Float]
    public init(gate: Matrix, up: Matrix, down: Matrix, tokens: [Int], weights: [Float]) {
        self.gate = gate; self.up = up; self.down = down; self.tokens = tokens; self.weights = weights
    }
}

/// `silu(gate) · up`, the activation of every SwiGLU feed-forward.
@inline(__always)
public func swiGLU(_ gate: Float, _ up: Float) -> Float { gate / (1 + exp(-gate)) * up }

/// `swiGLU` of each pair of `gate` and `up`, over the workers.
public func swiGLU(_ gate: [Float], _ up: [Float]) -> [Float] {
    precondition(gate.count == up.count)
    return [Float](unsafeUninitializedCapacity: gate.count) { out, count in
        gate.withUnsafeBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                Parallel.forRanges(g.count, minPerTask: 1024) { range in for i in range { out[i] = swiGLU(g[i], u[i]) } }
            }
        }
        count = gate.count
    }
}

/// `Σ_j weights_j[i] · SwiGLU_j(x[tokens_j[i]])` for every token of `x` (`[T, dim]`), in fp64 with the
/// jobs added in order. Parallel passes over the weights: every gate and up projection with the
/// activation of the rows each piece computed (`activations`), then every down projection. `more`,
/// where given, runs on the calling thread alongside the gate and up pass of `jobs` and returns
/// jobs that follow them (their gate and up pass comes next): a MoE layer's shared experts stream
/// while the caller routes. The weighted sum runs on the workers too, so a long prefill does not wait on one thread.
public func weightedSwiGLUs(_ x: [Float], dim: Int, _ jobs: [SwiGLUJob], then more: (() -> [SwiGLUJob])? = nil) -> [Double] {
    var later = [SwiGLUJob]()
    let first = activations(x, dim: dim, jobs, next: more == nil ? jobs.map { $0.down.region } : nil, alongside: more.map { more in { later = more() } })
    let all = jobs + later
    let second = activations(x, dim: dim, later, next: all.map { $0.down.region })
    defer { first.deallocate(); second.deallocate() }
    // Plain values only from here on: the loops' bodies copy no job (each copy retains its matrices and arrays).
    let tokenOf = all.flatMap { $0.tokens }, weightOf = all.flatMap { $0.weights }  // per row of the jobs' tokens, in job order
    let counts = all.map { $0.tokens.count }, rows = tokenOf.count, firstRow = offsets(counts)
    let size = { (j: SwiGLUJob) in j.tokens.count * j.gate.rows }, inFirst = offsets(jobs.map(size)), inSecond = offsets(later.map(size))
    let hidden = jobs.indices.map { UnsafePointer(first + inFirst[$0]) } + later.indices.map { UnsafePointer(second + inSecond[$0]) }  // each job's activations
    let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * dim)
    defer { out.deallocate() }
    linears(all.indices.map { j in (hidden[j], counts[j], all[j].down, out + firstRow[j] * dim) })
    var y = [Double](repeating: 0, count: x.count)
    y.withUnsafeMutableBufferPointer { y in
        let yb = y.baseAddress!
        Parallel.forRanges(dim, minPerTask: Swift.max(64, (1 << 15) / Swift.max(rows, 1))) { cols in  // each element's terms in job order
            for row in 0..<rows {
                let o = out + row * dim, t = tokenOf[row], w = weightOf[row]
                for d in cols { yb[t * dim + d] += Double(w * o[d]) }
            }
        }
    }
    return y
}

/// `silu(gate(x)) · up(x)` of each job over its tokens, job after job (`[Σ tokens × width]`, to
/// deallocate), in one parallel pass; `next` and `alongside` as `Parallel.forRanges`'. A job's tokens
/// are read in place where they are consecutive rows of `x` (decode), else gathered first.
private func activations(_ x: [Float], dim: Int, _ jobs: [SwiGLUJob], next: [Region]?, alongside: (() -> Void)? = nil) -> UnsafeMutablePointer<Float> {
    let tokenOf = jobs.flatMap { $0.tokens }, counts = jobs.map { $0.tokens.count }, widths = jobs.map { $0.gate.rows }
    let firstRow = offsets(counts), hiddenAt = offsets(zip(counts, widths).map(*))  // each job's first row and hidden offset
    let inPlace = jobs.indices.map { j in (0..<counts[j]).allSatisfy { tokenOf[firstRow[j] + $0] == tokenOf[firstRow[j]] + $0 } }
    let xs = UnsafeMutablePointer<Float>.allocate(capacity: tokenOf.count * dim)
    let gate = UnsafeMutablePointer<Float>.allocate(capacity: hiddenAt.last!), up = UnsafeMutablePointer<Float>.allocate(capacity: hiddenAt.last!)
    defer { xs.deallocate(); up.deallocate() }
    x.withUnsafeBufferPointer { x in
        let gathered = jobs.indices.filter { !inPlace[$0] }.flatMap { firstRow[$0]..<firstRow[$0 + 1] }
        Parallel.forRanges(gathered.count, minPerTask: 16) { range in
            for row in range.map({ gathered[$0] }) { (xs + row * dim).update(from: x.baseAddress! + tokenOf[row] * dim, count: dim) }
        }
        let inputs = jobs.indices.map { j in inPlace[j] && counts[j] > 0 ? x.baseAddress! + tokenOf[firstRow[j]] * dim : UnsafePointer(xs + firstRow[j] * dim) }
        let gates = jobs.map { $0.gate.view }, ups = jobs.map { $0.up.view }
        forEachPiece(rows: widths, work: jobs.map { 2 * $0.tokens.count * $0.gate.cols },
                     reads: jobs.flatMap { [$0.gate.region, $0.up.region] }, next: next, alongside: alongside) { j, hidden in
            let n = counts[j], width = widths[j], g = gate + hiddenAt[j], u = up + hiddenAt[j]
            linearRows(inputs[j], tokens: n, gates[j], g, hidden)
            linearRows(inputs[j], tokens: n, ups[j], u, hidden)
            for t in 0..<n { for r in hidden { g[t * width + r] = swiGLU(g[t * width + r], u[t * width + r]) } }
        }
    }
    return gate
}

/// Naive twin of `weightedSwiGLUs`: each job's tokens one at a time through `naiveLinear`.
public func naiveWeightedSwiGLUs(_ x: [Float], dim: Int, _ jobs: [SwiGLUJob]) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    for job in jobs {
        for (t, w) in zip(job.tokens, job.weights) {
            let input = Array(x[(t * dim)..<((t + 1) * dim)])
            let g = naiveLinear(input, job.gate), u = naiveLinear(input, job.up)
            let o = naiveLinear(zip(g, u).map(swiGLU), job.down)
            for d in 0..<dim { y[t * dim + d] += Double(w * o[d]) }
        }
    }
    return y
}
