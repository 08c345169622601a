import DeepSeek
import Foundation
import Kernels

/// The step loop every rank runs. The coordinator queues requests, picks each step's batch
/// (continuous batching: finished sequences leave, waiting ones join, long prompts are fed in
/// chunks), broadcasts it, runs it and samples; the other ranks run the same steps on their
/// shards of the model and of every sequence's cache.
public final class LLMEngine {
    public let model: Transformer
    public let options: InferenceOptions
    /// Sequences per step.
    public let maxBatch: Int
    /// Prompt tokens a sequence feeds per step.
    public let prefillChunk: Int
    /// Positions a sequence may use at most.
    public let maxContext: Int
    let decodeText: ([Int]) -> String
    var caches: [Int: KVCache] = [:]
    var waiting: [Sequence] = [], running: [Sequence] = []
    var created: [(id: Int, capacity: Int)] = [], dropped: [Int] = []
    var nextID = 0
    /// Tokens fed through the model so far (prompts and generated), for per-token figures.
    public private(set) var tokensProcessed = 0
    let start = Date()

    /// `decodeText` turns output tokens into text (for stop strings); the default has none.
    public init(model: Transformer, options: InferenceOptions, maxBatch: Int = 32, prefillChunk: Int = 512,
                maxContext: Int? = nil, decodeText: @escaping ([Int]) -> String = { _ in "" }) {
        self.model = model; self.options = options; self.maxBatch = maxBatch; self.prefillChunk = prefillChunk
        self.maxContext = maxContext ?? model.config.maxPositionEmbeddings
        self.decodeText = decodeText
    }

    /// Whether a queued or running sequence still needs steps.
    public var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    /// Queues a request (coordinator). Its cache holds the prompt and up to `max_tokens` more.
    public func add(prompt: [Int], params: SamplingParams) throws -> Sequence {
        try params.validate()
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty") }
        guard prompt.count < maxContext else {
            throw EngineError("the prompt has \(prompt.count) tokens; the context limit is \(maxContext) (raise --max-context)")
        }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
            throw EngineError("token id \(bad) is outside the vocabulary 0..<\(model.config.vocabSize)")
        }
        let seq = Sequence(id: nextID, prompt: prompt, params: params, capacity: min(prompt.count + params.maxTokens, maxContext))
        nextID += 1
        waiting.append(seq)
        return seq
    }

    /// Queues another turn of a finished sequence: `conversation` is the whole token history;
    /// when the cache already holds a prefix of it only the rest is fed, else it starts afresh.
    public func continueSequence(_ seq: Sequence, conversation: [Int], params: SamplingParams) throws -> Sequence {
        try params.validate()
        guard conversation.starts(with: seq.fed), conversation.count + 1 < seq.capacity, conversation.count > seq.fed.count else {
            release(seq)
            return try add(prompt: conversation, params: params)
        }
        seq.continue(with: Array(conversation[seq.fed.count...]), params: params)
        waiting.append(seq)
        return seq
    }

    /// Frees a sequence's cache on every rank (at the next step).
    public func release(_ seq: Sequence) { dropped.append(seq.id) }

    /// Runs one step; returns the sequences that produced a token in it.
    @discardableResult
    public func step() throws -> [Sequence] {
        while running.count < maxBatch, !waiting.isEmpty {
            let seq = waiting.removeFirst()
            if seq.fed.isEmpty { created.append((seq.id, seq.capacity)) }  // caches exist only while admitted
            seq.admittedAt = now
            running.append(seq)
        }
        var plan = StepPlan()
        plan.created = created; plan.dropped = dropped
        created = []; dropped = []
        plan.batch = running.map { ($0.id, Array($0.pending.prefix(prefillChunk))) }
        let logits = try execute(StepPlan(decoding: model.comm.broadcast(plan.encoded())))
        var produced = [Sequence]()
        for (seq, (fed, row)) in zip(running, zip(plan.batch.map(\.tokens), logits)) {
            tokensProcessed += fed.count
            seq.fed += fed
            seq.pending.removeFirst(fed.count)
            guard seq.pending.isEmpty else { continue }  // more prompt to feed
            let next = seq.sampler.sample(row, prompt: seq.prompt, generated: seq.generated)
            if seq.generated.isEmpty { seq.firstTokenAt = now }
            seq.generated.append(next)
            seq.pending = [next]
            finishIfDone(seq, next)
            produced.append(seq)
        }
        running.removeAll { $0.isFinished }
        return produced
    }

    /// The worker side (ranks other than 0): runs the coordinator's steps until it says stop.
    public func serve() throws {
        while true {
            let plan = StepPlan(decoding: model.comm.broadcast([Int32]()))
            if plan.stop { return }
            _ = try execute(plan)
        }
    }

    /// Ends the workers' `serve` loops (coordinator).
    public func stopWorkers() {
        var plan = StepPlan()
        plan.stop = true
        _ = model.comm.broadcast(plan.encoded())
    }

    /// KV-cache positions this rank holds over all sequences, and their bytes.
    public var cached: (positions: Int, bytes: Int) {
        caches.values.reduce((0, 0)) { ($0.0 + $1.localPositions, $0.1 + $1.localPositions * $1.bytesPerPosition) }
    }

    /// Seconds since the engine started.
    public var now: Double { Date().timeIntervalSince(start) }

    private func execute(_ plan: StepPlan) throws -> [[Float]] {
        for (id, capacity) in plan.created { caches[id] = model.makeCache(options: options, capacity: capacity) }
        for id in plan.dropped { caches[id] = nil }
        let batch = plan.batch.filter { !$0.tokens.isEmpty }
        guard !batch.isEmpty else { return [] }
        return try model.forward(batch.map { ($0.tokens, caches[$0.id]!) }, allLogits: false)
    }

    private func finishIfDone(_ seq: Sequence, _ token: Int) {
        let p = seq.params
        if seq.updateText(decodeText(seq.generated)) { return finish(seq, "stop") }
        if (token == model.config.eosTokenId && !p.ignoreEos) || p.stopTokenIds.contains(token) { return finish(seq, "stop") }
        if seq.generated.count >= p.maxTokens || seq.fed.count + 1 >= seq.capacity { return finish(seq, "length") }
    }

    private func finish(_ seq: Sequence, _ reason: String) {
        seq.finishReason = reason
        seq.finishedAt = now
        seq.pending = []
    }
}
