import ArgumentParser
import DeepSeek
import Engine
import Foundation
import Tokenizer

/// `dsa chat`: an interactive conversation in the model's chat format. Each turn feeds only the
/// new tokens: the KV cache keeps the conversation so far.
struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chat with the model in the terminal (Ctrl-D or Ctrl-C to leave).")

    @OptionGroup var options: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "System prompt.")
    var system: String?

    @Flag(help: "Thinking mode of the chat format.")
    var thinking = false

    func run() throws {
        try options.withModel { model in
            let codec = try TextCodec(directory: model.checkpoint.directory)
            let tokenizer = try codec.require()
            let engine = LLMEngine(model: model, options: options.inference, maxBatch: 1,
                                   maxContext: options.maxContext ?? 8192, decodeText: codec.decode)
            guard model.comm.isCoordinator else { return try engine.serve() }
            defer { engine.stopWorkers() }
            signal(SIGINT) { _ in print(); Foundation.exit(0) }  // Ctrl-C: leave cleanly
            var messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
            var seq: Engine.Sequence?
            while true {
                print("> ", terminator: "")
                fflush(nil)
                guard let line = readLine() else { print(); return }  // Ctrl-D
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                messages.append(ChatMessage(role: "user", content: line))
                let conversation = tokenizer.encode(try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: thinking))
                var params = sampling.params
                params.maxTokens = min(params.maxTokens, engine.maxContext - conversation.count - 1)
                let turn = try seq.map { try engine.continueSequence($0, conversation: conversation, params: params) }
                    ?? engine.add(prompt: conversation, params: params)
                seq = turn
                var shown = 0
                while engine.hasWork {
                    try engine.step()
                    FileHandle.standardOutput.write(Data(turn.text.dropFirst(shown).utf8))
                    shown = turn.text.count
                }
                print()
                messages.append(ChatMessage(role: "assistant", content: turn.text))
            }
        }
    }
}
