/// Turns token ids into text one id at a time, returning only whole UTF-8 characters: bytes of
/// a character split across tokens are held back until the rest arrives. The concatenated
/// output equals `Tokenizer.decode` of all the ids.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []

    /// A decoder for `tokenizer`'s ids; `skipSpecial` as in `Tokenizer.decode`.
    public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// The complete characters that token `id` finishes (often empty mid-character).
    /// Throws for an id not in the vocabulary, leaving the held-back bytes as they were.
    public mutating func feed(_ id: Int) throws -> String {
        try tokenizer.appendBytes(of: id, to: &pending, skipSpecial: skipSpecial)
        let cut = completeLength()
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// The held-back bytes, decoded (U+FFFD for an unfinished character); the decoder is empty after.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of `pending` without a trailing character that more bytes could still complete.
    private func completeLength() -> Int {
        guard let lead = pending.indices.suffix(4).last(where: { pending[$0] & 0xC0 != 0x80 }) else {
            return pending.count
        }
        let byte = pending[lead]
        let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
        return pending.count - lead < length ? lead : pending.count
    }
}
