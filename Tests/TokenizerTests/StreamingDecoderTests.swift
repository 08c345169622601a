import Tokenizer
import XCTest

/// Characters split across tokens come out whole, once complete.
final class StreamingDecoderTests: XCTestCase {
    func testSplitCharactersAreHeldBack() throws {
        let tokenizer = Fixture.tokenizer
        for text in ["😀", "👨‍👩‍👧‍👦 family", "𠀀龘 rare CJK", "🇺🇸🇯🇵", "mixed 日本語 é 😀 text<｜end▁of▁sentence｜>"] {
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var pieces: [String] = []
            for id in tokenizer.encode(text) { pieces.append(try decoder.feed(id)) }
            pieces.append(decoder.finish())
            XCTAssertEqual(pieces.joined(), text)
            XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "\(pieces)")
        }
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(tokenizer.encode("😀"), [28927, 225])
        XCTAssertEqual(try decoder.feed(28927), "")
        XCTAssertEqual(try decoder.feed(225), "😀")
        XCTAssertEqual(decoder.finish(), "")
    }

    func testFinishFlushesUnfinishedCharacter() throws {
        var decoder = StreamingDecoder(tokenizer: Fixture.tokenizer)
        XCTAssertEqual(try decoder.feed(33310), "hello")
        XCTAssertEqual(try decoder.feed(28927), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}")
        XCTAssertEqual(try decoder.feed(33310), "hello")
    }

    func testSkipSpecialAndUnknownIDs() throws {
        var decoder = StreamingDecoder(tokenizer: Fixture.tokenizer, skipSpecial: true)
        XCTAssertEqual(try decoder.feed(0), "")
        XCTAssertEqual(try decoder.feed(28927), "")
        XCTAssertThrowsError(try decoder.feed(-5)) { XCTAssertEqual($0 as? TokenizerError, .unknownTokenID(-5)) }
        XCTAssertEqual(try decoder.feed(225), "😀")
    }

    func testStreamEqualsDecodeOnCorpus() throws {
        let tokenizer = Fixture.tokenizer
        for line in try Fixture.corpus().lines.prefix(200) {
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var text = ""
            for id in line.ids { text += try decoder.feed(id) }
            text += decoder.finish()
            XCTAssertEqual(text, try tokenizer.decode(line.ids))
        }
    }
}
