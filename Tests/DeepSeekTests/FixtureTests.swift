import DeepSeek
import Foundation
import Kernels
import XCTest

/// Golden tests against the independent PyTorch reference in Resources/tiny-public (its README
/// describes each file). Tolerance: max |Δlogit| ≤ 1e-3 in fp32 (the two references agree to 1e-5).
final class FixtureTests: XCTestCase {
    static let directory = Bundle.module.path(forResource: "tiny-public", ofType: nil)!
    static let model = try! Transformer(directory: directory)
    static let prompt = try! String(contentsOfFile: directory + "/tokens.txt", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map { Int($0)! }

    func reference(_ name: String) throws -> [Float] { try NPY.read(Self.directory + "/" + name).values }

    func run(_ options: InferenceOptions, chunks: [Int]? = nil) throws -> [Float] {
        let cache = KVCache(config: Self.model.config, options: options, capacity: Self.prompt.count)
        var out = [Float](), start = 0
        for n in chunks ?? [Self.prompt.count] {
            out += try Self.model.forward(Array(Self.prompt[start..<(start + n)]), cache: cache)
            start += n
        }
        return out
    }

    func testExactIndexerMatchesReference() throws {
        let diff = maxAbsDiff(try run(.init(indexer: .f32, kvCache: .f32)), try reference("logits-exact.npy"))
        XCTAssertLessThanOrEqual(diff, 1e-3)
    }

    func testFP8IndexerMatchesReference() throws {
        let diff = maxAbsDiff(try run(.init(indexer: .fp8, kvCache: .f32)), try reference("logits-fp8.npy"))
        XCTAssertLessThanOrEqual(diff, 1e-3)
    }

    func testDenseAttentionMatchesReference() throws {
        let diff = maxAbsDiff(try run(.init(attention: .dense, kvCache: .f32)), try reference("logits-dense.npy"))
        XCTAssertLessThanOrEqual(diff, 1e-3)
    }

    /// Default numerics (bf16 cache, FP8 indexer): reports top-1 agreement with the FP8 reference.
    func testDefaultModeTopOneAgreement() throws {
        let vocab = Self.model.config.vocabSize
        let ours = try run(InferenceOptions()), ref = try reference("logits-fp8.npy")
        let rows = ours.count / vocab
        let agree = (0..<rows).filter { argmax(ours, row: $0, vocab) == argmax(ref, row: $0, vocab) }.count
        print("default mode (bf16 KV cache, fp8 indexer): top-1 agreement with logits-fp8.npy \(agree)/\(rows)")
        XCTAssertGreaterThanOrEqual(Double(agree) / Double(rows), 0.75)
    }

    /// `lmHeadFP8` (the LM head re-encoded as FP8, 128×128 blocks): e4m3 keeps 3 mantissa bits, so
    /// logits move by a few percent of their range (3 % here, on random weights with near ties); the
    /// bound is 5 % of the largest |logit|, and the top token stays the reference's on ¾ of the rows.
    func testFP8HeadStaysNearReference() throws {
        let model = try Transformer(directory: Self.directory, lmHeadFP8: true), vocab = model.config.vocabSize
        let cache = KVCache(config: model.config, options: .init(indexer: .f32, kvCache: .f32), capacity: Self.prompt.count)
        let ours = try model.forward(Self.prompt, cache: cache), ref = try reference("logits-exact.npy")
        let range = ref.map(abs).max()!, diff = maxAbsDiff(ours, ref), rows = ours.count / vocab
        let agree = (0..<rows).filter { argmax(ours, row: $0, vocab) == argmax(ref, row: $0, vocab) }.count
        print("fp8 LM head: max |Δlogit| \(diff) of max |logit| \(range); top-1 agreement \(agree)/\(rows)")
        XCTAssertGreaterThan(diff, 0, "the head was not re-encoded")
        XCTAssertLessThanOrEqual(diff, 0.05 * range)
        XCTAssertGreaterThanOrEqual(Double(agree) / Double(rows), 0.75)
    }

    func testGreedyTokensMatchReference() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/greedy.json"))
        let expected = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["generated"] as! [Int]
        let stepLogits = try reference("greedy-logits.npy"), vocab = Self.model.config.vocabSize
        let cache = KVCache(config: Self.model.config, options: .init(indexer: .f32, kvCache: .f32), capacity: 64)
        var logits = try Self.model.forward(Self.prompt, cache: cache, allLogits: false)
        var generated = [Int]()
        for step in 0..<expected.count {
            XCTAssertLessThanOrEqual(maxAbsDiff(logits, Array(stepLogits[(step * vocab)..<((step + 1) * vocab)])), 1e-3, "step \(step)")
            generated.append(argmax(logits, row: 0, vocab))
            logits = try Self.model.forward([generated.last!], cache: cache, allLogits: false)
        }
        XCTAssertEqual(generated, expected)
    }

    /// Prefill of the whole prompt, token-by-token decode and uneven chunks give the same logits.
    func testChunkedPrefillAndDecodeMatchFullPrefill() throws {
        for options in [InferenceOptions(indexer: .f32, kvCache: .f32), InferenceOptions(indexer: .fp8, kvCache: .f32), InferenceOptions(),
                        InferenceOptions(kvCache: .fp8), InferenceOptions(attention: .dense)] {
            let full = try run(options)
            XCTAssertLessThanOrEqual(maxAbsDiff(full, try run(options, chunks: [10, 7] + Array(repeating: 1, count: 7))), 1e-4, "\(options)")
            XCTAssertLessThanOrEqual(maxAbsDiff(full, try run(options, chunks: Array(repeating: 1, count: 24))), 1e-4, "\(options)")
        }
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "shapes differ: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func argmax(_ v: [Float], row: Int, _ width: Int) -> Int {
    let r = v[(row * width)..<((row + 1) * width)]
    return r.indices.max { r[$0] < r[$1] }! - row * width
}
