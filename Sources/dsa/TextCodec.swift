import ArgumentParser
import Foundation
import Tokenizer

/// The model's tokenizer (tokenizer.json beside the weights), when it has one.
struct TextCodec {
    let tokenizer: Tokenizer?
    let directory: String

    init(directory: String) throws {
        self.directory = directory
        tokenizer = FileManager.default.fileExists(atPath: directory + "/tokenizer.json") ? try Tokenizer(directory: directory) : nil
    }

    /// The tokenizer, or an error saying the model has none.
    func require() throws -> Tokenizer {
        guard let tokenizer else {
            throw ValidationError("\(directory) has no tokenizer.json: give token ids (--tokens) instead of text")
        }
        return tokenizer
    }

    /// `prompt` as token ids: plain, or as one user turn of the chat format (after an optional system prompt).
    func encode(_ prompt: String, chat: Bool, system: String? = nil, thinking: Bool = false) throws -> [Int] {
        let t = try require()
        guard chat else { return t.encode(prompt) }
        let messages = (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: prompt)]
        return t.encode(try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: thinking))
    }

    /// Output text of `ids` (special tokens and ids past the tokenizer's vocabulary left out), or
    /// nothing without a tokenizer.
    func decode(_ ids: [Int]) -> String {
        guard let tokenizer else { return "" }
        return (try? tokenizer.decode(ids.filter { $0 < tokenizer.vocabularySize }, skipSpecial: true)) ?? ""
    }
}
