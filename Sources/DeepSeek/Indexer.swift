import Kernels

/// DeepSeek Sparse Attention's lightning indexer: scores every earlier position for each query
/// and keeps the top `index_topk` (spec §4). Each rank scores the positions it caches; the global
/// top-k is the exact merge of the ranks' local top-k lists.
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

    /// Caches the keys of this rank's `positions` and returns, per query, the selected positions
    /// (ascending, over all ranks), or nil when every visible position is selected. The projections
    /// run with the attention's (`MLA`): `keys` is `wk(x)` (`[T, headDim]`); `queries`, `wq_b(qr)`
    /// (`[T, heads·headDim]`), and `weights`, `weights_proj(x)` (`[T, heads]`), are there when a
    /// query is past `index_topk`.
    func callAsFunction(keys kx: [Float], queries: [Float]?, weights: [Float]?, positions: Range<Int>, layer: Int,
                        cache: KVCache, rope: Rope, comm: Collectives) -> [[Int32]?] {
        let t = positions.count, plan = cache.plan, keys = cache.indexKeys[layer], fp8 = cache.options.indexer == .fp8
        var k = layerNorm(kx, weight: kNormWeight, bias: kNormBias, eps: 1e-6)  // [T, headDim]
        for i in 0..<t where cache.owns(positions.lowerBound + i) {
            let p = positions.lowerBound + i
            rope.applyHalfSplit(&k, first: i * headDim, position: p)
            if fp8 { hadamard(&k, offset: i * headDim, count: headDim) }
            keys.set(plan.localRow(p), k[(i * headDim)..<((i + 1) * headDim)])
        }
        let sparse = (0..<t).filter { positions.lowerBound + $0 + 1 > selectCount }
        guard !sparse.isEmpty else { return Array(repeating: nil, count: t) }

        var q = queries!  // [T, heads, headDim]
        let w = weights!  // [T, heads]
        let headScale = 1 / (Float(heads).squareRoot() * Float(headDim).squareRoot())
        var local = [Int32]()  // per sparse query: count, positions, score bit patterns of this rank's top-k
        for i in sparse {
            let p = positions.lowerBound + i
            var headWeights = (0..<heads).map { w[i * heads + $0] * headScale }
            rope.applyHalfSplit(&q, first: i * heads * headDim, count: heads, stride: headDim, position: p)
            for j in 0..<heads {
                let offset = (i * heads + j) * headDim
                if fp8 {
                    hadamard(&q, offset: offset, count: headDim)
                    let (codes, scale) = quantizeFP8(Array(q[offset..<(offset + headDim)]))
                    for d in 0..<headDim { q[offset + d] = FP8.decode(codes[d]) }
                    headWeights[j] *= scale
                }
            }
            let qi = Array(q[(i * heads * headDim)..<((i + 1) * heads * headDim)])
            let scores = Profiler.measure("indexer") { indexScores(q: qi, headWeights: headWeights, keys: keys, count: plan.localCount(p + 1)) }
            let rows = Profiler.measure("topk") { scores.withUnsafeBufferPointer { topK($0, selectCount) } }
            local.append(Int32(rows.count))
            local += rows.map { Int32(plan.position(ofLocalRow: Int($0))) }
            local += rows.map { Int32(bitPattern: scores[Int($0)].bitPattern) }
        }
        let merged = comm.reduce(local) { parts in Profiler.measure("topk") { mergeTopK(parts, queries: sparse.count) } }
        var selected = [[Int32]?](repeating: nil, count: t), offset = 0
        for i in sparse {
            let n = Int(merged[offset])
            selected[i] = Array(merged[(offset + 1)...(offset + n)])
            offset += n + 1
        }
        return selected
    }

    /// The global top-k of each query from the ranks' local lists (as encoded above): ties go to
    /// the lower position, exactly as one top-k over all positions. Per query: count, positions (ascending).
    private func mergeTopK(_ parts: [Part<Int32>], queries: Int) -> [Int32] {
        var offsets = [Int](repeating: 0, count: parts.count), out = [Int32]()
        for _ in 0..<queries {
            var candidates = [(score: Float, position: Int32)]()
            for (r, part) in parts.enumerated() {
                let c = Int(part[offsets[r]]), start = offsets[r] + 1
                for j in 0..<c { candidates.append((Float(bitPattern: UInt32(bitPattern: part[start + c + j])), part[start + j])) }
                offsets[r] += 1 + 2 * c
            }
            candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.position < $1.position }
            let chosen = candidates.prefix(selectCount).map(\.position).sorted()
            out += [Int32(chosen.count)] + chosen
        }
        return out
    }

    /// One vector as e4m3 codes with a single power-of-two scale (`act_quant` with one block).
    private func quantizeFP8(_ v: [Float]) -> (codes: [UInt8], scale: Float) {
        var codes = [UInt8](repeating: 0, count: v.count), scale: Float = 0
        v.withUnsafeBufferPointer { FP8.quantize($0, block: v.count, codes: &codes, scales: &scale) }
        return (codes, scale)
    }
}
