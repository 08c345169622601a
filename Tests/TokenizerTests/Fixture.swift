import Foundation
import Tokenizer

/// The test resources: DeepSeek-V3's tokenizer files and the corpus made by Tests/tokenizer/make_corpus.py.
enum Fixture {
    /// The Resources folder.
    static let resources = Bundle.module.url(forResource: "Resources", withExtension: nil)!
    /// The folder with DeepSeek-V3's tokenizer.json and tokenizer_config.json (shipped with the module).
    static let directory = Tokenizer.bundledDirectory!
    /// DeepSeek-V3's tokenizer, loaded once.
    static let tokenizer = try! Tokenizer(directory: directory)

    /// One corpus line: a text and the ids `tokenizers` gives it.
    struct Line: Decodable {
        let text: String
        let ids: [Int]
        /// The ids without added-token matching, where they differ from `ids`.
        let plainIds: [Int]?

        enum CodingKeys: String, CodingKey {
            case text, ids
            case plainIds = "plain_ids"
        }
    }

    /// The corpus at $TOKENIZER_CORPUS if set (e.g. a 1 MB one), else the test resource.
    static func corpus() throws -> (path: String, lines: [Line]) {
        let path = ProcessInfo.processInfo.environment["TOKENIZER_CORPUS"]
            ?? resources.appendingPathComponent("corpus.jsonl").path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        let lines = try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(Line.self, from: Data($0)) }
        return (path, lines)
    }

    /// A random id sequence and its text as `tokenizers` decodes it.
    struct DecodeCase: Decodable {
        let ids: [Int]
        let text: String
        let textSkipSpecial: String

        enum CodingKeys: String, CodingKey {
            case ids, text
            case textSkipSpecial = "text_skip_special"
        }
    }

    /// The decode cases made by Tests/tokenizer/make_corpus.py.
    static func decodeCases() throws -> [DecodeCase] {
        let data = try Data(contentsOf: resources.appendingPathComponent("decode.jsonl"))
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(DecodeCase.self, from: Data($0)) }
    }

    /// A fresh temporary folder holding the given files (name → contents).
    static func folder(_ files: [String: String]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return url.path
    }
}
