/// One encoding call's working state: the pre-tokenizer and BPE scratch memory.
struct TextEncoder {
    private let model: BytePairModel
    private let cache: WordCache
    private var preTokenizer = PreTokenizer()
    private var scratch = BytePairModel.Scratch()

    init(model: BytePairModel, cache: WordCache) {
        self.model = model
        self.cache = cache
    }

    /// Appends the ids of ordinary text `utf8` (no added tokens) to `ids`.
    mutating func encode(_ utf8: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) {
        preTokenizer.split(utf8)
        for piece in preTokenizer.pieces {
            let word = UnsafeBufferPointer(rebasing: utf8[piece])
            if cache.append(idsOf: word, to: &ids) { continue }
            let start = ids.count
            model.encode(word, into: &ids, scratch: &scratch)
            cache.insert(word, ids[start...])
        }
    }
}
