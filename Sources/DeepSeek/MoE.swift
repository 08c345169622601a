import Foundation
import Kernels

/// The MoE router (spec §5.2): sigmoid (or softmax) scores, the correction bias for selection
/// only, group-limited top-k, normalised weights times `routed_scaling_factor`. All fp32.
struct Gate: Sendable {
    let weight: Linear       // [experts, dim]
    let bias: [Float]?       // [experts]
    let experts: Int, groups: Int, topkGroups: Int, topk: Int
    let sigmoid: Bool, normalize: Bool, routeScale: Float

    init(_ ckpt: Checkpoint, _ prefix: String) throws {
        let c = ckpt.config
        experts = c.nRoutedExperts; groups = c.nGroup; topkGroups = c.topkGroup; topk = c.numExpertsPerTok
        sigmoid = (c.scoringFunc ?? "sigmoid") == "sigmoid"
        normalize = c.normTopkProb ?? sigmoid
        routeScale = c.routedScalingFactor
        weight = try Linear(ckpt, prefix, in: c.hiddenSize, out: experts)
        let biasName = prefix + ".e_score_correction_bias"
        bias = ckpt.tensors[biasName] != nil ? try ckpt.vector(biasName, count: experts) : nil
    }

    /// Routes each token from its row of the router's `logits` (`weight(x)`, `[T, experts]`): expert ids and weights, `[T][topk]`.
    func callAsFunction(logits: [Float]) -> [(experts: [Int], weights: [Float])] {
        (0..<(logits.count / experts)).map { t in route(Array(logits[(t * experts)..<((t + 1) * experts)])) }
    }

    func route(_ logits: [Float]) -> (experts: [Int], weights: [Float]) {
        var scores: [Float]
        if sigmoid {
            scores = logits.map { 1 / (1 + exp(-$0)) }
        } else {
            let m = logits.max()!, e = logits.map { exp($0 - m) }, z = e.reduce(0, +)
            scores = e.map { $0 / z }
        }
        var choice = bias.map { b in zip(scores, b).map { $0 + $1 } } ?? scores
        if groups > 1 {
            let size = experts / groups
            let groupScores = (0..<groups).map { g in  // its best expert, or with the bias its best two
                best(choice, bias == nil ? 1 : 2, in: (g * size)..<((g + 1) * size)).reduce(Float(0)) { $0 + choice[$1] }
            }
            let kept = best(groupScores, topkGroups)
            for g in 0..<groups where !kept.contains(g) {
                for e in (g * size)..<((g + 1) * size) { choice[e] = -.infinity }
            }
        }
        let chosen = best(choice, topk)
        var weights = chosen.map { scores[$0] }
        if normalize {
            let sum = weights.reduce(0, +)
            weights = weights.map { $0 / sum }
        }
        return (chosen, weights.map { $0 * routeScale })
    }

    /// Indices of the `k` largest values of `v[range]` (all of `v` by default), largest first; ties go
    /// to the lower index. One pass per pick: `k` is a handful, `v` at most a few hundred experts.
    private func best(_ v: [Float], _ k: Int, in range: Range<Int>? = nil) -> [Int] {
        let range = range ?? v.indices
        var picked = [Int]()
        for _ in 0..<Swift.min(k, range.count) {
            var top = -1
            for i in range where !picked.contains(i) && (top < 0 || v[i] > v[top]) { top = i }
            picked.append(top)
        }
        return picked
    }
}

/// Mixture of experts (spec §5): routed experts weighted by the gate plus the shared experts.
/// Each token's shared experts go part by part to the ranks (`ShardPlan.sharedRanks`), which every
/// rank knows beforehand, so they stream while the coordinator routes: it gives each routed expert to
/// the least busy rank of those sharing its owner's memory (`route`) and one broadcast tells every
/// rank. Each rank runs the experts given to it (those of other memories are never touched); one sum over ranks.
struct MoE: Sendable {
    let gate: Gate
    let experts: [MLP?]  // nil: in another rank's memory
    /// The shared experts, one MLP each (the checkpoint's one MLP cut by hidden rows), so that a
    /// token's can run on different ranks; one MLP for all where the cuts would split FP8 blocks.
    let shared: [MLP]
    let plan: ShardPlan
    let sharedUnits: Int  // each of `shared`, in routed experts' sizes

    init(_ ckpt: Checkpoint, _ prefix: String, plan: ShardPlan) throws {
        let c = ckpt.config
        gate = try Gate(ckpt, prefix + ".gate")
        experts = try (0..<c.nRoutedExperts).map { e in
            plan.mayRun(expert: e) ? try MLP(ckpt, prefix + ".experts.\(e)", dim: c.hiddenSize, inter: c.moeIntermediateSize) : nil
        }
        let n = c.nSharedExperts, inter = c.moeIntermediateSize
        let all = n > 0 ? try MLP(ckpt, prefix + ".shared_experts", dim: c.hiddenSize, inter: n * inter) : nil
        // Cut (the down projection's columns copied) only where there are two or more.
        let cuttable = n > 1 && all.map { $0.matrices.allSatisfy { $0.format != .fp8 } || inter % Matrix.blockSize == 0 } ?? false
        shared = cuttable ? (0..<n).map { all!.hiddenRows($0 * inter..<($0 + 1) * inter) } : all.map { [$0] } ?? []
        self.plan = plan
        sharedUnits = cuttable ? 1 : n
    }

    /// The weights one token reads: the router, its routed experts and the shared experts.
    var matricesPerToken: [Matrix] {
        let expert = experts.compactMap { $0 }.first?.matrices ?? []
        return [gate.weight.weight] + Array(repeating: expert, count: gate.topk).flatMap { $0 } + shared.flatMap { $0.matrices }
    }

    /// The coordinator's routing from the router's `logits` (`[T, experts]`), for every rank's
    /// `callAsFunction`: `[T, topk]` expert ids, `[T, topk]` weights' bit patterns, `[T, topk]` the ranks that run them.
    func route(logits: [Float]) -> [Int32] {
        let routes = gate(logits: logits), ranks = plan.expertRanks(routes.map { $0.experts }, sharedParts: shared.count, units: sharedUnits)
        return routes.flatMap { $0.experts.map(Int32.init) } + routes.flatMap { $0.weights.map { Int32(bitPattern: $0.bitPattern) } }
            + ranks.joined().map(Int32.init)
    }

    /// `[T, dim] → [T, dim]` (on every rank): the router's loop on the coordinator, then this rank's
    /// shared experts' gate and up projections while the coordinator routes and broadcasts
    /// (`route`); then each routed expert given to this rank, once over all the tokens routed to it.
    func callAsFunction(_ x: [Float], comm: Collectives) -> [Float] {
        let k = gate.topk, dim = gate.weight.weight.cols, t = x.count / dim
        let logits = comm.isCoordinator ? Profiler.measure("routing") { gate.weight(x) } : []  // [T, experts]
        let placed = plan.sharedRanks(tokens: t, parts: shared.count)
        let sharedJobs = shared.indices.compactMap { j -> SwiGLUJob? in
            let tokens = (0..<t).filter { placed[$0][j] == comm.rank }
            return tokens.isEmpty ? nil : shared[j].job(tokens: tokens, weights: tokens.map { _ in 1 })
        }
        let y = Profiler.measure("moe") {
            weightedSwiGLUs(x, dim: dim, sharedJobs) {  // while the shared experts stream: the routing, and this rank's routed experts
                let routing = comm.broadcast(comm.isCoordinator ? Profiler.measure("routing") { route(logits: logits) } : [])
                let mine = (0..<(t * k)).filter { routing[2 * t * k + $0] == comm.rank }.map {  // this rank's (token, expert) pairs
                    (expert: Int(routing[$0]), token: $0 / k, weight: Float(bitPattern: UInt32(bitPattern: routing[t * k + $0])))
                }
                return routedJobs(mine)
            }
        }
        return comm.allReduceSum(y).map(Float.init)  // summed in rank order
    }

    /// One job per routed expert of `pairs` (this rank's (expert, token, weight)), ascending, each
    /// over its tokens in order; `weightedSwiGLUs` adds them after the shared experts, in fp64 so the
    /// fp32 sum does not depend on how the work is split over ranks.
    private func routedJobs(_ pairs: [(expert: Int, token: Int, weight: Float)]) -> [SwiGLUJob] {
        let byExpert = pairs.indices.sorted { (pairs[$0].expert, $0) < (pairs[$1].expert, $1) }  // each expert's pairs in token order
        var jobs = [SwiGLUJob](), first = 0
        while first < byExpert.count {
            let e = pairs[byExpert[first]].expert
            let end = byExpert[first...].firstIndex { pairs[$0].expert != e } ?? byExpert.count
            jobs.append(experts[e]!.job(tokens: byExpert[first..<end].map { pairs[$0].token }, weights: byExpert[first..<end].map { pairs[$0].weight }))
            first = end
        }
        return jobs
    }
}
