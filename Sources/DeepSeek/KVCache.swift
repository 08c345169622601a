import Kernels

/// The cache of one sequence: for every layer and position the MLA latent (`kv_lora_rank`), the
/// rotated rope key (`qk_rope_head_dim`) and, on V3.2 checkpoints, the indexer key — FP8 code with
/// its power-of-two scale (`--indexer fp8`) or fp32 (`--indexer f32`).
public final class KVCache {
    public let options: InferenceOptions
    public let capacity: Int
    /// Positions already computed; the next token goes to position `length`.
    public internal(set) var length = 0
    let latent: [PackedRows]
    let rope: [PackedRows]
    let indexKeys: [PackedRows]

    /// A cache for up to `capacity` positions.
    public init(config c: ModelConfig, options: InferenceOptions, capacity: Int) {
        self.options = options
        self.capacity = capacity
        let layers = c.numHiddenLayers
        latent = (0..<layers).map { _ in PackedRows(format: options.kvCache, width: c.kvLoraRank, capacity: capacity) }
        rope = (0..<layers).map { _ in
            PackedRows(format: options.kvCache == .f32 ? .f32 : .bf16, width: c.qkRopeHeadDim, capacity: capacity)
        }
        if c.hasIndexer && options.attention == .sparse {
            let dim = c.indexHeadDim!
            indexKeys = (0..<layers).map { _ in
                PackedRows(format: options.indexer == .fp8 ? .fp8 : .f32, width: dim, capacity: capacity, block: dim)
            }
        } else {
            indexKeys = []
        }
    }

    /// Bytes held for each cached position over all layers.
    public var bytesPerPosition: Int {
        (latent + rope + indexKeys).reduce(0) { $0 + $1.bytesPerRow }
    }
}
