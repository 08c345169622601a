/// How one request picks its tokens (OpenAI / vLLM names and meanings).
public struct SamplingParams: Codable, Sendable, Equatable {
    /// 0 is greedy.
    public var temperature: Float = 0
    /// Keep the k most likely tokens (0: all).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability reaches p (1: all).
    public var topP: Float = 1
    /// Drop tokens less likely than `minP` × the most likely one (0: none).
    public var minP: Float = 0
    /// > 1 discourages tokens already in the prompt or output (divides positive logits, multiplies negative ones).
    public var repetitionPenalty: Float = 1
    /// Subtracted from the logit of every token already generated.
    public var presencePenalty: Float = 0
    /// Subtracted once per earlier occurrence in the output.
    public var frequencyPenalty: Float = 0
    /// Tokens to generate at most.
    public var maxTokens: Int = 256
    /// Text that ends the generation (not included in the output).
    public var stop: [String] = []
    /// Token ids that end the generation (besides end-of-sequence).
    public var stopTokenIds: [Int] = []
    /// Keep going after end-of-sequence.
    public var ignoreEos: Bool = false
    /// Random seed: the same seed gives the same text whatever the number of ranks.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case temperature, topK = "top_k", topP = "top_p", minP = "min_p", repetitionPenalty = "repetition_penalty"
        case presencePenalty = "presence_penalty", frequencyPenalty = "frequency_penalty", maxTokens = "max_tokens"
        case stop, stopTokenIds = "stop_token_ids", ignoreEos = "ignore_eos", seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParams()
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        topP = try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP
        minP = try c.decodeIfPresent(Float.self, forKey: .minP) ?? d.minP
        repetitionPenalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty
        presencePenalty = try c.decodeIfPresent(Float.self, forKey: .presencePenalty) ?? d.presencePenalty
        frequencyPenalty = try c.decodeIfPresent(Float.self, forKey: .frequencyPenalty) ?? d.frequencyPenalty
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        if let one = try? c.decodeIfPresent(String.self, forKey: .stop) { stop = [one] } else {
            stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? d.stop
        }
        stopTokenIds = try c.decodeIfPresent([Int].self, forKey: .stopTokenIds) ?? d.stopTokenIds
        ignoreEos = try c.decodeIfPresent(Bool.self, forKey: .ignoreEos) ?? d.ignoreEos
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
    }

    /// Checks every value; the error names the field and the allowed range.
    public func validate() throws(EngineError) {
        func require(_ ok: Bool, _ message: String) throws(EngineError) { if !ok { throw EngineError(message) } }
        try require(temperature.isFinite && temperature >= 0, "temperature must be 0 (greedy) or positive, got \(temperature)")
        try require(topK >= 0, "top_k must be 0 (off) or positive, got \(topK)")
        try require(topP > 0 && topP <= 1, "top_p must be in (0, 1], got \(topP)")
        try require(minP >= 0 && minP <= 1, "min_p must be in [0, 1], got \(minP)")
        try require(repetitionPenalty > 0 && repetitionPenalty.isFinite, "repetition_penalty must be positive, got \(repetitionPenalty)")
        try require(presencePenalty.isFinite && abs(presencePenalty) <= 2, "presence_penalty must be in [-2, 2], got \(presencePenalty)")
        try require(frequencyPenalty.isFinite && abs(frequencyPenalty) <= 2, "frequency_penalty must be in [-2, 2], got \(frequencyPenalty)")
        try require(maxTokens >= 1, "max_tokens must be at least 1, got \(maxTokens)")
        try require(!stop.contains(""), "stop strings must not be empty")
    }
}

/// A request or engine problem, phrased for the user.
public struct EngineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
