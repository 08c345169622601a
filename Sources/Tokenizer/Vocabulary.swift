/// Every token by id — vocabulary entries and added tokens — with the bytes it decodes to.
struct Vocabulary: Sendable {
    private enum Kind: UInt8 { case absent, ordinary, special }

    /// Token text (vocabulary spelling, e.g. "Ġthe", or added-token content) → id.
    let ids: [String: Int]
    private let kinds: [Kind]
    private let bytes: [UInt8]
    private let starts: [Int]

    /// The bound on ids accepted from a file.
    static let maxCount = 1 << 24

    /// One past the largest id.
    var count: Int { kinds.count }

    /// Indexes tokenizer.json's vocabulary and added tokens; `path` names the file in errors.
    init(_ file: TokenizerFile, path: String) throws {
        var ids = file.model.vocab
        for token in file.addedTokens { ids[token.content] = token.id }
        var texts: [String?] = []
        var kinds: [Kind] = []
        func place(_ text: String, _ id: Int, _ kind: Kind) throws {
            guard (0..<Vocabulary.maxCount).contains(id) else {
                throw TokenizerError.malformedFile(path: path, problem: "token \"\(text)\" has id \(id), outside 0..<\(Vocabulary.maxCount)")
            }
            if id >= texts.count {
                texts += [String?](repeating: nil, count: id + 1 - texts.count)
                kinds += [Kind](repeating: .absent, count: id + 1 - kinds.count)
            }
            texts[id] = text
            kinds[id] = kind
        }
        for (text, id) in file.model.vocab { try place(text, id, .ordinary) }
        for token in file.addedTokens { try place(token.content, token.id, token.special == true ? .special : .ordinary) }
        var bytes: [UInt8] = []
        var starts = [0]
        for text in texts {
            if let text { bytes += ByteLevel.decodedBytes(text) }
            starts.append(bytes.count)
        }
        self.ids = ids
        self.kinds = kinds
        self.bytes = bytes
        self.starts = starts
    }

    /// Appends the bytes of token `id` to `output` (nothing for a special token when `skipSpecial`).
    func appendBytes(of id: Int, to output: inout [UInt8], skipSpecial: Bool) throws {
        guard id >= 0, id < kinds.count, kinds[id] != .absent else { throw TokenizerError.unknownTokenID(id) }
        if skipSpecial && kinds[id] == .special { return }
        output += bytes[starts[id]..<starts[id + 1]]
    }
}
