import DeepSeek
import Foundation
import XCTest

/// Checkpoints of shapes the fixture does not have, written by `ModelMaker`: they load, and the
/// model's invariants hold (the numpy reference comparison of the same shapes runs in launch/test.sh).
final class ShapeTests: XCTestCase {
    func makeModel(_ overrides: [String: Any], shards: Int = 1) throws -> Transformer {
        let dir = NSTemporaryDirectory() + "dsa-shape-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try ModelMaker(preset: ModelPreset.named("tiny"), overrides: overrides, seed: 7).write(to: dir, shards: shards)
        return try Transformer(directory: dir)
    }

    func logits(_ model: Transformer, _ tokens: [Int], _ options: InferenceOptions, chunk: Int? = nil) throws -> [Float] {
        let cache = KVCache(config: model.config, options: options, capacity: tokens.count)
        var out = [Float](), i = 0
        while i < tokens.count {
            let n = min(chunk ?? tokens.count, tokens.count - i)
            out += try model.forward(Array(tokens[i..<(i + n)]), cache: cache)
            i += n
        }
        return out
    }

    nonisolated(unsafe) static let odd: [String: Any] = ["hidden_size": 200, "num_hidden_layers": 4, "first_k_dense_replace": 2,
                                     "n_routed_experts": 16, "n_group": 8, "topk_group": 3, "num_experts_per_tok": 3,
                                     "intermediate_size": 300, "moe_intermediate_size": 72, "index_topk": 5]

    func testOddShapesInShardsRunConsistently() throws {
        let model = try makeModel(Self.odd, shards: 3)
        let tokens = (0..<20).map { ($0 * 37 + 11) % 1024 }
        let full = try logits(model, tokens, InferenceOptions(indexer: .f32, kvCache: .f32))
        XCTAssertTrue(full.allSatisfy(\.isFinite))
        XCTAssertLessThanOrEqual(maxAbsDiff(full, try logits(model, tokens, InferenceOptions(indexer: .f32, kvCache: .f32), chunk: 1)), 1e-4)
        // Sparse attention really drops keys here (20 positions, top 5): it must differ from dense.
        XCTAssertGreaterThan(maxAbsDiff(full, try logits(model, tokens, InferenceOptions(attention: .dense, kvCache: .f32))), 1e-3)
    }

    func testSparseEqualsDenseWhileEveryKeyIsSelected() throws {
        let model = try makeModel(["index_topk": 64])
        let tokens = (0..<30).map { ($0 * 53 + 5) % 1024 }
        let sparse = try logits(model, tokens, InferenceOptions(kvCache: .f32))
        XCTAssertLessThanOrEqual(maxAbsDiff(sparse, try logits(model, tokens, InferenceOptions(attention: .dense, kvCache: .f32))), 1e-5)
    }

    func testDeepSeekV3CheckpointRunsDenseMLA() throws {
        let model = try makeModel(["model_type": "deepseek_v3"])
        XCTAssertFalse(model.config.hasIndexer)
        let tokens = Array(0..<12)
        XCTAssertLessThanOrEqual(maxAbsDiff(try logits(model, tokens, InferenceOptions(kvCache: .f32)),
                                            try logits(model, tokens, InferenceOptions(kvCache: .f32), chunk: 5)), 1e-4)
    }

    func testRealVocabularyAndNoQLora() throws {
        let model = try makeModel(["vocab_size": 129280, "q_lora_rank": NSNull(), "model_type": "deepseek_v3"])
        let out = try logits(model, [0, 129279, 128803], InferenceOptions())
        XCTAssertEqual(out.count, 3 * 129280)
        XCTAssertTrue(out.allSatisfy(\.isFinite))
    }
}
