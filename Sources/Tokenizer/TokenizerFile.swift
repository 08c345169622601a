import Foundation

/// The fields of a `tokenizers` tokenizer.json that this module reads.
struct TokenizerFile: Decodable {
    /// An `added_tokens` entry: text matched whole, before pre-tokenization.
    struct AddedToken: Decodable {
        let id: Int
        let content: String
        let singleWord: Bool?
        let lstrip: Bool?
        let rstrip: Bool?
        let normalized: Bool?
        let special: Bool?

        enum CodingKeys: String, CodingKey {
            case id, content, lstrip, rstrip, normalized, special
            case singleWord = "single_word"
        }
    }

    /// One merge rule: the two tokens it joins.
    struct Merge: Decodable {
        let left: String
        let right: String

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            let parts: [String]
            if let text = try? container.decode(String.self) {
                parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                parts = try container.decode([String].self)
            }
            guard parts.count == 2 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a merge must name exactly two tokens, got \(parts)")
            }
            left = parts[0]
            right = parts[1]
        }
    }

    /// The `model` object.
    struct Model: Decodable {
        let type: String
        let vocab: [String: Int]
        let merges: [Merge]
        let ignoreMerges: Bool?
        let dropout: Double?
        let byteFallback: Bool?
        let continuingSubwordPrefix: String?
        let endOfWordSuffix: String?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges, dropout
            case ignoreMerges = "ignore_merges"
            case byteFallback = "byte_fallback"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case endOfWordSuffix = "end_of_word_suffix"
        }
    }

    /// A `Split` pattern: a regular expression or a literal string.
    struct Pattern: Decodable, Equatable {
        let regex: String?
        let string: String?

        enum CodingKeys: String, CodingKey {
            case regex = "Regex"
            case string = "String"
        }
    }

    /// A normalizer, pre-tokenizer, post-processor or decoder object (the fields of all kinds used).
    struct Component: Decodable {
        let type: String
        let normalizers: [Component]?
        let pretokenizers: [Component]?
        let pattern: Pattern?
        let behavior: String?
        let invert: Bool?
        let addPrefixSpace: Bool?
        let useRegex: Bool?

        enum CodingKeys: String, CodingKey {
            case type, normalizers, pretokenizers, pattern, behavior, invert
            case addPrefixSpace = "add_prefix_space"
            case useRegex = "use_regex"
        }
    }

    let addedTokens: [AddedToken]
    let normalizer: Component?
    let preTokenizer: Component?
    let postProcessor: Component?
    let decoder: Component?
    let model: Model

    enum CodingKeys: String, CodingKey {
        case normalizer, decoder, model
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }
}

/// The fields of tokenizer_config.json that this module reads.
struct TokenizerConfig: Decodable {
    /// A special token named either by its text or by an AddedToken object with `content`.
    struct TokenText: Decodable {
        let content: String

        enum CodingKeys: String, CodingKey { case content }

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                content = text
            } else {
                content = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .content)
            }
        }
    }

    let bosToken: TokenText?
    let eosToken: TokenText?

    enum CodingKeys: String, CodingKey {
        case bosToken = "bos_token"
        case eosToken = "eos_token"
    }
}

/// Reads and decodes one JSON file, turning every failure into a `TokenizerError` naming it.
func decodeJSON<T: Decodable>(_ type: T.Type, at url: URL) throws -> T {
    guard FileManager.default.fileExists(atPath: url.path) else { throw TokenizerError.missingFile(path: url.path) }
    let data: Data
    do {
        data = try Data(contentsOf: url)
    } catch {
        throw TokenizerError.malformedFile(path: url.path, problem: "cannot be read: \(error.localizedDescription)")
    }
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as DecodingError {
        throw TokenizerError.malformedFile(path: url.path, problem: describe(error))
    } catch {
        throw TokenizerError.malformedFile(path: url.path, problem: "\(error)")
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ keys: [CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "field \"\(key.stringValue)\" missing at \(path(context.codingPath))"
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)) is not a \(type): \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)) is null, expected \(type)"
    case .dataCorrupted(let context):
        return "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
