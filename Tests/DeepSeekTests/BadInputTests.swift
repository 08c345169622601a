import DeepSeek
import Foundation
import XCTest

/// Broken checkpoints and requests give one clear error naming the file, tensor or field.
final class BadInputTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "dsa-bad-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: FixtureTests.directory, toPath: dir)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func assertLoadFails(containing parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Transformer(directory: dir), file: file, line: line) { error in
            let message = "\(error)"
            for p in parts { XCTAssertTrue(message.contains(p), "\"\(message)\" should mention \"\(p)\"", file: file, line: line) }
        }
    }

    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        let path = dir + "/config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
    }

    /// Rewrites the safetensors header (same data bytes) after `edit`.
    func editHeader(_ edit: (inout [String: Any]) -> Void) throws {
        let path = dir + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as! [String: Any]
        edit(&header)
        let json = try JSONSerialization.data(withJSONObject: header)
        var length = UInt64(json.count)
        try (Data(bytes: &length, count: 8) + json + data[(8 + n)...]).write(to: URL(fileURLWithPath: path))
    }

    func testMissingDirectory() {
        dir += "-nonexistent"
        assertLoadFails(containing: ["config.json", "no such file"])
    }

    func testMalformedConfig() throws {
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        assertLoadFails(containing: ["config.json", "not valid JSON"])
    }

    func testMissingConfigField() throws {
        try editConfig { $0["hidden_size"] = nil }
        assertLoadFails(containing: ["config.json", "\"hidden_size\"", "missing"])
    }

    func testInconsistentConfig() throws {
        try editConfig { $0["n_routed_experts"] = 6 }
        assertLoadFails(containing: ["n_routed_experts (6)", "n_group (4)"])
    }

    func testMissingSafetensors() throws {
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        assertLoadFails(containing: [dir, "no model.safetensors"])
    }

    func testTruncatedSafetensors() throws {
        let path = dir + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        assertLoadFails(containing: ["model.safetensors", "truncated"])
    }

    func testMalformedHeader() throws {
        let path = dir + "/model.safetensors"
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data.replaceSubrange(8..<20, with: Array("@@@@@@@@@@@@".utf8))
        try data.write(to: URL(fileURLWithPath: path))
        assertLoadFails(containing: ["model.safetensors", "header is not valid JSON"])
    }

    func testMissingTensor() throws {
        try editHeader { $0["model.layers.1.self_attn.o_proj.weight"] = nil }
        assertLoadFails(containing: ["model.layers.1.self_attn.o_proj.weight", "missing", "[64, 64]"])
    }

    func testWrongShape() throws {
        try editConfig { $0["vocab_size"] = 1000 }
        assertLoadFails(containing: ["model.embed_tokens.weight", "[1024, 64]", "expected [1000, 64]"])
    }

    func testWrongDtype() throws {
        try editHeader { h in
            var e = h["model.layers.0.self_attn.q_a_proj.weight"] as! [String: Any]
            e["dtype"] = "U8"
            h["model.layers.0.self_attn.q_a_proj.weight"] = e
        }
        assertLoadFails(containing: ["model.layers.0.self_attn.q_a_proj.weight", "dtype U8", "F8_E4M3"])
    }

    func testTokenOutOfRange() throws {
        let model = try Transformer(directory: dir)
        let cache = KVCache(config: model.config, options: InferenceOptions(), capacity: 8)
        XCTAssertThrowsError(try model.forward([3, 5000], cache: cache)) { error in
            XCTAssertTrue("\(error)".contains("token id 5000 at index 1"), "\(error)")
        }
    }

    func testContextOverflow() throws {
        let model = try Transformer(directory: dir)
        let cache = KVCache(config: model.config, options: InferenceOptions(), capacity: 2)
        XCTAssertThrowsError(try model.forward([3, 4, 5], cache: cache)) { error in
            XCTAssertTrue("\(error)".contains("context overflow"), "\(error)")
        }
    }
}
