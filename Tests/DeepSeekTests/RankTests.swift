import DeepSeek
import Foundation
import Kernels
import XCTest

/// Sharding over N simulated ranks (threads) gives the single-process answer: experts split into
/// contiguous ranges (also when N does not divide the expert count) and run by any rank sharing
/// the owner's memory, KV pages dealt round-robin, the indexer's global top-k merged from local
/// lists, attention partials merged exactly.
final class RankTests: XCTestCase {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "dsa-ranks-\(UUID().uuidString)"
        try! ModelMaker(preset: ModelPreset.named("tiny"), overrides: ["index_topk": 40, "n_routed_experts": 12, "n_group": 4,
                                                                      "topk_group": 2, "num_experts_per_tok": 3,
                                                                      "n_shared_experts": 2, "moe_intermediate_size": 128], seed: 3).write(to: dir)
        return dir
    }()
    static let prompt = (0..<300).map { ($0 * 7919 + 13) % 1024 }

    /// Rank 0's logits of a chunked prefill (250 tokens, then 50 one by one) on `ranks` ranks,
    /// sharing one memory unless `memoryDomains` says otherwise.
    func logits(ranks: Int, memoryDomains: [Int]? = nil, _ options: InferenceOptions) throws -> [Float] {
        let checkpoint = try Checkpoint(directory: Self.directory)
        return try ThreadRanks.run(ranks, memoryDomains: memoryDomains) { comm in
            let model = try Transformer(checkpoint: checkpoint, comm: comm)
            let cache = model.makeCache(options: options, capacity: Self.prompt.count)
            var out = try model.forward(Array(Self.prompt[0..<250]), cache: cache)
            for t in Self.prompt[250...] { out += try model.forward([t], cache: cache) }
            return out
        }[0]
    }

    func testEveryRankCountMatchesOneProcess() throws {
        for options in [InferenceOptions(), InferenceOptions(indexer: .f32, kvCache: .f32), InferenceOptions(attention: .dense)] {
            let single = try logits(ranks: 1, options)
            for ranks in [2, 3, 4, 5] {
                let diff = maxAbsDiff(try logits(ranks: ranks, options), single)
                print("\(ranks) simulated ranks, \(options.attention)/\(options.indexer)/\(options.kvCache): max |Δlogit| vs 1 rank = \(diff)")
                XCTAssertLessThanOrEqual(diff, 1e-4, "\(ranks) ranks, \(options)")
            }
            // Each rank its own memory (as on several hosts: every expert on its owner), and two memories of two and three ranks.
            for domains in [[0, 1, 2], [0, 0, 1, 1, 1]] {
                let diff = maxAbsDiff(try logits(ranks: domains.count, memoryDomains: domains, options), single)
                print("\(domains.count) simulated ranks in memories \(domains): max |Δlogit| vs 1 rank = \(diff)")
                XCTAssertLessThanOrEqual(diff, 1e-4, "memories \(domains), \(options)")
            }
        }
    }

    func testPlanSplitsExpertsAndPages() throws {
        let config = try ModelConfig.load(directory: Self.directory)
        let plans = try (0..<5).map { try ShardPlan(rank: $0, ranks: 5, config: config) }
        XCTAssertEqual(plans.map(\.experts), [0..<2, 2..<4, 4..<7, 7..<9, 9..<12])
        XCTAssertEqual(plans.map { $0.localCount(300) }.reduce(0, +), 300)
        for p in [0, 63, 64, 299, 320] {
            let plan = plans[plans[0].owner(of: p)]
            XCTAssertEqual(plan.position(ofLocalRow: plan.localRow(p)), p)
        }
        // Row shares (the LM head's vocabulary, a dense MLP's rows) in whole 128-row blocks.
        XCTAssertEqual((0..<2).map { ShardPlan.rowBlocks(of: $0, ranks: 2, count: 200) }, [0..<128, 128..<200])
        XCTAssertEqual((0..<3).map { ShardPlan.rowBlocks(of: $0, ranks: 3, count: 128) }, [0..<0, 0..<0, 0..<128])
        // The shared experts' parts go first, one by one, to the rank with the fewest so far (the lowest on ties),
        // from the token count alone; apart (each rank its own memory) a routed expert runs on its owner.
        XCTAssertEqual(plans[0].sharedRanks(tokens: 1, parts: 1), [[0]])
        XCTAssertEqual(plans[0].sharedRanks(tokens: 3, parts: 2), [[0, 1], [2, 3], [4, 0]])
        let two = try ShardPlan(rank: 1, ranks: 2, config: config)  // experts 0..<6 and 6..<12
        XCTAssertEqual(two.expertRanks([[0, 1, 7], [2, 3, 4], [8, 9, 10]], sharedParts: 1, units: 1), [[0, 0, 1], [0, 0, 0], [1, 1, 1]])
        XCTAssertEqual(two.sharedRanks(tokens: 3, parts: 1), [[0], [1], [0]])
        XCTAssertEqual(ShardPlan.single(config).sharedRanks(tokens: 2, parts: 2), [[0, 0], [0, 0]])
        // Sharing a memory, experts go with all their tokens to the least busy rank counting the shared work
        // (three parts of one unit each), the most tokens first: expert 1 (three tokens) to rank 0 (a tie),
        // 0 (two) to rank 1, then 2 to rank 1 (5 against 6) and 3 to rank 0 (a tie).
        let shared = try ShardPlan(rank: 0, ranks: 2, config: config, memoryDomains: [0, 0])
        XCTAssertEqual(shared.sharedRanks(tokens: 3, parts: 2), [[0, 1], [0, 1], [0, 1]])
        XCTAssertEqual(shared.expertRanks([[0, 1], [1, 2], [0, 1, 3]], sharedParts: 2, units: 1), [[1, 0], [0, 1], [1, 0, 0]])
        // Shared work in routed experts' units: two units on rank 0 send the first routed expert to rank 1.
        XCTAssertEqual(shared.expertRanks([[5]], sharedParts: 1, units: 2), [[1]])
        XCTAssertTrue((0..<12).allSatisfy(shared.mayRun))
        // Two memories of three ranks: rank 1 shares with rank 2 only.
        let split = try ShardPlan(rank: 1, ranks: 3, config: config, memoryDomains: [0, 1, 1])  // experts 0..<4, 4..<8, 8..<12
        XCTAssertEqual((0..<12).filter(split.mayRun), Array(4..<12))
        XCTAssertEqual(split.expertRanks([[0, 1, 2], [4, 5, 6]], sharedParts: 0, units: 1), [[0, 0, 0], [1, 2, 1]])
        XCTAssertThrowsError(try ShardPlan(rank: 0, ranks: 13, config: config)) { error in
            XCTAssertTrue("\(error)".contains("13 ranks but only 12 routed experts"), "\(error)")
        }
    }

    /// Sequences batched into one step (some prefilling, some decoding) get exactly the logits
    /// they get alone, on one rank and on three.
    func testBatchedSequencesMatchSeparateRuns() throws {
        let checkpoint = try Checkpoint(directory: Self.directory)
        let prompts = [Array(Self.prompt[0..<150]), Array(Self.prompt[100..<103]), Array(Self.prompt[7..<90])]
        for ranks in [1, 3] {
            let results = try ThreadRanks.run(ranks) { comm -> [Float] in
                let model = try Transformer(checkpoint: checkpoint, comm: comm)
                var alone = [Float]()
                for p in prompts {
                    let cache = model.makeCache(options: InferenceOptions(), capacity: 200)
                    alone += try model.forward(p, cache: cache) + model.forward([5, 6], cache: cache)
                }
                let caches = prompts.map { _ in model.makeCache(options: InferenceOptions(), capacity: 200) }
                let first = try model.forward(Array(zip(prompts, caches)))
                let second = try model.forward(caches.map { ([5, 6], $0) })
                let batched = zip(first, second).flatMap { $0 + $1 }
                return comm.isCoordinator ? [maxAbsDiff(alone, batched)] : []
            }
            XCTAssertEqual(results[0], [0], "\(ranks) ranks")
        }
    }
}
