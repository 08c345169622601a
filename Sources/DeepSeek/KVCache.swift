import Kernels

/// The cache of one sequence on one rank: for each layer and each position this rank owns (see
/// `ShardPlan`) the MLA latent (`kv_lora_rank`), the rotated rope key (`qk_rope_head_dim`) and, on
/// V3.2 checkpoints, the indexer key — FP8 code with its power-of-two scale (`--indexer fp8`) or
/// fp32 (`--indexer f32`). Local rows ascend with positions.
public final class KVCache {
    public let options: InferenceOptions
    public let plan: ShardPlan
    /// Positions of the sequence (over all ranks) the cache can hold.
    public let capacity: Int
    /// Positions already computed; the next token goes to position `length`.
    public internal(set) var length = 0
    let latent: [PackedRows]
    let rope: [PackedRows]
    let indexKeys: [PackedRows]

    /// A cache for up to `capacity` positions, of which this rank holds its share.
    public init(config c: ModelConfig, options: InferenceOptions, capacity: Int, plan: ShardPlan? = nil) {
        self.options = options
        self.capacity = capacity
        let plan = plan ?? .single(c)
        self.plan = plan
        let rows = plan.localCount(capacity), layers = c.numHiddenLayers
        latent = (0..<layers).map { _ in PackedRows(format: options.kvCache, width: c.kvLoraRank, capacity: rows) }
        rope = (0..<layers).map { _ in PackedRows(format: options.kvCache == .f32 ? .f32 : .bf16, width: c.qkRopeHeadDim, capacity: rows) }
        if c.hasIndexer && options.attention == .sparse {
            let dim = c.indexHeadDim!
            indexKeys = (0..<layers).map { _ in
                PackedRows(format: options.indexer == .fp8 ? .fp8 : .f32, width: dim, capacity: rows, block: dim)
            }
        } else {
            indexKeys = []
        }
    }

    /// Whether this rank caches position `p`.
    func owns(_ p: Int) -> Bool { plan.owner(of: p) == plan.rank }

    /// Positions `0..<length` held by this rank.
    public var localPositions: Int { plan.localCount(length) }

    /// Bytes held for each cached position over all layers.
    public var bytesPerPosition: Int {
        (latent + rope + indexKeys).reduce(0) { $0 + $1.bytesPerRow }
    }

    /// Fills positions `0..<length` with random latents, rope keys and indexer keys, as if a
    /// prompt had run — for timing long contexts without the prefill (`dsa bench`).
    public func fillSynthetic(length: Int, seed: UInt64 = 1) {
        precondition(length <= capacity)
        for (l, rows) in (latent + rope + indexKeys).enumerated() {
            var rng = SplitMix64(seed: seed &+ UInt64(l))
            var row = [Float](repeating: 0, count: rows.width)
            for r in 0..<plan.localCount(length) {
                for i in row.indices { row[i] = Float(rng.uniform() * 3.4 - 1.7) }
                rows.set(r, row[...])
            }
        }
        self.length = length
    }
}
