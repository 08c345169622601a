import Foundation

/// What went wrong while loading a tokenizer, decoding ids or rendering a chat.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A required file (`tokenizer.json`) is not in the directory.
    case missingFile(path: String)
    /// A file exists but is not what it should be: bad JSON, a missing field, an inconsistent entry.
    case malformedFile(path: String, problem: String)
    /// A file asks for a tokenizer feature this module does not implement.
    case unsupported(path: String, feature: String)
    /// A token id that is not in the vocabulary.
    case unknownTokenID(Int)
    /// A chat message whose role the chat template does not know.
    case unknownRole(String)

    /// What is wrong and where, in one sentence.
    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found (a tokenizer directory needs tokenizer.json)"
        case .malformedFile(let path, let problem):
            return "\(path): malformed: \(problem)"
        case .unsupported(let path, let feature):
            return "\(path): unsupported: \(feature) (only DeepSeek-V3's byte-level BPE setup is implemented)"
        case .unknownTokenID(let id):
            return "token id \(id) is not in the vocabulary"
        case .unknownRole(let role):
            return "chat message role \"\(role)\" is unknown (expected system, user, assistant or tool)"
        }
    }
}
