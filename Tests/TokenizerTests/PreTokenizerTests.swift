import Foundation
import Tokenizer
import XCTest

/// Pre-tokenization must cut text where `tokenizers` does, for every Unicode code point.
final class PreTokenizerTests: XCTestCase {
    /// Redoes Tests/tokenizer/make_probes.py: the piece lengths of " " + c + "a" and c + c + "."
    /// for every code point c, run-length coded, must equal those `tokenizers` gave.
    func testEveryCodePointClassifiesLikeTokenizers() throws {
        let url = Fixture.resources.appendingPathComponent("pretokenizer_probes.json")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[Any]]
        let tokenizer = Fixture.tokenizer
        var runs: [(first: UInt32, code: String)] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let c = String(Character(scalar))
            let code = [" " + c + "a", c + c + "."].map { probe in
                tokenizer.preTokenize(probe).map { String($0.utf8.count) }.joined(separator: ",")
            }.joined(separator: "/")
            if runs.last?.code != code { runs.append((value, code)) }
        }
        let expectedRuns = expected.map { (first: UInt32($0[0] as! Int), code: $0[1] as! String) }
        let firstDifference = zip(runs, expectedRuns).first { $0.first != $1.first || $0.code != $1.code }
        XCTAssertNil(firstDifference.map { "U+\(String($0.0.first, radix: 16)) \($0.0.code) vs U+\(String($0.1.first, radix: 16)) \($0.1.code)" })
        XCTAssertEqual(runs.count, expectedRuns.count)
    }

    func testExamples() {
        let tokenizer = Fixture.tokenizer
        let cases: [(String, [String])] = [
            ("Hello, world!", ["Hello", ",", " world", "!"]),
            ("1234567", ["123", "456", "7"]),
            ("日本語のテキスト。English", ["日本語のテキスト", "。", "English"]),
            ("a  \n\n  b", ["a", "  \n\n", " ", " b"]),
            ("x   ", ["x", "   "]),
            ("it's .NET", ["it", "'s", " .", "NET"]),
            ("e\u{301}clair", ["e\u{301}clair"]),
        ]
        for (text, pieces) in cases { XCTAssertEqual(tokenizer.preTokenize(text), pieces, text) }
    }
}
