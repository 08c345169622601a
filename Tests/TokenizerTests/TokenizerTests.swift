import Foundation
import Tokenizer
import XCTest

/// The DeepSeek tokenizer's fixed facts (spec §10) and its error handling.
final class TokenizerTests: XCTestCase {
    /// DeepSeek's own V3.2 README example, as text and ids.
    static let specText = "<｜begin▁of▁sentence｜><｜User｜>hello<｜Assistant｜></think>Hello! I am DeepSeek.<｜end▁of▁sentence｜>"
        + "<｜User｜>1+1=?<｜Assistant｜><think>"
    static let specIDs = [
        0, 128803, 33310, 128804, 128799, 19923, 3, 342, 1030, 22651, 4374, 1465, 16, 1, 128803, 19, 13, 19, 127252,
        128804, 128798,
    ]

    func testSpecVector() throws {
        let tokenizer = Fixture.tokenizer
        XCTAssertEqual(tokenizer.encode(Self.specText), Self.specIDs)
        XCTAssertEqual(try tokenizer.decode(Self.specIDs), Self.specText)
        let withoutSpecial = Self.specText.replacingOccurrences(of: "<｜begin▁of▁sentence｜>", with: "")
            .replacingOccurrences(of: "<｜end▁of▁sentence｜>", with: "")
        XCTAssertEqual(try tokenizer.decode(Self.specIDs, skipSpecial: true), withoutSpecial)
    }

    func testKnownIDs() {
        let tokenizer = Fixture.tokenizer
        XCTAssertEqual(tokenizer.bosToken, 0)
        XCTAssertEqual(tokenizer.eosToken, 1)
        XCTAssertEqual(tokenizer.vocabularySize, 128_815)
        let known = [
            "<｜▁pad▁｜>": 2, "<think>": 128_798, "</think>": 128_799, "<｜User｜>": 128_803, "<｜Assistant｜>": 128_804,
            "<|EOT|>": 128_805, "Ġthe": 270, "hello": 33310,
        ]
        for (token, id) in known { XCTAssertEqual(tokenizer.id(of: token), id, token) }
        XCTAssertNil(tokenizer.id(of: "<｜no▁such▁token｜>"))
    }

    func testEdgeTexts() throws {
        let tokenizer = Fixture.tokenizer
        XCTAssertEqual(tokenizer.encode(""), [])
        XCTAssertEqual(try tokenizer.decode([]), "")
        XCTAssertEqual(tokenizer.encode("<｜User｜>", allowSpecial: false).contains(128_803), false)
        let text = "x<｜end▁of▁sentence｜>"
        XCTAssertEqual(tokenizer.encode(text).last, 1)
        XCTAssertEqual(try tokenizer.decode(tokenizer.encode(text, allowSpecial: false)), text)
    }

    func testUnknownIDsThrow() {
        let tokenizer = Fixture.tokenizer
        for id in [-1, tokenizer.vocabularySize, 1 << 40] {
            XCTAssertThrowsError(try tokenizer.decode([5, id])) { error in
                XCTAssertEqual(error as? TokenizerError, .unknownTokenID(id))
                XCTAssertTrue("\(error)".contains("\(id)"))
            }
        }
    }

    func testMissingFile() throws {
        let folder = try Fixture.folder([:])
        XCTAssertThrowsError(try Tokenizer(directory: folder)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingFile(path: folder + "/tokenizer.json"))
            XCTAssertTrue("\(error)".contains("tokenizer.json"))
        }
    }

    func testMalformedFiles() throws {
        try expectMalformed(["tokenizer.json": "{"], naming: "tokenizer.json")
        try expectMalformed(["tokenizer.json": #"{"added_tokens": [], "model": {"type": "BPE", "vocab": [], "merges": []}}"#],
                            naming: "tokenizer.json", problem: "vocab")
        try expectMalformed(["tokenizer.json": TinyTokenizer.json(merges: [["x", "missing"]])],
                            naming: "tokenizer.json", problem: "merge 0")
        try expectMalformed(["tokenizer.json": TinyTokenizer.json(vocabWithoutBytes: true)],
                            naming: "tokenizer.json", problem: "byte")
        try expectMalformed(["tokenizer.json": TinyTokenizer.json(), "tokenizer_config.json": #"{"bos_token": "<nope>"}"#],
                            naming: "tokenizer_config.json", problem: "<nope>")
        try expectMalformed(["tokenizer.json": TinyTokenizer.json(), "tokenizer_config.json": "[1,"],
                            naming: "tokenizer_config.json")
    }

    func testUnsupportedFeatures() throws {
        let cases: [(json: String, feature: String)] = [
            (TinyTokenizer.json(modelType: "WordPiece"), "WordPiece"),
            (TinyTokenizer.json(preTokenizer: #"{"type": "Whitespace"}"#), "pre_tokenizer Whitespace"),
            (TinyTokenizer.json(decoder: #"{"type": "WordPiece"}"#), "decoder"),
            (TinyTokenizer.json(normalizer: #"{"type": "NFC"}"#), "normalizer NFC"),
            (TinyTokenizer.json(addedToken: #"{"id": 300, "content": "<x>", "lstrip": true}"#), "<x>"),
        ]
        for (json, feature) in cases {
            let folder = try Fixture.folder(["tokenizer.json": json])
            XCTAssertThrowsError(try Tokenizer(directory: folder)) { error in
                guard case .unsupported(let path, let found)? = error as? TokenizerError else {
                    return XCTFail("expected unsupported \(feature), got \(error)")
                }
                XCTAssertEqual(path, folder + "/tokenizer.json")
                XCTAssertTrue(found.contains(feature), "\(found) should name \(feature)")
            }
        }
    }

    private func expectMalformed(_ files: [String: String], naming file: String, problem: String? = nil,
                                 line: UInt = #line) throws {
        let folder = try Fixture.folder(files)
        XCTAssertThrowsError(try Tokenizer(directory: folder), line: line) { error in
            guard case .malformedFile(let path, let found)? = error as? TokenizerError else {
                return XCTFail("expected malformed \(file), got \(error)", line: line)
            }
            XCTAssertEqual(path, folder + "/" + file, line: line)
            if let problem { XCTAssertTrue(found.contains(problem), "\(found) should mention \(problem)", line: line) }
            XCTAssertTrue("\(error)".contains(file), line: line)
        }
    }
}
