/// DeepSeek-V3's pre-tokenizer: a Sequence of three `Split` pre-tokenizers (behaviour Isolated),
/// each applied to every piece the previous one produced, compiled by hand from its patterns:
///
/// 1. `\p{N}{1,3}`
/// 2. `[一-龥぀-ゟ゠-ヿ]+`
/// 3. ``[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|``
///    `` ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`` (the file has raw CR and LF for `\r\n`)
///
/// Isolated keeps both the matches and the text between them as pieces. The scanners follow the
/// backtracking regex semantics of `tokenizers` (leftmost match, first alternative that matches,
/// greedy quantifiers), with each piece seen as a whole string.
struct PreTokenizer {
    /// The patterns in tokenizer.json that this type implements, in order.
    static let patterns = [
        ##"\p{N}{1,3}"##,
        ##"[一-龥぀-ゟ゠-ヿ]+"##,
        ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\##r\##n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\##r\##n]*|\s*[\##r\##n]+|\s+(?!\S)|\s+"##,
    ]

    private enum Stage { case numbers, cjk, words }

    private let basicPlane = ScalarClass.basicPlane
    private var classes: [ScalarClass] = []
    private var offsets: [Int] = []

    /// The byte ranges of the pieces of the last text split, in order.
    private(set) var pieces: [Range<Int>] = []

    /// Splits `utf8` (valid UTF-8) into pieces, replacing `pieces`.
    mutating func split(_ utf8: UnsafeBufferPointer<UInt8>) {
        classes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        pieces.removeAll(keepingCapacity: true)
        var i = 0
        while i < utf8.count {
            let lead = UInt32(utf8[i])
            offsets.append(i)
            if lead < 0x80 {
                classes.append(basicPlane[Int(lead)])
                i += 1
            } else if lead < 0xE0 {
                classes.append(basicPlane[Int((lead & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F))])
                i += 2
            } else if lead < 0xF0 {
                let value = (lead & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F)
                classes.append(basicPlane[Int(value)])
                i += 3
            } else {
                let value = (lead & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6
                    | UInt32(utf8[i + 3] & 0x3F)
                classes.append(ScalarClass.of(value))
                i += 4
            }
        }
        offsets.append(utf8.count)
        split(.numbers, 0, classes.count)
    }

    /// Splits scalars `lo..<hi` with one stage's pattern and hands every piece to the next stage.
    private mutating func split(_ stage: Stage, _ lo: Int, _ hi: Int) {
        var gap = lo
        var i = lo
        while i < hi {
            if let end = matchEnd(stage, at: i, hi) {
                if gap < i { pass(stage, gap, i) }
                pass(stage, i, end)
                i = end
                gap = end
            } else {
                i += 1
            }
        }
        if gap < hi { pass(stage, gap, hi) }
    }

    private mutating func pass(_ stage: Stage, _ lo: Int, _ hi: Int) {
        switch stage {
        case .numbers: split(.cjk, lo, hi)
        case .cjk: split(.words, lo, hi)
        case .words: pieces.append(offsets[lo]..<offsets[hi])
        }
    }

    /// Where a match of the stage's pattern starting at scalar `i` ends, or nil if none starts there.
    private func matchEnd(_ stage: Stage, at i: Int, _ hi: Int) -> Int? {
        switch stage {
        case .numbers:
            guard classes[i].isAny(of: .number) else { return nil }
            return run(of: .number, from: i, to: min(hi, i + 3))
        case .cjk:
            guard classes[i].isAny(of: .cjk) else { return nil }
            return run(of: .cjk, from: i, to: hi)
        case .words:
            return wordEnd(at: i, hi)
        }
    }

    private func wordEnd(at i: Int, _ hi: Int) -> Int? {
        let first = classes[i]
        let second: ScalarClass = i + 1 < hi ? classes[i + 1] : []
        // [ASCII punctuation][A-Za-z]+
        if first.isAny(of: .asciiPunctuation) && second.isAny(of: .asciiLetter) {
            return run(of: .asciiLetter, from: i + 1, to: hi)
        }
        // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
        if !first.isAny(of: .notWordPrefix) && second.isAny(of: .letterOrMark) {
            return run(of: .letterOrMark, from: i + 1, to: hi)
        }
        if first.isAny(of: .letterOrMark) { return run(of: .letterOrMark, from: i, to: hi) }
        // ` ?[\p{P}\p{S}]+[\r\n]*`
        var start = i
        if first.isAny(of: .space) && second.isAny(of: .punctuationOrSymbol) { start = i + 1 }
        if classes[start].isAny(of: .punctuationOrSymbol) {
            return run(of: .newline, from: run(of: .punctuationOrSymbol, from: start, to: hi), to: hi)
        }
        guard first.isAny(of: .whitespace) else { return nil }
        let end = run(of: .whitespace, from: i, to: hi)
        // \s*[\r\n]+ : the whitespace up to its last newline.
        if let lastNewline = (i..<end).last(where: { classes[$0].isAny(of: .newline) }) { return lastNewline + 1 }
        // \s+(?!\S) : all of it at the end of the piece, else all but the last.
        if end == hi { return end }
        if end - i >= 2 { return end - 1 }
        // \s+
        return end
    }

    /// The end of the run of scalars in any of `classes` starting at `from`, at most `to`.
    private func run(of wanted: ScalarClass, from: Int, to: Int) -> Int {
        var end = from
        while end < to && classes[end].isAny(of: wanted) { end += 1 }
        return end
    }
}
