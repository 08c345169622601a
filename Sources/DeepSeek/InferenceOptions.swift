import Kernels

/// The numeric choices of a run (`--attention`, `--indexer`, `--kv-cache`).
public struct InferenceOptions: Sendable, Equatable {
    /// `sparse`: DeepSeek Sparse Attention over the indexer's top-k; `dense`: every earlier position.
    public enum Attention: String, Sendable, CaseIterable { case sparse, dense }
    /// `fp8`: DeepSeek's quantized indexer (Hadamard + e4m3); `f32`: exact scores.
    public enum Indexer: String, Sendable, CaseIterable { case fp8, f32 }

    public var attention: Attention
    public var indexer: Indexer
    /// Storage of the cached MLA latent and rope key.
    public var kvCache: PackedRows.Format

    public init(attention: Attention = .sparse, indexer: Indexer = .fp8, kvCache: PackedRows.Format = .bf16) {
        self.attention = attention; self.indexer = indexer; self.kvCache = kvCache
    }
}
