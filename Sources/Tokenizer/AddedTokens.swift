/// Finds added tokens in text the way `tokenizers`' AddedVocabulary does with an empty
/// normalizer: first the tokens with `normalized: false` anywhere in the text, then the
/// `normalized: true` tokens in the text between those; each pass takes the leftmost match,
/// the longest one where several start at the same place.
struct AddedTokens {
    /// A stretch of the input: ordinary text (a byte range) or one added token.
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    private let raw: ByteTrie
    private let normalized: ByteTrie

    /// Builds the two matchers from `(content, id, normalized)` triples; empty contents never match.
    init(_ tokens: [(content: String, id: Int, normalized: Bool)]) {
        raw = ByteTrie(tokens.filter { !$0.normalized }.map { (Array($0.content.utf8), $0.id) })
        normalized = ByteTrie(tokens.filter { $0.normalized }.map { (Array($0.content.utf8), $0.id) })
    }

    /// Splits `utf8` into text and added tokens, in order.
    func split(_ utf8: UnsafeBufferPointer<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for piece in raw.split(utf8, 0..<utf8.count) {
            if case .text(let range) = piece {
                pieces += normalized.split(utf8, range)
            } else {
                pieces.append(piece)
            }
        }
        return pieces
    }
}

/// A byte trie over token contents that finds leftmost-longest matches.
private struct ByteTrie {
    private var edges: [[UInt8: Int32]] = [[:]]
    private var tokenID: [Int] = [-1]
    private var startsToken = [Bool](repeating: false, count: 256)

    init(_ tokens: [(bytes: [UInt8], id: Int)]) {
        for (bytes, id) in tokens where !bytes.isEmpty {
            startsToken[Int(bytes[0])] = true
            var node = 0
            for byte in bytes {
                if let child = edges[node][byte] {
                    node = Int(child)
                } else {
                    edges[node][byte] = Int32(edges.count)
                    node = edges.count
                    edges.append([:])
                    tokenID.append(-1)
                }
            }
            tokenID[node] = id
        }
    }

    /// The end and id of the longest token starting at `start` and ending by `end`.
    private func longestMatch(_ utf8: UnsafeBufferPointer<UInt8>, at start: Int, end: Int) -> (end: Int, id: Int)? {
        var node = 0
        var best: (end: Int, id: Int)?
        var i = start
        while i < end, let child = edges[node][utf8[i]] {
            node = Int(child)
            i += 1
            if tokenID[node] >= 0 { best = (i, tokenID[node]) }
        }
        return best
    }

    /// Splits the bytes `range` of `utf8` into text and tokens.
    func split(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [AddedTokens.Piece] {
        var pieces: [AddedTokens.Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            if startsToken[Int(utf8[i])], let match = longestMatch(utf8, at: i, end: range.upperBound) {
                if textStart < i { pieces.append(.text(textStart..<i)) }
                pieces.append(.token(match.id))
                i = match.end
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
        return pieces
    }
}
