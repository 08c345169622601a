import Kernels

/// DeepSeek Sparse Attention's lightning indexer: scores every earlier position for each query
/// and keeps the top `index_topk` (spec §4).
struct Indexer: Sendable {
    let wqB: Linear          // [heads·headDim, q_lora_rank]
    let wk: Linear           // [headDim, dim]
    let kNormWeight: [Float], kNormBias: [Float]
    let weightsProj: Linear  // [heads, dim]
    let heads: Int, headDim: Int, selectCount: Int

    init(_ ckpt: Checkpoint, _ prefix: String) throws {
        let c = ckpt.config
        heads = c.indexNHeads!; headDim = c.indexHeadDim!; selectCount = c.indexTopk!
        guard let qLora = c.qLoraRank else { throw ModelError("config.json: q_lora_rank is null, but the DSA indexer needs the q-LoRA latent") }
        wqB = try Linear(ckpt, prefix + ".wq_b", in: qLora, out: heads * headDim)
        wk = try Linear(ckpt, prefix + ".wk", in: c.hiddenSize, out: headDim)
        kNormWeight = try ckpt.vector(prefix + ".k_norm.weight", count: headDim)
        kNormBias = try ckpt.vector(prefix + ".k_norm.bias", count: headDim)
        weightsProj = try Linear(ckpt, prefix + ".weights_proj", in: c.hiddenSize, out: heads)
    }

    /// Stores the keys of `positions` in `keys` and returns, per query, the selected positions
    /// (ascending), or nil when every visible position is selected (at most `index_topk`).
    /// `x`: `[T, dim]` normed hidden states; `qr`: `[T, q_lora_rank]`.
    func callAsFunction(_ x: [Float], _ qr: [Float], positions: Range<Int>, keys: PackedRows,
                        rope: Rope, fp8: Bool) -> [[Int32]?] {
        let t = positions.count
        var k = layerNorm(wk(x), weight: kNormWeight, bias: kNormBias, eps: 1e-6)  // [T, headDim]
        for i in 0..<t {
            rope.applyHalfSplit(&k, offset: i * headDim, position: positions.lowerBound + i)
            if fp8 { hadamard(&k, offset: i * headDim, count: headDim) }
            keys.set(positions.lowerBound + i, k[(i * headDim)..<((i + 1) * headDim)])
        }
        guard positions.upperBound > selectCount else { return Array(repeating: nil, count: t) }

        var q = wqB(qr)  // [T, heads, headDim]
        let w = weightsProj(x)  // [T, heads]
        let headScale = 1 / (Float(heads).squareRoot() * Float(headDim).squareRoot())
        return (0..<t).map { i -> [Int32]? in
            let p = positions.lowerBound + i
            guard p + 1 > selectCount else { return nil }
            var headWeights = (0..<heads).map { w[i * heads + $0] * headScale }
            for j in 0..<heads {
                let offset = (i * heads + j) * headDim
                rope.applyHalfSplit(&q, offset: offset, position: p)
                if fp8 {
                    hadamard(&q, offset: offset, count: headDim)
                    let (codes, scale) = quantizeFP8(Array(q[offset..<(offset + headDim)]))
                    for d in 0..<headDim { q[offset + d] = FP8.decode(codes[d]) }
                    headWeights[j] *= scale
                }
            }
            let qi = Array(q[(i * heads * headDim)..<((i + 1) * heads * headDim)])
            let scores = indexScores(q: qi, headWeights: headWeights, keys: keys, count: p + 1)
            return scores.withUnsafeBufferPointer { topK($0, selectCount) }
        }
    }

    /// One vector as e4m3 codes with a single power-of-two scale (`act_quant` with one block).
    private func quantizeFP8(_ v: [Float]) -> (codes: [UInt8], scale: Float) {
        var codes = [UInt8](repeating: 0, count: v.count), scale: Float = 0
        v.withUnsafeBufferPointer { FP8.quantize($0, block: v.count, codes: &codes, scales: &scale) }
        return (codes, scale)
    }
}
