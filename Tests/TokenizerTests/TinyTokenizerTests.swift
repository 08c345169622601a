import Foundation
import Tokenizer
import XCTest

/// A hand-made tokenizer.json: the 256 byte tokens (ids = byte values) plus a few merges,
/// with DeepSeek's pre-tokenizer and decoder.
enum TinyTokenizer {
    /// Extra tokens after the bytes: id 256 onwards.
    static let words = ["he", "ll", "hell", "hello", "aa", "xyz"]

    /// The file's JSON; each argument replaces one part of it.
    static func json(
        modelType: String = "BPE", merges: [[String]] = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["a", "a"]],
        ignoreMerges: Bool = false, vocabWithoutBytes: Bool = false, preTokenizer: String? = nil,
        normalizer: String = "null", decoder: String = #"{"type": "ByteLevel"}"#, addedToken: String? = nil
    ) -> String {
        var vocab: [String: Int] = [:]
        if !vocabWithoutBytes {
            for (byte, spelling) in byteSpellings.enumerated() { vocab[spelling] = byte }
        }
        for (offset, word) in words.enumerated() { vocab[word] = 256 + offset }
        let model: [String: Any] = ["type": modelType, "vocab": vocab, "merges": merges, "ignore_merges": ignoreMerges]
        func text(_ object: Any) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        return """
            {"added_tokens": [\(addedToken ?? #"{"id": 300, "content": "<eos>", "special": true}"#)],
             "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer ?? deepSeekPreTokenizer),
             "post_processor": null, "decoder": \(decoder), "model": \(text(model))}
            """
    }

    /// GPT-2's byte-level spelling of each byte: printable Latin-1 as itself, the rest from U+0100.
    static let byteSpellings: [String] = {
        var next: UInt32 = 256
        return (0..<256).map { (byte: UInt32) in
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                return String(Unicode.Scalar(byte)!)
            }
            defer { next += 1 }
            return String(Unicode.Scalar(next)!)
        }
    }()

    /// The `pre_tokenizer` object of DeepSeek-V3's tokenizer.json, as JSON text.
    static let deepSeekPreTokenizer: String = {
        let url = URL(fileURLWithPath: Fixture.directory).appendingPathComponent("tokenizer.json")
        let file = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return String(decoding: try! JSONSerialization.data(withJSONObject: file["pre_tokenizer"]!), as: UTF8.self)
    }()

    /// A tokenizer from `json`.
    static func load(_ json: String, config: String = #"{"eos_token": {"content": "<eos>"}}"#) throws -> Tokenizer {
        try Tokenizer(directory: Fixture.folder(["tokenizer.json": json, "tokenizer_config.json": config]))
    }
}

final class TinyTokenizerTests: XCTestCase {
    func testMergesInArrayFormat() throws {
        let tokenizer = try TinyTokenizer.load(TinyTokenizer.json())
        XCTAssertEqual(tokenizer.encode("hello"), [259])
        XCTAssertEqual(tokenizer.encode("hell"), [258])
        XCTAssertEqual(tokenizer.encode("hel"), [256, 108])
        XCTAssertEqual(tokenizer.encode("aaaaa"), [260, 260, 97], "equal ranks merge leftmost first")
        XCTAssertEqual(tokenizer.encode("xyz"), [120, 121, 122])
        XCTAssertEqual(tokenizer.encode("hello<eos>"), [259, 300])
        XCTAssertEqual(tokenizer.eosToken, 300)
        XCTAssertNil(tokenizer.bosToken)
        XCTAssertEqual(tokenizer.vocabularySize, 301)
        XCTAssertEqual(try tokenizer.decode([259, 300, 32]), "hello<eos> ")
        XCTAssertEqual(try tokenizer.decode([259, 300], skipSpecial: true), "hello")
    }

    func testIgnoreMergesTakesWholeVocabularyWords() throws {
        let tokenizer = try TinyTokenizer.load(TinyTokenizer.json(ignoreMerges: true))
        XCTAssertEqual(tokenizer.encode("xyz"), [261])
        XCTAssertEqual(tokenizer.encode("hello"), [259])
    }

    func testNoConfig() throws {
        let tokenizer = try Tokenizer(directory: Fixture.folder(["tokenizer.json": TinyTokenizer.json()]))
        XCTAssertNil(tokenizer.eosToken)
        XCTAssertEqual(tokenizer.encode("hello"), [259])
    }
}
