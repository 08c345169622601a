import ArgumentParser
import DeepSeek
import Foundation

/// `dsa generate`: greedy or sampled continuation of a prompt of token ids.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate tokens after a prompt (token ids in and out).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Comma-separated prompt token ids.")
    var tokens: String

    @Option(help: "Tokens to generate.")
    var maxTokens: Int = 32

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Double = 0

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: "Keep generating after the end-of-sequence token.")
    var ignoreEos = false

    @Flag(help: "Print one JSON object with the tokens and timings.")
    var json = false

    func validate() throws {
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if !(temperature >= 0) { throw ValidationError("--temperature must be 0 (greedy) or positive, got \(temperature)") }
    }

    func run() throws {
        let prompt = try parseTokens(tokens)
        let t0 = Date()
        try options.withModel { model in
            let comm = model.comm
            let cache = model.makeCache(options: options.inference, capacity: options.maxContext ?? prompt.count + maxTokens)
            var sampler = Sampler(temperature: Float(temperature), seed: seed)
            let t1 = Date()
            var logits = try model.forward(prompt, cache: cache, allLogits: false)  // [1, vocab] on the coordinator
            let t2 = Date(), decodeTraffic = comm.traffic
            var generated = [Int]()
            var finish = "length"
            while true {
                let next = Int(comm.broadcast([Int32(comm.isCoordinator ? sampler.sample(logits) : 0)])[0])
                generated.append(next)
                if !json && comm.isCoordinator { FileHandle.standardOutput.write(Data("\(generated.count > 1 ? "," : "")\(next)".utf8)) }
                if next == model.config.eosTokenId && !ignoreEos { finish = "stop"; break }
                if generated.count == maxTokens { break }
                logits = try model.forward([next], cache: cache, allLogits: false)
            }
            let t3 = Date()
            if options.verbose { RankReport.print(model: model, cache: cache, tokens: generated.count, trafficStart: decodeTraffic) }
            guard comm.isCoordinator else { return }
            if !json { print(); return }
            let decodeSteps = max(generated.count - 1, 0), decodeTime = t3.timeIntervalSince(t2)
            let result: [String: Any] = [
                "prompt_tokens": prompt, "generated": generated, "finish_reason": finish, "ranks": comm.size,
                "timings": [
                    "load_s": t1.timeIntervalSince(t0), "prefill_s": t2.timeIntervalSince(t1), "time_to_first_token_s": t2.timeIntervalSince(t1),
                    "prefill_tokens_per_s": Double(prompt.count) / t2.timeIntervalSince(t1),
                    "decode_s": decodeTime, "decode_tokens_per_s": decodeSteps > 0 ? Double(decodeSteps) / decodeTime : 0,
                ],
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}

/// Picks the next token: argmax at temperature 0, else a categorical sample of `softmax(logits / T)`
/// (the exponential-race trick of DeepSeek's generate.py) from a seeded generator.
struct Sampler {
    let temperature: Float
    var state: UInt64

    init(temperature: Float, seed: UInt64) { self.temperature = temperature; state = seed ^ 0x5DEE_CE66_D1CE_4E5B }

    mutating func sample(_ logits: [Float]) -> Int {
        if temperature == 0 { return logits.indices.max { logits[$0] < logits[$1] }! }
        let m = logits.max()!
        var best = 0, bestValue = -Float.infinity
        for (i, l) in logits.enumerated() {
            let p = exp((l - m) / temperature)
            let value = p / -log(uniform())  // p / Exponential(1)
            if value > bestValue { bestValue = value; best = i }
        }
        return best
    }

    private mutating func uniform() -> Float {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return (Float(state >> 40) + 0.5) / Float(1 << 24)
    }
}
