import Kernels

/// Multi-head Latent Attention with DeepSeek Sparse Attention (spec §3), always in the absorbed
/// form: queries are projected into the latent space, so the cache holds only latents and one
/// rope key per position, prefill and decode share one code path, and chunked prefill is exact.
struct MLA: Sendable {
    let wqA: Linear?, qNorm: RMSNorm?  // q-LoRA (absent when q_lora_rank is null)
    let wqB: Linear                    // [heads·(nope+rope), q_lora_rank or dim]
    let wkvA: Linear                   // [kv_lora_rank + rope, dim]
    let kvNorm: RMSNorm
    let wkT: Matrix                    // [heads·kv_lora_rank, nope]: K up-projection, transposed per head
    let wv: Matrix                     // [heads·v_head_dim, kv_lora_rank]: V up-projection
    let wo: Linear                     // [dim, heads·v_head_dim]
    let indexer: Indexer?
    let heads: Int, nope: Int, ropeDim: Int, latent: Int, vDim: Int, scale: Float

    init(_ ckpt: Checkpoint, _ prefix: String) throws {
        let c = ckpt.config
        heads = c.numAttentionHeads; nope = c.qkNopeHeadDim; ropeDim = c.qkRopeHeadDim
        latent = c.kvLoraRank; vDim = c.vHeadDim; scale = c.softmaxScale
        if let r = c.qLoraRank {
            wqA = try Linear(ckpt, prefix + ".q_a_proj", in: c.hiddenSize, out: r)
            qNorm = try RMSNorm(ckpt, prefix + ".q_a_layernorm", dim: r)
            wqB = try Linear(ckpt, prefix + ".q_b_proj", in: r, out: heads * c.qkHeadDim)
        } else {
            wqA = nil; qNorm = nil
            wqB = try Linear(ckpt, prefix + ".q_proj", in: c.hiddenSize, out: heads * c.qkHeadDim)
        }
        wkvA = try Linear(ckpt, prefix + ".kv_a_proj_with_mqa", in: c.hiddenSize, out: latent + ropeDim)
        kvNorm = try RMSNorm(ckpt, prefix + ".kv_a_layernorm", dim: latent)
        // kv_b is [heads, nope + v, latent]; split once for the absorbed products. Where each head's
        // K and V rows are whole 128×128 blocks (DeepSeek's shapes), FP8 stays FP8; else fp32.
        let kvB = try ckpt.matrix(prefix + ".kv_b_proj", rows: heads * (nope + vDim), cols: latent)
        let blocks = kvB.format == .fp8 && [nope, vDim, latent].allSatisfy { $0 % Matrix.blockSize == 0 }
        let source = blocks ? kvB : Matrix(rows: kvB.rows, cols: latent, values: kvB.dequantized())
        let (nope, vDim) = (nope, vDim), headRows = { (h: Int) in h * (nope + vDim) }
        wkT = .stacked((0..<heads).map { source.rows(headRows($0)..<(headRows($0) + nope)).transposed() })  // [heads·latent, nope]
        wv = .stacked((0..<heads).map { source.rows((headRows($0) + nope)..<headRows($0 + 1)) })           // [heads·v, latent]
        wo = try Linear(ckpt, prefix + ".o_proj", in: heads * vDim, out: c.hiddenSize)
        indexer = c.hasIndexer ? try Indexer(ckpt, prefix + ".indexer") : nil
    }

    /// The weights one decode token reads (the indexer's only when sparse attention selects).
    func matrices(indexer withIndexer: Bool) -> [Matrix] { everyRank(indexer: withIndexer) + [wo.weight] }

    /// Those of `matrices` that every rank reads: all but `wo`, whose rows the ranks share.
    func everyRank(indexer withIndexer: Bool) -> [Matrix] {
        var mats = [wqB.weight, wkvA.weight, wkT, wv] + (wqA.map { [$0.weight] } ?? [])
        if withIndexer, let indexer { mats += [indexer.wqB.weight, indexer.wk.weight, indexer.weightsProj.weight] }
        return mats
    }

    /// `x`: `[T, dim]` (attn-normed) rows of one or more sequences → `[T, dim]` on every rank. Caches
    /// this rank's positions, attends over the selected positions it holds; the coordinator merges the
    /// ranks' partials for all, and each rank projects them out through its rows of `wo`.
    func callAsFunction(_ x: [Float], segments: [Segment], layer: Int, rope: Rope, comm: Collectives) -> [Float] {
        let t = x.count / wkvA.weight.cols, qkDim = nope + ropeDim
        // The indexer's projections join the attention's that share their input.
        let sparse = { (seg: Segment) in seg.cache.options.attention == .sparse }
        let index = segments.contains(where: sparse) ? indexer : nil
        let scores = index.map { ix in segments.contains { sparse($0) && $0.positions.upperBound > ix.selectCount } } ?? false
        let ofX = Profiler.measure("projections") { project(x, [wkvA, wqA, index?.wk, scores ? index?.weightsProj : nil]) }
        let kv = ofX[0]!                                         // [T, latent + rope]
        let qr = ofX[1].map { qNorm!($0) } ?? x                  // [T, q_lora_rank]
        let ofQr = Profiler.measure("projections") { project(qr, [wqB, scores ? index?.wqB : nil]) }
        var q = ofQr[0]!                                         // [T, heads, nope + rope]
        let cLatent = kvNorm(kv.chunks(t, of: latent + ropeDim, taking: 0..<latent))  // [T, latent]
        var kRope = kv.chunks(t, of: latent + ropeDim, taking: latent..<(latent + ropeDim))  // [T, rope]
        var selected = [[Int32]?](repeating: nil, count: t)
        for seg in segments {
            let cache = seg.cache
            for i in seg.rows {
                let p = seg.position(ofRow: i)
                rope.applyInterleaved(&q, first: i * heads * qkDim + nope, count: heads, stride: qkDim, position: p)
                guard cache.owns(p) else { continue }
                rope.applyInterleaved(&kRope, first: i * ropeDim, position: p)
                cache.latent[layer].set(cache.plan.localRow(p), cLatent[(i * latent)..<((i + 1) * latent)])
                cache.rope[layer].set(cache.plan.localRow(p), kRope[(i * ropeDim)..<((i + 1) * ropeDim)])
            }
            if let index, sparse(seg) {
                let picks = index(keys: seg.slice(ofX[2]!), queries: ofQr[1].map(seg.slice), weights: ofX[3].map(seg.slice),
                                  positions: seg.positions, layer: layer, cache: cache, rope: rope, comm: comm)
                selected.replaceSubrange(seg.rows, with: picks)
            }
        }

        let qLatent = Profiler.measure("projections") { groupedLinear(q.chunks(t * heads, of: qkDim, taking: 0..<nope), wkT, groups: heads) }  // [T, heads, latent]
        let qRope = q.chunks(t * heads, of: qkDim, taking: nope..<qkDim)                                    // [T, heads, rope]
        let partials = Profiler.measure("attention") { attend(qLatent, qRope, selected, segments, layer) }  // [T, heads, latent + 2]
        let o = comm.reduce(partials) { mergeAttention($0, heads: heads, latent: latent) }  // [T, heads, latent], merged on the coordinator
        return Profiler.measure("projections") {
            let v = groupedLinear(o, wv, groups: heads)  // [T, heads, v]
            guard comm.size > 1 else { return wo(v) }  // [T, dim]
            let mine = wo.weight.rows(ShardPlan.rowBlocks(of: comm.rank, ranks: comm.size, count: wo.weight.rows))
            return joinColumns(comm.allGather(linear(v, mine)), rows: t)  // each rank's 128-row blocks of the output, in rank order
        }
    }

    /// This rank's partial attention of every query over the positions it holds (`selected`, or
    /// all visible ones where nil): `[T, heads, latent + 2]`, each query's written in place.
    private func attend(_ qLatent: [Float], _ qRope: [Float], _ selected: [[Int32]?], _ segments: [Segment], _ layer: Int) -> [Double] {
        let width = heads * (latent + 2)
        return [Double](unsafeUninitializedCapacity: selected.count * width) { out, count in
            qLatent.withUnsafeBufferPointer { ql in
                qRope.withUnsafeBufferPointer { qr in
                    let ob = out.baseAddress!, query = { (i: Int) in (ql.baseAddress! + i * heads * latent, qr.baseAddress! + i * heads * ropeDim, ob + i * width) }
                    for seg in segments {
                        let cache = seg.cache, plan = cache.plan
                        // Queries that see every visible position — a segment's first rows, since selection starts past
                        // `index_topk` positions — all at once over the cached keys (causal prefixes).
                        let all = seg.rows.prefix { selected[$0] == nil }
                        if let first = all.first {
                            let keys = gatherKeys(latent: cache.latent[layer], rope: cache.rope[layer],
                                                  rows: Array(0..<Int32(plan.localCount(seg.positions.upperBound))))  // every visible position
                            let (q, qp, o) = query(first)
                            keys.withUnsafeBufferPointer {
                                latentAttention(qLatent: q, qRope: qp, keys: $0, counts: all.map { plan.localCount(seg.position(ofRow: $0) + 1) },
                                                heads: heads, latent: latent, rope: ropeDim, scale: scale, into: o)
                            }
                        }
                        for i in seg.rows.dropFirst(all.count) {
                            let rows = selected[i]!.filter { cache.owns(Int($0)) }.map { Int32(plan.localRow(Int($0))) }
                            let keys = gatherKeys(latent: cache.latent[layer], rope: cache.rope[layer], rows: rows)
                            let (q, qp, o) = query(i)
                            keys.withUnsafeBufferPointer {
                                latentAttention(qLatent: q, qRope: qp, keys: $0, counts: [rows.count], heads: heads, latent: latent, rope: ropeDim, scale: scale, into: o)
                            }
                        }
                    }
                }
            }
            count = selected.count * width
        }
    }
}

extension Array where Element == Float {
    /// Columns `cols` of each of the `rows` rows of width `width`, packed: `[rows, cols.count]`.
    func chunks(_ rows: Int, of width: Int, taking cols: Range<Int>) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(rows * cols.count)
        for r in 0..<rows { out += self[(r * width + cols.lowerBound)..<(r * width + cols.upperBound)] }
        return out
    }
}
