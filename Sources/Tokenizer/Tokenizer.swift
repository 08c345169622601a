import Dispatch
import Foundation

/// DeepSeek-V3's byte-level BPE tokenizer, loaded from a Hugging Face `tokenizers` tokenizer.json;
/// gives the same ids as `tokenizers` does.
public final class Tokenizer: Sendable {
    private let model: BytePairModel
    private let vocabulary: Vocabulary
    private let addedTokens: AddedTokens
    private let cache = WordCache()

    /// The id of the beginning-of-sentence token named in tokenizer_config.json, if any.
    public let bosToken: Int?
    /// The id of the end-of-sentence token named in tokenizer_config.json, if any.
    public let eosToken: Int?

    /// One past the largest token id (vocabulary and added tokens).
    public var vocabularySize: Int { vocabulary.count }

    /// Loads `directory`/tokenizer.json and, if present, `directory`/tokenizer_config.json.
    public init(directory: String) throws {
        let folder = URL(fileURLWithPath: directory)
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        let file = try decodeJSON(TokenizerFile.self, at: tokenizerURL)
        try file.validate(path: tokenizerURL.path)
        model = try BytePairModel(file.model, path: tokenizerURL.path)
        let vocabulary = try Vocabulary(file, path: tokenizerURL.path)
        self.vocabulary = vocabulary
        addedTokens = AddedTokens(file.addedTokens.map { ($0.content, $0.id, $0.normalized ?? true) })

        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path)
            ? try decodeJSON(TokenizerConfig.self, at: configURL) : nil
        func id(_ token: TokenizerConfig.TokenText?, _ field: String) throws -> Int? {
            guard let token else { return nil }
            guard let id = vocabulary.ids[token.content] else {
                throw TokenizerError.malformedFile(path: configURL.path, problem: "\(field) \"\(token.content)\" is not a token")
            }
            return id
        }
        bosToken = try id(config?.bosToken, "bos_token")
        eosToken = try id(config?.eosToken, "eos_token")
    }

    /// The token ids of `text`. With `allowSpecial`, added tokens (`<｜User｜>`,
    /// `<｜end▁of▁sentence｜>`, …) in the text become their ids, as in `tokenizers`; without it,
    /// all text, theirs included, is encoded as ordinary text (for untrusted input).
    public func encode(_ text: String, allowSpecial: Bool = true) -> [Int] {
        encode(text, allowSpecial: allowSpecial, cache: cache)
    }

    private func encode(_ text: String, allowSpecial: Bool, cache: WordCache) -> [Int] {
        var text = text
        return text.withUTF8 { utf8 in
            var encoder = TextEncoder(model: model, cache: cache)
            var ids: [Int] = []
            ids.reserveCapacity(utf8.count / 3 + 1)
            guard allowSpecial else {
                encoder.encode(utf8, into: &ids)
                return ids
            }
            for piece in addedTokens.split(utf8) {
                switch piece {
                case .token(let id): ids.append(id)
                case .text(let range): encoder.encode(UnsafeBufferPointer(rebasing: utf8[range]), into: &ids)
                }
            }
            return ids
        }
    }

    /// The token ids of each text, encoded in parallel (one worker per core, each with its own
    /// word cache so that the workers never wait for each other).
    public func encodeBatch(_ texts: [String], allowSpecial: Bool = true) -> [[Int]] {
        var results = [[Int]](repeating: [], count: texts.count)
        let workers = min(texts.count, ProcessInfo.processInfo.activeProcessorCount)
        results.withUnsafeMutableBufferPointer { output in
            nonisolated(unsafe) let output = output
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let cache = WordCache()
                for i in stride(from: worker, to: texts.count, by: workers) {
                    output[i] = encode(texts[i], allowSpecial: allowSpecial, cache: cache)
                }
            }
        }
        return results
    }

    /// The pieces that pre-tokenization cuts ordinary text into (no added-token matching), as
    /// `tokenizers`' `pre_tokenizer.pre_tokenize_str` gives them but in plain text; for debugging.
    public func preTokenize(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { utf8 in
            var preTokenizer = PreTokenizer()
            preTokenizer.split(utf8)
            return preTokenizer.pieces.map { String(decoding: UnsafeBufferPointer(rebasing: utf8[$0]), as: UTF8.self) }
        }
    }

    /// The text of `ids`; invalid UTF-8 becomes U+FFFD. With `skipSpecial`, tokens marked
    /// special in tokenizer.json (BOS, EOS, …) are left out. Throws for an id not in the vocabulary.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        for id in ids { try vocabulary.appendBytes(of: id, to: &bytes, skipSpecial: skipSpecial) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The folder of DeepSeek-V3's tokenizer.json and tokenizer_config.json shipped with SwiftDSA
    /// (copied into the default model and into `make-model` checkpoints with its vocabulary): the
    /// resource bundle beside the executable, else the source tree it was built from; nil when a
    /// copied binary travelled without it. (`Bundle.module` would stop the program instead.)
    public static var bundledDirectory: String? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [Bundle.main.bundleURL, executable].flatMap { base in
            ["SwiftDSA_Tokenizer.resources", "SwiftDSA_Tokenizer.bundle"].map { base.appendingPathComponent($0 + "/deepseek-v3") }
        } + [URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/deepseek-v3")]
        return candidates.map(\.path).first { FileManager.default.fileExists(atPath: $0 + "/tokenizer.json") }
    }

    /// The id of a token given by its vocabulary spelling ("Ġthe") or added-token text ("<think>").
    public func id(of token: String) -> Int? {
        vocabulary.ids[token]
    }

    /// Appends the bytes of token `id` to `bytes`, for `StreamingDecoder`.
    func appendBytes(of id: Int, to bytes: inout [UInt8], skipSpecial: Bool) throws {
        try vocabulary.appendBytes(of: id, to: &bytes, skipSpecial: skipSpecial)
    }
}
