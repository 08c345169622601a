import ArgumentParser
import DeepSeek
import Engine
import Foundation

/// `dsa generate`: one prompt streamed to stdout, or a JSONL file of prompts decoded in batches.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text (or token ids) after a prompt, or complete a JSONL file of prompts.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Prompt text.")
    var prompt: String?

    @Option(help: "Prompt as comma-separated token ids.")
    var tokens: String?

    @Flag(help: "Wrap the prompt in the model's chat format (one user turn).")
    var chat = false

    @Option(help: "System prompt (with --chat).")
    var system: String?

    @Flag(help: "Thinking mode of the chat format.")
    var thinking = false

    @Option(help: "JSONL of requests: {\"prompt\": …} or {\"messages\": […]}, optional \"id\" and sampling fields.")
    var input: String?

    @Option(help: "JSONL of results, one line per input line, in order (with --input).")
    var output: String?

    @Flag(help: "Skip input lines whose results --output already holds.")
    var resume = false

    @Option(help: "Sequences decoded together per step.")
    var maxBatch: Int = 32

    @Flag(help: "Print one JSON object with tokens, text and timings.")
    var json = false

    func validate() throws {
        let sources = [prompt != nil, tokens != nil, input != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --prompt, --tokens or --input") }
        if input != nil && output == nil { throw ValidationError("--input needs --output") }
        if resume && input == nil { throw ValidationError("--resume works with --input") }
        if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1") }
    }

    func run() throws {
        let start = Date()
        try options.withModel { model in
            let codec = try TextCodec(directory: model.checkpoint.directory)
            let promptIDs = try tokens.map(parseTokens) ?? prompt.map { try codec.encode($0, chat: chat, system: system, thinking: thinking) }
            let engine = LLMEngine(model: model, options: options.inference, maxBatch: maxBatch, maxContext: options.maxContext,
                                   decodeText: codec.decode)
            if model.comm.isCoordinator {
                if let input, let output {
                    try BatchJob(input: input, output: output, resume: resume, codec: codec, defaults: sampling.params)
                        .run(engine, chat: chat, thinking: thinking)
                } else {
                    try streamOne(engine, prompt: promptIDs!, codec: codec, loadTime: Date().timeIntervalSince(start))
                }
                engine.stopWorkers()
            } else {
                try engine.serve()
            }
            if options.verbose { RankReport.print(model: model, kv: engine.cached, tokens: engine.tokensProcessed) }
        }
    }

    /// Streams text (or, without a tokenizer, token ids) as it is produced.
    func streamOne(_ engine: LLMEngine, prompt: [Int], codec: TextCodec, loadTime: Double) throws {
        let seq = try engine.add(prompt: prompt, params: sampling.params)
        var shown = "", ids = 0
        let out = FileHandle.standardOutput
        while engine.hasWork {
            try engine.step()
            guard !json else { continue }
            if codec.tokenizer == nil {
                for id in seq.generated[ids...] { out.write(Data("\(ids > 0 ? "," : "")\(id)".utf8)); ids += 1 }
            } else if seq.text.count > shown.count {
                out.write(Data(seq.text.dropFirst(shown.count).utf8))
                shown = seq.text
            }
        }
        guard json else { return print() }
        let prefill = seq.firstTokenAt - seq.admittedAt, decode = seq.finishedAt - seq.firstTokenAt
        let result: [String: Any] = [
            "prompt_tokens": prompt, "generated": seq.generated, "text": seq.text, "finish_reason": seq.finishReason ?? "",
            "ranks": engine.model.comm.size,
            "timings": [
                "load_s": loadTime, "time_to_first_token_s": prefill, "prefill_tokens_per_s": Double(prompt.count) / prefill,
                "decode_s": decode, "decode_tokens_per_s": seq.generated.count > 1 ? Double(seq.generated.count - 1) / decode : 0,
            ],
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}
