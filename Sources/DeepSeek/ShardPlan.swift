/// How the work and memory of one model are spread over `ranks` ranks (design §4): routed experts
/// in contiguous id ranges, KV-cache positions in pages of 64 dealt round-robin, LM-head rows in
/// contiguous vocabulary ranges; everything else replicated. Rank 0 is the coordinator.
public struct ShardPlan: Sendable, Equatable {
    public static let pageSize = 64
    public let rank: Int
    public let ranks: Int
    public let expertCount: Int

    /// Checks the layout against the model: every rank must own at least one routed expert.
    public init(rank: Int, ranks: Int, config: ModelConfig) throws {
        guard ranks >= 1, (0..<ranks).contains(rank) else { throw ModelError("invalid rank \(rank) of \(ranks)") }
        let moe = (0..<config.numHiddenLayers).contains { config.isMoE(layer: $0) }
        if moe && ranks > config.nRoutedExperts {
            throw ModelError("\(ranks) ranks but only \(config.nRoutedExperts) routed experts: every rank must own at least one expert (use at most \(config.nRoutedExperts) ranks)")
        }
        self.rank = rank; self.ranks = ranks; expertCount = moe ? config.nRoutedExperts : 0
    }

    /// The single-process plan.
    public static func single(_ config: ModelConfig) -> ShardPlan { try! ShardPlan(rank: 0, ranks: 1, config: config) }

    /// Routed experts of rank `r` (contiguous; sizes differ by at most one).
    public func experts(of r: Int) -> Range<Int> { (r * expertCount / ranks)..<((r + 1) * expertCount / ranks) }
    /// This rank's routed experts.
    public var experts: Range<Int> { experts(of: rank) }
    /// The rank that owns routed expert `e`.
    func expertOwner(_ e: Int) -> Int { (0..<ranks).first { experts(of: $0).contains(e) }! }

    /// The ranks that run each token's shared experts, given each token's routed experts, as
    /// `[tokens][parts]`: each of a token's `parts` parts of the shared experts (`units` routed
    /// experts' work each) goes to the rank with the least expert work so far (its routed (token,
    /// expert) pairs, then the parts it already runs), the lowest on ties. One rank: the coordinator.
    public func sharedExpertRanks(_ routes: [[Int]], parts: Int, units: Int) -> [[Int]] {
        var load = [Int](repeating: 0, count: ranks)
        for e in routes.joined() { load[expertOwner(e)] += 1 }
        return routes.map { _ in
            (0..<parts).map { _ in
                let r = load.indices.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 }!
                load[r] += units
                return r
            }
        }
    }

    /// The vocabulary rows of the LM head rank `r` computes.
    public func vocabRows(of r: Int, vocab: Int) -> Range<Int> { Self.rowBlocks(of: r, ranks: ranks, count: vocab) }

    /// Rank `r` of `ranks`' contiguous share of `count` rows, in whole 128-row blocks (shares differ
    /// by at most one block): the LM head's vocabulary, a dense MLP's rows.
    public static func rowBlocks(of r: Int, ranks: Int, count: Int) -> Range<Int> {
        let blocks = (count + 127) / 128
        return min(count, (r * blocks / ranks) * 128)..<min(count, ((r + 1) * blocks / ranks) * 128)
    }

    /// The rank that caches position `p`.
    public func owner(of p: Int) -> Int { (p / Self.pageSize) % ranks }
    /// Where this rank stores its position `p` (rows ascend with positions).
    public func localRow(_ p: Int) -> Int { (p / Self.pageSize / ranks) * Self.pageSize + p % Self.pageSize }
    /// The position held in this rank's local row `row`.
    public func position(ofLocalRow row: Int) -> Int { ((row / Self.pageSize) * ranks + rank) * Self.pageSize + row % Self.pageSize }
    /// How many of positions `0..<n` this rank holds.
    public func localCount(_ n: Int) -> Int {
        let fullPages = n / Self.pageSize, tail = n % Self.pageSize
        let mine = fullPages / ranks + (fullPages % ranks > rank ? 1 : 0)
        return mine * Self.pageSize + (fullPages % ranks == rank ? tail : 0)
    }
}
