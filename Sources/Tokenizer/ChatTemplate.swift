/// One chat turn: `role` is system, user, assistant or tool.
public struct ChatMessage: Codable, Sendable, Equatable {
    /// Who speaks: "system", "user", "assistant" or "tool" (a tool's output).
    public var role: String
    /// What is said.
    public var content: String

    /// A message from `role`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// DeepSeek-V3.2-Exp's chat template (the V3.1 family) for messages without tool calls:
/// BOS, the system prompts joined by blank lines, then `<｜User｜>` + content per user turn, and
/// per assistant turn `<｜Assistant｜></think>` + answer + EOS, where the answer drops any
/// reasoning up to and including its first `</think>`.
public enum ChatTemplate {
    /// The beginning-of-sentence token text.
    public static let bos = "<｜begin▁of▁sentence｜>"
    /// The end-of-sentence token text.
    public static let eos = "<｜end▁of▁sentence｜>"
    /// Starts a user turn.
    public static let user = "<｜User｜>"
    /// Starts an assistant turn.
    public static let assistant = "<｜Assistant｜>"
    /// Opens the model's reasoning.
    public static let thinkStart = "<think>"
    /// Closes the model's reasoning (alone after `assistant`: answer without reasoning).
    public static let thinkEnd = "</think>"
    /// Opens a tool's output.
    public static let toolOutputStart = "<｜tool▁output▁begin｜>"
    /// Closes a tool's output.
    public static let toolOutputEnd = "<｜tool▁output▁end｜>"

    /// The prompt text for `messages`. `addGenerationPrompt` appends the start of the next
    /// assistant turn — `<｜Assistant｜><think>` with `thinking`, `<｜Assistant｜></think>`
    /// without — unless the last message is a tool output (the model then continues its turn).
    /// Throws `TokenizerError.unknownRole` for a role other than system, user, assistant or tool.
    public static func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, thinking: Bool) throws -> String {
        let systemPrompts = messages.filter { $0.role == "system" }.map(\.content)
        var text = bos + systemPrompts.joined(separator: "\n\n")
        var afterUser = false
        var afterTool = false
        for message in messages {
            switch message.role {
            case "system":
                continue
            case "user":
                text += user + message.content
                afterUser = true
                afterTool = false
            case "assistant":
                if afterUser { text += assistant + thinkEnd }
                text += (afterTool ? message.content : answer(message.content)) + eos
                afterUser = false
                afterTool = false
            case "tool":
                text += toolOutputStart + message.content + toolOutputEnd
                afterUser = false
                afterTool = true
            default:
                throw TokenizerError.unknownRole(message.role)
            }
        }
        if addGenerationPrompt && !afterTool { text += assistant + (thinking ? thinkStart : thinkEnd) }
        return text
    }

    /// An assistant message without its reasoning: the text after its first `</think>`, if any.
    private static func answer(_ content: String) -> String {
        guard let end = content.range(of: thinkEnd) else { return content }
        return String(content[end.upperBound...])
    }
}
