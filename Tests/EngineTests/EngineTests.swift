import DeepSeek
import Engine
import Foundation
import Kernels
import XCTest

/// The engine: batched decoding equals decoding each request alone; sampling is seeded per
/// request; bad sampling values are refused with the field named.
final class EngineTests: XCTestCase {
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "dsa-engine-\(UUID().uuidString)"
        try! ModelMaker(preset: ModelPreset.named("tiny"), overrides: ["index_topk": 16], seed: 4).write(to: dir)
        return dir
    }()

    func params(_ temperature: Float, seed: UInt64, maxTokens: Int = 12) -> SamplingParams {
        var p = SamplingParams()
        p.temperature = temperature; p.seed = seed; p.maxTokens = maxTokens; p.ignoreEos = true
        p.topK = 50; p.topP = 0.9; p.minP = 0.01; p.repetitionPenalty = 1.1; p.presencePenalty = 0.2; p.frequencyPenalty = 0.1
        return p
    }

    func run(_ requests: [([Int], SamplingParams)], maxBatch: Int, ranks: Int = 1) throws -> [[Int]] {
        let checkpoint = try Checkpoint(directory: Self.directory)
        return try ThreadRanks.run(ranks) { comm -> [[Int]] in
            let engine = LLMEngine(model: try Transformer(checkpoint: checkpoint, comm: comm), options: InferenceOptions(),
                                   maxBatch: maxBatch, prefillChunk: 7)
            guard comm.isCoordinator else { try engine.serve(); return [] }
            let seqs = try requests.map { try engine.add(prompt: $0.0, params: $0.1) }
            while engine.hasWork { try engine.step() }
            engine.stopWorkers()
            return seqs.map(\.generated)
        }[0]
    }

    func testBatchedRequestsEqualSoloRunsOnAnyRankCount() throws {
        var requests = [([Int], SamplingParams)]()
        for i in 0..<6 {
            let prompt = (0..<(5 + 4 * i)).map { ($0 * 31 + i * 7) % 1024 }
            requests.append((prompt, params(i % 2 == 0 ? 0 : 0.9, seed: UInt64(i))))
        }
        let solo = try requests.map { try run([$0], maxBatch: 1)[0] }
        XCTAssertEqual(try run(requests, maxBatch: 4), solo)
        XCTAssertEqual(try run(requests, maxBatch: 3, ranks: 2), solo)
        XCTAssertNotEqual(solo[1], try run([(requests[1].0, params(0.9, seed: 99))], maxBatch: 1)[0], "the seed matters")
    }

    func testInvalidSamplingValuesAreRefused() {
        let cases: [(String, (inout SamplingParams) -> Void)] = [
            ("temperature", { $0.temperature = -1 }), ("top_p", { $0.topP = 1.5 }), ("top_p", { $0.topP = 0 }),
            ("max_tokens", { $0.maxTokens = 0 }), ("min_p", { $0.minP = 2 }), ("top_k", { $0.topK = -3 }),
        ]
        for (field, edit) in cases {
            var p = SamplingParams()
            edit(&p)
            XCTAssertThrowsError(try p.validate()) { XCTAssertTrue("\($0)".contains(field), "\($0)") }
        }
    }

    func testGreedyIgnoresSamplingFilters() {
        var p = SamplingParams()
        p.topK = 1
        var sampler = Sampler(params: p)
        XCTAssertEqual(sampler.sample([0.1, 3, -2, 2.9], prompt: [], generated: []), 1)
        p.repetitionPenalty = 2
        sampler = Sampler(params: p)
        XCTAssertEqual(sampler.sample([0.1, 3, -2, 2.9], prompt: [1], generated: []), 3, "3/2 < 2.9")
    }
}
