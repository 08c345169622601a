import Foundation
import Synchronization

/// Grouped linear: `y[t, g, o] = Σ_i W[g·outPerGroup + o, i] · x[t, g, i]` — one small matrix per
/// group (per attention head), every group's rows in one `[groups·outPerGroup, in]` matrix. Each
/// group's rows run through `linearRows` against that group's tokens, so a prefill gets the
/// register tiles of `linear`.
public func groupedLinear(_ x: [Float], _ w: Matrix, groups: Int) -> [Float] {
    let inDim = w.cols, outPer = w.rows / groups, t = x.count / (groups * inDim)
    precondition(t * groups * inDim == x.count && outPer * groups == w.rows)
    // [groups, T, in]: each group's tokens one after the other (already so for one token).
    var byGroup = x
    if t > 1 {
        for g in 0..<groups {
            for i in 0..<t { byGroup.replaceSubrange(((g * t + i) * inDim)..<((g * t + i + 1) * inDim), with: x[((i * groups + g) * inDim)..<((i * groups + g + 1) * inDim)]) }
        }
    }
    var y = [Float](unsafeUninitializedCapacity: t * w.rows) { _, count in count = t * w.rows }  // [T, groups, outPer] = [T, w.rows], every value written below
    byGroup.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
            let xb = xp.baseAddress!, yb = yp.baseAddress!, v = w.view
            Parallel.forRanges(w.rows, align: 8, minPerTask: 8, reads: [w.region]) { rows in
                var r = rows.lowerBound
                while r < rows.upperBound {  // one group's rows at a time, which share an input
                    let g = r / outPer, part = r..<Swift.min(rows.upperBound, (g + 1) * outPer)
                    linearRows(xb + g * t * inDim, tokens: t, v, yb, part)
                    r = part.upperBound
                }
            }
        }
    }
    return y
}

/// Absorbed-MLA attention of one query over `n` gathered keys, as a partial result that merges
/// with other ranks' partials (`mergeAttention`). Accumulation is in fp64 from fp32 scores, so
/// however the keys are split over ranks the merged fp32 result is the same.
/// `keys` is `[n, latent + rope]` (each row the cached latent then the rope key); `qLatent` is
/// `[heads, latent]`, `qRope` `[heads, rope]`; scores are `scale · (qLatent·latent_s + qRope·rope_s)`.
/// Returns `[heads, latent + 2]`: per head `Σ_s exp(score_s − max)·latent_s`, `Σ_s exp(score_s − max)`
/// and `max` (0, 0 and −∞ when `n` is 0).
public func latentAttention(qLatent: [Float], qRope: [Float], keys: UnsafeBufferPointer<Float>, count n: Int,
                            heads: Int, latent: Int, rope: Int, scale: Float) -> [Double] {
    latentAttention(qLatent: qLatent, qRope: qRope, keys: keys, counts: [n], heads: heads, latent: latent, rope: rope, scale: scale)
}

/// `latentAttention` of several queries (`qLatent` `[T, heads, latent]`, `qRope` `[T, heads, rope]`),
/// query `i` over the first `counts[i]` keys (a prefill's causal prefixes), in one parallel pass:
/// `[T, heads, latent + 2]`. Four heads go together where they can (they share every key they
/// load). A query's keys are cut into `keyChunks(n)` runs, each softmaxed alone, then merged in
/// order (`mergeChunk`); where queries and heads are too few for the workers (decode), each run is
/// a task of its own and the last of a head group's runs to finish merges them, else a task takes
/// a query's runs one after the other — the same sums either way, so a query gives the same bits
/// alone or with others.
public func latentAttention(qLatent: [Float], qRope: [Float], keys: UnsafeBufferPointer<Float>, counts: [Int],
                            heads: Int, latent: Int, rope: Int, scale: Float) -> [Double] {
    let t = counts.count, size = t * heads * (latent + 2)
    precondition(qLatent.count == t * heads * latent && qRope.count == t * heads * rope)
    return [Double](unsafeUninitializedCapacity: size) { out, count in
        qLatent.withUnsafeBufferPointer { ql in
            qRope.withUnsafeBufferPointer { qr in
                if t > 0 { latentAttention(qLatent: ql.baseAddress!, qRope: qr.baseAddress!, keys: keys, counts: counts, heads: heads, latent: latent, rope: rope, scale: scale, into: out.baseAddress!) }
            }
        }
        count = size
    }
}

/// The pointer form of `latentAttention`: the queries read in place, every value of `out`
/// (`[T, heads, latent + 2]`) written.
public func latentAttention(qLatent: UnsafePointer<Float>, qRope: UnsafePointer<Float>, keys: UnsafeBufferPointer<Float>, counts: [Int],
                            heads: Int, latent: Int, rope: Int, scale: Float, into ob: UnsafeMutablePointer<Double>) {
    let width = latent + rope, stride = latent + 2, t = counts.count
    precondition(keys.count >= (counts.max() ?? 0) * width)
    let group = heads % 4 == 0 ? 4 : 1, groups = heads / group
    let chunks = counts.map(keyChunks), split = t * groups < Parallel.threads  // one task per run of keys
    // Split: run c of query i's heads at runs[(runAt[i] + c) · heads · stride], all merged after.
    let runAt = offsets(split ? chunks : []), runs = UnsafeMutablePointer<Double>.allocate(capacity: (runAt.last ?? 0) * heads * stride)
    defer { runs.deallocate() }
    /// Heads `first..<first + group` of query `i` over run `c` of its keys, into `o` (`[group, stride]`).
    func run(_ i: Int, _ c: Int, _ first: Int, _ o: UnsafeMutablePointer<Double>) {
        let n = counts[i], lo = n * c / chunks[i], hi = n * (c + 1) / chunks[i]
        guard hi > lo, let kb = keys.baseAddress else {
            for g in 0..<group { (o + g * stride).initialize(repeating: 0, count: latent + 1); o[g * stride + latent + 1] = -.infinity }
            return
        }
        attendRun(qLatent + (i * heads + first) * latent, qRope + (i * heads + first) * rope, kb + lo * width, hi - lo, group: group,
                  latent: latent, rope: rope, scale: scale, o, stride: stride)
    }
    if split {
        let tasks = offsets((0..<t).map { chunks[$0] * groups })
        let finished = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: t * groups)  // runs done per query's head group
        for j in 0..<(t * groups) { (finished + j).initialize(to: Atomic(0)) }
        defer { finished.deallocate() }
        Parallel.forEach(tasks.last!) { task in
            let i = (0..<t).last { tasks[$0] <= task }!, c = (task - tasks[i]) / groups, first = (task - tasks[i]) % groups * group
            let at = { (c: Int) in runs + ((runAt[i] + c) * heads + first) * stride }
            run(i, c, first, at(c))
            // The last of the group's runs to finish merges them all, in order (on one core, the merges read 200 KB others wrote).
            guard finished[i * groups + first / group].add(1, ordering: .acquiringAndReleasing).newValue == chunks[i] else { return }
            let o = ob + (i * heads + first) * stride
            o.update(from: at(0), count: group * stride)
            for c in 1..<chunks[i] { mergeChunk(o, at(c), rows: group, latent: latent) }
        }
    } else {
        Parallel.forEach(t * groups) { task in
            let i = task / groups, first = task % groups * group, o = ob + (i * heads + first) * stride
            run(i, 0, first, o)
            guard chunks[i] > 1 else { return }
            withUnsafeTemporaryAllocation(of: Double.self, capacity: group * stride) { next in
                for c in 1..<chunks[i] {
                    run(i, c, first, next.baseAddress!)
                    mergeChunk(o, next.baseAddress!, rows: group, latent: latent)
                }
            }
        }
    }
}

/// How many runs a query's `n` keys are cut into: up to four of at least 16 keys.
func keyChunks(_ n: Int) -> Int { Swift.max(1, Swift.min(4, n / 16)) }

/// `rows` partials (`[rows, latent + 2]` each) of later keys merged into `o`: both rescaled to the
/// larger max.
func mergeChunk(_ o: UnsafeMutablePointer<Double>, _ p: UnsafePointer<Double>, rows: Int, latent: Int) {
    let stride = latent + 2
    for r in 0..<rows {
        let a = o + r * stride, b = p + r * stride, m = Swift.max(a[latent + 1], b[latent + 1])
        guard m > -.infinity else { continue }
        let wa = exp(a[latent + 1] - m), wb = exp(b[latent + 1] - m)
        for d in 0...latent { a[d] = a[d] * wa + b[d] * wb }
        a[latent + 1] = m
    }
}

/// The partial of `group` heads (queries `q` `[group, latent]`, `qp` `[group, rope]`) over `n` keys at
/// `kb` (`[n, latent + rope]`) into `o` (`[group, stride]`): `Σ exp(score − max)·latent`, `Σ exp(score − max)`, max.
@inline(__always)
func attendRun(_ q: UnsafePointer<Float>, _ qp: UnsafePointer<Float>, _ kb: UnsafePointer<Float>, _ n: Int, group: Int,
               latent: Int, rope: Int, scale: Float, _ o: UnsafeMutablePointer<Double>, stride: Int) {
    let width = latent + rope, count = n * group
    // [group, n] exp(score − max), then [group, n] scores: on the stack unless large.
    withUnsafeTemporaryAllocation(byteCount: count * 12, alignment: 8) { buffer in
        let e = buffer.baseAddress!.bindMemory(to: Double.self, capacity: count)
        let p = (buffer.baseAddress! + count * 8).bindMemory(to: Float.self, capacity: count)
        if group == 4 {  // four heads against four keys (or one) at a time, each scored as alone
            var s = 0
            while Tiles.wide && s + 4 <= n {
                let k = kb + s * width
                let d = scale * (dotF32x4x4(q, strideA: latent, k, strideB: width, latent) + dotF32x4x4(qp, strideA: rope, k + latent, strideB: width, rope))
                for j in 0..<4 { for g in 0..<4 { p[g * n + s + j] = d[j * 4 + g] } }
                s += 4
            }
            for s in s..<n {
                let k = kb + s * width
                let d = scale * (dotF32x4(k, rows: q, stride: latent, latent) + dotF32x4(k + latent, rows: qp, stride: rope, rope))
                for g in 0..<4 { p[g * n + s] = d[g] }
            }
        } else {
            var s = 0
            while s + 4 <= n {  // four keys at a time, each scored as alone
                let k = kb + s * width
                let d = scale * (dotF32x4(q, rows: k, stride: width, latent) + dotF32x4(qp, rows: k + latent, stride: width, rope))
                for j in 0..<4 { p[s + j] = d[j] }
                s += 4
            }
            for s in s..<n { p[s] = scale * (dotF32(q, kb + s * width, latent) + dotF32(qp, kb + s * width + latent, rope)) }
        }
        for g in 0..<group {
            var m = -Float.infinity
            for s in 0..<n { m = Swift.max(m, p[g * n + s]) }
            var sum = 0.0
            for s in 0..<n {
                e[g * n + s] = exp(Double(p[g * n + s]) - Double(m))
                sum += e[g * n + s]
            }
            o[g * stride + latent] = sum
            o[g * stride + latent + 1] = Double(m)
        }
        if group == 4 {
            weightedKeySums4(e, n, keys: kb, width: width, latent: latent, o, stride: stride)
        } else {
            for d in 0..<latent { o[d] = 0 }
            for s in 0..<n { axpyDouble(e[s], kb + s * width, o, latent) }
        }
    }
}

/// `out[g][d] = Σ_s e[g·n + s] · keys[s][d]` for four heads `g` (rows `stride` apart) and the first
/// `latent` values of each key row, the keys in order: each element's sum exactly as `axpyDouble`
/// key after key builds it from 0, but in registers, four heads by eight values at a time (sixteen
/// on vector units with 32 registers).
@inline(__always)
func weightedKeySums4(_ e: UnsafePointer<Double>, _ n: Int, keys: UnsafePointer<Float>, width: Int, latent: Int,
                      _ out: UnsafeMutablePointer<Double>, stride: Int) {
    let e1 = e + n, e2 = e1 + n, e3 = e2 + n, fused = latent - latent % 4
    var d = 0
    while Tiles.wide && d + 16 <= fused {  // sixteen values: eight accumulators
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>(), a2 = SIMD8<Double>(), a3 = SIMD8<Double>()
        var b0 = SIMD8<Double>(), b1 = SIMD8<Double>(), b2 = SIMD8<Double>(), b3 = SIMD8<Double>()
        for s in 0..<n {
            let p = UnsafeRawPointer(keys + s * width + d)
            let k = SIMD8<Double>(p.loadUnaligned(as: SIMD8<Float>.self)), l = SIMD8<Double>(p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
            let f0 = SIMD8(repeating: e[s]), f1 = SIMD8(repeating: e1[s]), f2 = SIMD8(repeating: e2[s]), f3 = SIMD8(repeating: e3[s])
            a0.addProduct(f0, k); a1.addProduct(f1, k); a2.addProduct(f2, k); a3.addProduct(f3, k)
            b0.addProduct(f0, l); b1.addProduct(f1, l); b2.addProduct(f2, l); b3.addProduct(f3, l)
        }
        let o = UnsafeMutableRawPointer(out + d), rowBytes = stride * 8
        for (g, (a, b)) in [(a0, b0), (a1, b1), (a2, b2), (a3, b3)].enumerated() {
            o.storeBytes(of: a, toByteOffset: g * rowBytes, as: SIMD8<Double>.self)
            o.storeBytes(of: b, toByteOffset: g * rowBytes + 64, as: SIMD8<Double>.self)
        }
        d += 16
    }
    while d + 8 <= fused {
        var a0 = SIMD8<Double>(), a1 = SIMD8<Double>(), a2 = SIMD8<Double>(), a3 = SIMD8<Double>()
        for s in 0..<n {
            let k = SIMD8<Double>(UnsafeRawPointer(keys + s * width + d).loadUnaligned(as: SIMD8<Float>.self))
            a0.addProduct(SIMD8(repeating: e[s]), k); a1.addProduct(SIMD8(repeating: e1[s]), k)
            a2.addProduct(SIMD8(repeating: e2[s]), k); a3.addProduct(SIMD8(repeating: e3[s]), k)
        }
        let o = UnsafeMutableRawPointer(out + d), rowBytes = stride * 8
        o.storeBytes(of: a0, as: SIMD8<Double>.self); o.storeBytes(of: a1, toByteOffset: rowBytes, as: SIMD8<Double>.self)
        o.storeBytes(of: a2, toByteOffset: 2 * rowBytes, as: SIMD8<Double>.self); o.storeBytes(of: a3, toByteOffset: 3 * rowBytes, as: SIMD8<Double>.self)
        d += 8
    }
    for g in 0..<4 {  // the last values: fused up to a multiple of 4, then separately rounded
        for i in d..<latent {
            var a = 0.0
            for s in 0..<n { if i < fused { a.addProduct(e[g * n + s], Double(keys[s * width + i])) } else { a += e[g * n + s] * Double(keys[s * width + i]) } }
            out[g * stride + i] = a
        }
    }
}
/// Merges partial attention results of the same queries (`[queries, heads, latent + 2]` each, as
/// `latentAttention` returns them) into `[queries, heads, latent]`: the softmax-weighted sum over
/// the union of their keys, rescaling each part by `exp(max − global max)` in fp64.
public func mergeAttention(_ parts: [Part<Double>], heads: Int, latent: Int) -> [Float] {
    let stride = latent + 2, rows = parts[0].count / stride
    return [Float](unsafeUninitializedCapacity: rows * latent) { out, count in
        let ob = out.baseAddress!
        Parallel.forRanges(rows, minPerTask: 32) { range in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: latent) { acc in
                for r in range {
                    let m = parts.reduce(-Double.infinity) { Swift.max($0, $1[r * stride + latent + 1]) }
                    var total = 0.0
                    acc.initialize(repeating: 0)
                    for part in parts where part[r * stride + latent + 1] > -.infinity {
                        let w = exp(part[r * stride + latent + 1] - m)
                        total += w * part[r * stride + latent]
                        for i in 0..<latent { acc[i] += w * part[r * stride + i] }
                    }
                    let scale = 1 / total
                    for i in 0..<latent { ob[r * latent + i] = Float(acc[i] * scale) }
                }
            }
        }
        count = rows * latent
    }
}

/// Naive twin of `latentAttention` followed by `mergeAttention`: `[heads, latent]`.
public func naiveLatentAttention(qLatent: [Float], qRope: [Float], keys: [Float], count n: Int,
                                 heads: Int, latent: Int, rope: Int, scale: Float) -> [Float] {
    let width = latent + rope
    var out = [Float](repeating: 0, count: heads * latent)
    for h in 0..<heads {
        let scores = (0..<n).map { s -> Double in
            var d = 0.0
            for i in 0..<latent { d += Double(qLatent[h * latent + i]) * Double(keys[s * width + i]) }
            for i in 0..<rope { d += Double(qRope[h * rope + i]) * Double(keys[s * width + latent + i]) }
            return Double(scale) * d
        }
        let m = scores.max()!
        let e = scores.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
        for i in 0..<latent {
            var acc = 0.0
            for s in 0..<n { acc += e[s] / z * Double(keys[s * width + i]) }
            out[h * latent + i] = Float(acc)
        }
    }
    return out
}

/// Gathers `rows` of `latent` and `rope` into one `[n, latent.width + rope.width]` buffer.
public func gatherKeys(latent: PackedRows, rope: PackedRows, rows: [Int32]) -> [Float] {
    let width = latent.width + rope.width, n = rows.count
    return [Float](unsafeUninitializedCapacity: n * width) { buf, count in
        let b = buf.baseAddress!
        Parallel.forRanges(n, minPerTask: 16) { range in
            for i in range {
                latent.decode(Int(rows[i]), into: b + i * width)
                rope.decode(Int(rows[i]), into: b + i * width + latent.width)
            }
        }
        count = n * width
    }
}

/// Lightning-indexer scores of one query against keys `0..<n`:
/// `I[s] = keyScale[s] · Σ_j headWeights[j] · ReLU(q[j] · k[s])`, with `q` `[heads, dim]` (already
/// dequantized or exact) and `keys` rows of `dim` values. For FP8 keys the row scale is applied
/// after the ReLU, as DeepSeek's `fp8_index` kernel does. Keys go four at a time against each head
/// (four heads at a time on 32-register vector units), every dot product as `dotF32` alone.
public func indexScores(q: [Float], headWeights: [Float], keys: PackedRows, count n: Int) -> [Float] {
    let dim = keys.width, heads = headWeights.count
    precondition(q.count == heads * dim)
    var scores = [Float](repeating: 0, count: n)
    q.withUnsafeBufferPointer { qp in
        scores.withUnsafeMutableBufferPointer { sp in
            let qb = qp.baseAddress!, sb = sp.baseAddress!
            Parallel.forRanges(n, minPerTask: 64) { range in
                let k = UnsafeMutablePointer<Float>.allocate(capacity: 4 * dim)  // [4, dim] decoded keys
                defer { k.deallocate() }
                var s = range.lowerBound
                while s < range.upperBound {
                    let count = Swift.min(4, range.upperBound - s)
                    var keyScale = SIMD4<Float>(repeating: 1), total = SIMD4<Float>()
                    for j in 0..<count {
                        keys.decode(s + j, into: k + j * dim, scaled: false)  // FP8 keys: one power-of-two scale per row
                        if keys.format == .fp8 { keyScale[j] = keys.scales[(s + j) * keys.blocksPerRow] }
                    }
                    @inline(__always) func add(_ head: Int, _ d: SIMD4<Float>) {
                        total += headWeights[head] * SIMD4(Swift.max(d[0], 0), Swift.max(d[1], 0), Swift.max(d[2], 0), Swift.max(d[3], 0))
                    }
                    if count == 4 {
                        var j = 0
                        while Tiles.wide && j + 4 <= heads {
                            let d = dotF32x4x4(qb + j * dim, strideA: dim, k, strideB: dim, dim)  // [key · 4 + head]
                            for h in 0..<4 { add(j + h, SIMD4(d[h], d[4 + h], d[8 + h], d[12 + h])) }
                            j += 4
                        }
                        for j in j..<heads { add(j, dotF32x4(qb + j * dim, rows: k, stride: dim, dim)) }
                    } else {
                        for j in 0..<heads {
                            for key in 0..<count { total[key] += headWeights[j] * Swift.max(dotF32(qb + j * dim, k + key * dim, dim), 0) }
                        }
                    }
                    for j in 0..<count { sb[s + j] = total[j] * keyScale[j] }
                    s += count
                }
            }
        }
    }
    return scores
}
