import Foundation
import Tokenizer
import XCTest

/// Every corpus line must encode to exactly the ids `tokenizers` gives and decode back to its text.
final class CorpusTests: XCTestCase {
    func testIdsMatchTokenizersExactly() throws {
        let tokenizer = Fixture.tokenizer
        let (path, lines) = try Fixture.corpus()
        XCTAssertGreaterThan(lines.count, 100)
        var mismatches = 0
        var plainLines = 0
        for (number, line) in lines.enumerated() {
            let ids = tokenizer.encode(line.text)
            if ids != line.ids {
                mismatches += 1
                if mismatches <= 5 { XCTFail("line \(number + 1) \(line.text.debugDescription): got \(ids), expected \(line.ids)") }
            }
            XCTAssertEqual(try tokenizer.decode(ids), line.text, "line \(number + 1) does not round-trip")
            let plain = tokenizer.encode(line.text, allowSpecial: false)
            XCTAssertEqual(plain, line.plainIds ?? line.ids, "line \(number + 1) without added tokens")
            if line.plainIds != nil { plainLines += 1 }
        }
        print("Tokenizer corpus \(path): \(lines.count) lines (\(plainLines) with added tokens), \(mismatches) mismatches")
        XCTAssertEqual(mismatches, 0)
    }

    func testDecodeMatchesTokenizers() throws {
        let tokenizer = Fixture.tokenizer
        let cases = try Fixture.decodeCases()
        XCTAssertGreaterThan(cases.count, 100)
        for item in cases {
            XCTAssertEqual(try tokenizer.decode(item.ids), item.text, "\(item.ids)")
            XCTAssertEqual(try tokenizer.decode(item.ids, skipSpecial: true), item.textSkipSpecial, "\(item.ids)")
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var streamed = ""
            for id in item.ids { streamed += try decoder.feed(id) }
            XCTAssertEqual(streamed + decoder.finish(), item.text, "streamed \(item.ids)")
        }
    }

    func testBatchEqualsSingle() throws {
        let tokenizer = Fixture.tokenizer
        let lines = try Fixture.corpus().lines
        XCTAssertEqual(tokenizer.encodeBatch(lines.map(\.text)), lines.map(\.ids))
        XCTAssertEqual(tokenizer.encodeBatch([]), [])
    }

    /// Prints encode throughput on the corpus; Tests/tokenizer/compare_speed.py prints `tokenizers`'.
    func testEncodeThroughput() throws {
        let tokenizer = Fixture.tokenizer
        let (path, lines) = try Fixture.corpus()
        let texts = lines.map(\.text)
        let joined = texts.joined(separator: "\n")
        let megabytes = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
        func best(_ body: () -> Void) -> Double {
            (0..<5).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }.min()!
        }
        let single = best { for text in texts { _ = tokenizer.encode(text) } }
        let batch = best { _ = tokenizer.encodeBatch(texts) }
        let whole = best { _ = tokenizer.encode(joined) }
        print(String(
            format: "Tokenizer encode throughput on %@ (%.3f MB): %.2f MB/s per line (1 thread), %.2f MB/s encodeBatch (%d cores), %.2f MB/s as one string",
            path, megabytes, megabytes / single, megabytes / batch, ProcessInfo.processInfo.activeProcessorCount, megabytes / whole))
    }
}
