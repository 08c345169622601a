import Kernels

/// One decoder layer: pre-norm attention then pre-norm feed-forward (dense MLP or MoE).
struct Block: Sendable {
    let attnNorm: RMSNorm, attn: MLA
    let ffnNorm: RMSNorm
    let mlp: MLP?, moe: MoE?

    init(_ ckpt: Checkpoint, layer: Int, plan: ShardPlan) throws {
        let c = ckpt.config, prefix = "model.layers.\(layer)"
        attnNorm = try RMSNorm(ckpt, prefix + ".input_layernorm", dim: c.hiddenSize)
        attn = try MLA(ckpt, prefix + ".self_attn")
        ffnNorm = try RMSNorm(ckpt, prefix + ".post_attention_layernorm", dim: c.hiddenSize)
        if c.isMoE(layer: layer) {
            mlp = nil; moe = try MoE(ckpt, prefix + ".mlp", plan: plan)
        } else {
            mlp = try MLP(ckpt, prefix + ".mlp", dim: c.hiddenSize, inter: c.intermediateSize); moe = nil
        }
    }

    /// `[T, dim] → [T, dim]` on every rank.
    func callAsFunction(_ h: [Float], segments: [Segment], layer: Int, rope: Rope, comm: Collectives) -> [Float] {
        let x = adding(h, attn(attnNorm(h), segments: segments, layer: layer, rope: rope, comm: comm)), f = ffnNorm(x)
        return adding(x, moe?(f, comm: comm) ?? Profiler.measure("mlp") { mlp!(f, comm: comm) })
    }
}

/// The whole model on one rank: embedding, decoder layers, final norm, LM head (spec §2).
/// Every rank runs the same steps on the same tokens; `comm` joins them at the MoE and attention
/// (the coordinator merges the attention's partials for all; it routes, and broadcasts the routing, while the shared experts stream).
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    public let comm: Collectives
    public let plan: ShardPlan
    let embed: Embedding
    let layers: [Block]
    let norm: RMSNorm
    let head: Linear  // this rank's vocabulary rows
    /// How the LM head is stored (bf16 in DeepSeek's checkpoints, fp8 under `lmHeadFP8`).
    public var lmHeadFormat: WeightFormat { head.weight.format }
    let rope: Rope

    /// Builds this rank's part of the model over a checkpoint's mapped tensors, checking each
    /// against the config. `lmHeadFP8` re-encodes the LM head as FP8 with 128×128 block scales
    /// (like the rest of the checkpoint; not the reference's numerics).
    public init(checkpoint: Checkpoint, comm: Collectives = SingleRank(), lmHeadFP8: Bool = false) throws {
        let c = checkpoint.config
        self.checkpoint = checkpoint
        self.comm = comm
        config = c
        plan = try ShardPlan(rank: comm.rank, ranks: comm.size, config: c, memoryDomains: comm.memoryDomains)
        embed = Embedding(weight: try checkpoint.matrix("model.embed_tokens", rows: c.vocabSize, cols: c.hiddenSize))
        layers = try (0..<c.numHiddenLayers).map { [plan] in try Block(checkpoint, layer: $0, plan: plan) }
        norm = try RMSNorm(checkpoint, "model.norm", dim: c.hiddenSize)
        let headRows = try checkpoint.matrix("lm_head", rows: c.vocabSize, cols: c.hiddenSize)
            .rows(plan.vocabRows(of: comm.rank, vocab: c.vocabSize))
        head = Linear(weight: lmHeadFP8 && headRows.format != .fp8 ? headRows.quantizedFP8() : headRows)
        rope = Rope(config: c)
    }

    /// Opens the checkpoint in `directory` and builds the model.
    public convenience init(directory: String, comm: Collectives = SingleRank(), lmHeadFP8: Bool = false) throws {
        try self.init(checkpoint: Checkpoint(directory: directory), comm: comm, lmHeadFP8: lmHeadFP8)
    }

    /// The weights one decode token reads on one process, whatever share of them this rank holds:
    /// attention (with the indexer when `sparse`), dense MLPs, the router, `num_experts_per_tok`
    /// routed and the shared experts, the whole LM head. Bytes are the decode roofline's
    /// denominator; 2 × elements its FLOPs.
    public func decodeWeights(sparse: Bool) -> (bytes: Int, elements: Int) {
        let mats = layers.flatMap { $0.attn.matrices(indexer: sparse) + ($0.moe?.matricesPerToken ?? $0.mlp!.matrices) }
        return (mats.reduce(0) { $0 + $1.byteCount } + head.weight.byteCount(rows: config.vocabSize),
                mats.reduce(0) { $0 + $1.rows * $1.cols } + lmHeadElements)
    }

    /// The bytes of `decodeWeights` that every rank reads in full (the attention's but `wv` and `wo`, replicated).
    public func replicatedDecodeBytes(sparse: Bool) -> Int {
        layers.reduce(0) { $0 + $1.attn.everyRank(indexer: sparse).reduce(0) { $0 + $1.byteCount } }
    }

    /// Elements of the whole LM head (a prefill runs it for the last token only).
    public var lmHeadElements: Int { config.vocabSize * config.hiddenSize }

    /// An empty cache for this rank's share of `capacity` positions.
    public func makeCache(options: InferenceOptions, capacity: Int) -> KVCache {
        KVCache(config: config, options: options, capacity: capacity, plan: plan)
    }

    /// Runs `tokens` at the next positions of `cache` and returns, on the coordinator, the logits
    /// of every token (`[T, vocab]`), or of the last one only (`[1, vocab]`) when `allLogits` is
    /// false; other ranks return `[]`.
    public func forward(_ tokens: [Int], cache: KVCache, allLogits: Bool = true) throws -> [Float] {
        try forward([(tokens, cache)], allLogits: allLogits)[0]
    }

    /// One step over several sequences at once (their tokens share every weight read): each
    /// sequence's tokens go to the next positions of its cache. Returns per sequence what
    /// `forward(_:cache:allLogits:)` returns for it.
    public func forward(_ batch: [(tokens: [Int], cache: KVCache)], allLogits: Bool = true) throws -> [[Float]] {
        var segments = [Segment](), row = 0
        let total = batch.reduce(0) { $0 + $1.tokens.count }
        for (tokens, cache) in batch {
            guard !tokens.isEmpty else { throw ModelError("no tokens to run") }
            if let bad = tokens.firstIndex(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw ModelError("token id \(tokens[bad]) at index \(bad) is outside the vocabulary 0..<\(config.vocabSize)")
            }
            let positions = cache.length..<(cache.length + tokens.count)
            guard positions.upperBound <= cache.capacity else {
                throw ModelError("context overflow: \(positions.upperBound) positions needed, the cache holds \(cache.capacity) (raise --max-context)")
            }
            segments.append(Segment(rows: row..<(row + tokens.count), positions: positions, cache: cache, batchRows: total))
            row += tokens.count
        }
        var h = embed(batch.flatMap { $0.tokens })  // [T, dim]
        for (l, block) in layers.enumerated() {
            h = block(h, segments: segments, layer: l, rope: rope, comm: comm)
        }
        for seg in segments { seg.cache.length = seg.positions.upperBound }
        let dim = config.hiddenSize, vocab = config.vocabSize
        let rows = allLogits ? Array(0..<row) : segments.map { $0.rows.upperBound - 1 }
        let part = Profiler.measure("lm_head") { head(norm(rows.flatMap { h[($0 * dim)..<(($0 + 1) * dim)] })) }  // [rows, this rank's vocabulary rows]
        let logits = comm.size == 1 ? part : comm.reduce(part, everyone: false) { joinColumns($0, rows: rows.count) }  // [rows, vocab] on the coordinator
        guard comm.isCoordinator else { return Array(repeating: [], count: batch.count) }
        var offset = 0
        return segments.map { seg in
            let n = allLogits ? seg.rows.count : 1
            defer { offset += n }
            return n * vocab == logits.count ? logits : Array(logits[(offset * vocab)..<((offset + n) * vocab)])
        }
    }
}

/// One sequence's part of a batch: its rows in the batch and the positions they fill in its cache.
struct Segment {
    let rows: Range<Int>
    let positions: Range<Int>
    let cache: KVCache

    /// The position of batch row `row`.
    func position(ofRow row: Int) -> Int { positions.lowerBound + row - rows.lowerBound }

    /// Rows in the whole batch.
    let batchRows: Int

    /// This segment's rows of a `[batchRows, width]` batch tensor.
    func slice(_ x: [Float]) -> [Float] {
        let width = x.count / batchRows
        return Array(x[(rows.lowerBound * width)..<(rows.upperBound * width)])
    }
}
