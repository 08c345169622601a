/// One request on its way through the engine (coordinator side): the tokens its cache holds, the
/// tokens still to feed, what it generated, its sampler and its text so far.
public final class Sequence {
    public let id: Int
    public let params: SamplingParams
    /// Positions its cache can hold.
    public let capacity: Int
    /// Tokens already run through the model (the cache's contents), in order.
    public internal(set) var fed: [Int] = []
    /// Tokens to run next (the rest of a prompt, or the last sampled token).
    public internal(set) var pending: [Int]
    /// This turn's prompt (for repetition penalties) and output.
    public internal(set) var prompt: [Int]
    public internal(set) var generated: [Int] = []
    /// Output text released so far (complete characters, never part of a stop string).
    public internal(set) var text = ""
    /// Why it ended: `stop` (end-of-sequence, stop token or stop string) or `length`; nil while running.
    public internal(set) var finishReason: String?
    /// Times (seconds since the engine started) of admission, first token and the end.
    public internal(set) var admittedAt = 0.0, firstTokenAt = 0.0, finishedAt = 0.0
    var sampler: Sampler

    init(id: Int, prompt: [Int], params: SamplingParams, capacity: Int) {
        self.id = id; self.prompt = prompt; self.params = params; self.capacity = capacity
        pending = prompt
        sampler = Sampler(params: params)
    }

    public var isFinished: Bool { finishReason != nil }

    /// Starts another turn on the same cache: feeds `tokens` after what it already holds.
    func `continue`(with tokens: [Int], params: SamplingParams) {
        prompt = tokens; pending = tokens; generated = []; text = ""; finishReason = nil
        sampler = Sampler(params: params)
    }

    /// Releases text up to what is certain: no dangling UTF-8 and no possible start of a stop
    /// string. Returns true when a stop string appeared (the text is cut before it).
    func updateText(_ decoded: String) -> Bool {
        var full = decoded
        if let cut = params.stop.compactMap({ full.range(of: $0)?.lowerBound }).min() {
            text = String(full[..<cut])
            return true
        }
        while full.hasSuffix("\u{FFFD}") { full.removeLast() }  // bytes of a character still to come
        let hold = params.stop.map { stop in
            (1..<max(stop.count, 1)).reversed().first { full.hasSuffix(stop.prefix($0)) } ?? 0
        }.max() ?? 0
        let ready = String(full.dropLast(hold))
        if ready.count > text.count { text = ready }
        return false
    }
}
