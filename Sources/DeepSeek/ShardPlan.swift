/// How the work and memory of one model are spread over `ranks` ranks (design §4): routed experts
/// in contiguous id ranges, KV-cache positions in pages of 64 dealt round-robin, LM-head rows in
/// contiguous vocabulary ranges; everything else replicated. Rank 0 is the coordinator. Ranks that
/// share a memory (`memoryDomains`: one host's NUMA node) may run each other's experts.
public struct ShardPlan: Sendable, Equatable {
    public static let pageSize = 64
    public let rank: Int
    public let ranks: Int
    public let expertCount: Int
    /// Per rank, its memory's id (`Collectives.memoryDomains`).
    public let memoryDomains: [Int]

    /// Checks the layout against the model: every rank must own at least one routed expert.
    /// Without `memoryDomains` every rank has a memory of its own.
    public init(rank: Int, ranks: Int, config: ModelConfig, memoryDomains: [Int]? = nil) throws {
        guard ranks >= 1, (0..<ranks).contains(rank) else { throw ModelError("invalid rank \(rank) of \(ranks)") }
        let moe = (0..<config.numHiddenLayers).contains { config.isMoE(layer: $0) }
        if moe && ranks > config.nRoutedExperts {
            throw ModelError("\(ranks) ranks but only \(config.nRoutedExperts) routed experts: every rank must own at least one expert (use at most \(config.nRoutedExperts) ranks)")
        }
        self.rank = rank; self.ranks = ranks; expertCount = moe ? config.nRoutedExperts : 0
        self.memoryDomains = memoryDomains ?? Array(0..<ranks)
        precondition(self.memoryDomains.count == ranks)
    }

    /// The single-process plan.
    public static func single(_ config: ModelConfig) -> ShardPlan { try! ShardPlan(rank: 0, ranks: 1, config: config) }

    /// Routed experts of rank `r` (contiguous; sizes differ by at most one).
    public func experts(of r: Int) -> Range<Int> { (r * expertCount / ranks)..<((r + 1) * expertCount / ranks) }
    /// This rank's routed experts.
    public var experts: Range<Int> { experts(of: rank) }
    /// The rank that owns routed expert `e`.
    func expertOwner(_ e: Int) -> Int { (0..<ranks).first { experts(of: $0).contains(e) }! }
    /// Whether ranks `a` and `b` share a memory.
    func shareMemory(_ a: Int, _ b: Int) -> Bool { memoryDomains[a] == memoryDomains[b] }
    /// Whether this rank may be given routed expert `e`: it, or a rank sharing its memory, owns it.
    public func mayRun(expert e: Int) -> Bool { shareMemory(expertOwner(e), rank) }

    /// Who runs each of a step's `tokens` tokens' `parts` parts of the shared experts, `[tokens][parts]`:
    /// one by one, the rank with the fewest so far (the lowest on ties). It depends on nothing else, so
    /// every rank knows its own before the routing and runs them while the coordinator routes.
    public func sharedRanks(tokens: Int, parts: Int) -> [[Int]] {
        var load = [Int](repeating: 0, count: ranks)
        return (0..<tokens).map { _ in
            (0..<parts).map { _ in
                let r = Self.leastBusy(load.indices, load)
                load[r] += 1
                return r
            }
        }
    }

    /// Of `candidates`, the rank with the least `load`, the lowest on ties.
    private static func leastBusy(_ candidates: some Sequence<Int>, _ load: [Int]) -> Int {
        candidates.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 }!
    }

    /// The rank that runs each routed (token, expert) of a step, `[tokens][experts]`, given each token's
    /// routed experts, after the shared experts' parts (`sharedRanks`, `units` routed experts' work each):
    /// expert by expert, most tokens first, each goes with all its tokens to the least busy rank sharing
    /// its owner's memory (its (token, expert) pairs and shared work so far). Ties go to the lowest rank;
    /// one rank runs everything on the coordinator.
    public func expertRanks(_ routes: [[Int]], sharedParts parts: Int, units: Int) -> [[Int]] {
        var load = [Int](repeating: 0, count: ranks), tokens = [Int](repeating: 0, count: expertCount)
        for r in sharedRanks(tokens: routes.count, parts: parts).joined() { load[r] += units }
        for e in routes.joined() { tokens[e] += 1 }
        var runner = [Int](repeating: 0, count: expertCount)
        for e in tokens.indices.filter({ tokens[$0] > 0 }).sorted(by: { tokens[$0] != tokens[$1] ? tokens[$0] > tokens[$1] : $0 < $1 }) {
            let owner = expertOwner(e)
            runner[e] = Self.leastBusy((0..<ranks).filter { shareMemory($0, owner) }, load)
            load[runner[e]] += tokens[e]
        }
        return routes.map { $0.map { runner[$0] } }
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
