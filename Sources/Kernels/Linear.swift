/// `y = x · Wᵀ`: the linear layer of every weight format, with FP8 block scales applied inside.
/// Parallel over output rows, so each weight row is read once per call whatever the token count.
/// Each output is bit-identical whatever the token count (one summation order for both paths),
/// so chunked prefill and decode reproduce a full prefill exactly.
public func linear(_ x: UnsafePointer<Float>, tokens m: Int, _ w: Matrix, _ y: UnsafeMutablePointer<Float>) {
    let v = w.view
    Parallel.forRanges(w.rows, align: w.format == .fp8 || w.format == .bf16 ? 8 : 1, minPerTask: 4, reads: [w.region]) { rows in linearRows(x, tokens: m, v, y, rows) }
}

/// Register tiles with 16 accumulators — prefill's 4 rows × 4 tokens (`dot4x4`, else 2 × 2), the
/// attention's and the indexer's 4 heads × 4 keys — on vector units with 32 registers (AVX-512
/// builds define `WIDE_VECTORS`); tests switch it to check both.
public enum Tiles {
    #if WIDE_VECTORS
    nonisolated(unsafe) public static var wide = true
    #else
    nonisolated(unsafe) public static var wide = false
    #endif
}

/// Outputs `rows` of `linear(x, tokens: m, w, y)`: one task's share. Beyond two tokens, rows are
/// decoded to fp32 a chunk at a time (about 256 KB, which stays in cache) and multiplied against
/// the tokens in register tiles — four rows by four tokens (`dot4x4`) where the vector unit has 32
/// registers (`Tiles.wide`), else two by two (`dot2x2`) — so each token is read once per chunk.
@inline(__always)
func linearRows(_ x: UnsafePointer<Float>, tokens m: Int, _ w: MatrixView, _ y: UnsafeMutablePointer<Float>, _ rows: Range<Int>) {
    let k = w.cols, n = w.rows
    if m <= 2 {
        w.forEachDot(rows: rows, tokens: m, x) { t, r, value in y[t * n + r] = value }
        return
    }
    let chunk = Swift.max(4, Swift.min(32, (1 << 16) / k)) & ~3
    let decoded = UnsafeMutablePointer<Float>.allocate(capacity: chunk * k)
    // The last `m % 4` tokens and zeros: a whole group of four for the wide tiles.
    let padded: UnsafeMutablePointer<Float>? = Tiles.wide && m % 4 != 0 ? .allocate(capacity: 4 * k) : nil
    defer { decoded.deallocate(); padded?.deallocate() }
    if let padded {
        padded.initialize(repeating: 0, count: 4 * k)
        padded.update(from: x + (m - m % 4) * k, count: m % 4 * k)
    }
    for first in stride(from: rows.lowerBound, to: rows.upperBound, by: chunk) {
        let last = Swift.min(first + chunk, rows.upperBound)
        for r in first..<last { w.decodeRow(r, into: decoded + (r - first) * k, scaled: false) }
        let row = { (r: Int) in decoded + (r - first) * k }
        /// Rows `rs` against tokens `ts` two by two, then the odd row and the odd token alone.
        func byPairs(_ rs: Range<Int>, _ ts: Range<Int>) {
            var t = ts.lowerBound
            while t + 2 <= ts.upperBound {
                var r = rs.lowerBound
                while r + 2 <= rs.upperBound {
                    let d = w.dot2x2(rows: r, decoded: row(r), x + t * k, x + (t + 1) * k)
                    y[t * n + r] = d[0]; y[t * n + r + 1] = d[1]; y[(t + 1) * n + r] = d[2]; y[(t + 1) * n + r + 1] = d[3]
                    r += 2
                }
                if r < rs.upperBound { for u in t..<(t + 2) { y[u * n + r] = w.dot(row: r, decoded: row(r), x + u * k) } }
                t += 2
            }
            if t < ts.upperBound { for r in rs { y[t * n + r] = w.dot(row: r, decoded: row(r), x + t * k) } }
        }
        var t = 0
        if Tiles.wide {
            // Up to 16 tokens at a time, over slices of two FP8 blocks: the chunk's rows of a slice
            // (32 KB) stay in L1 while each group of four tokens passes them. The last one to
            // three tokens go as a group too, padded with zeros.
            let quads = (last - first) / 4, slice = w.format == .fp8 ? 2 * Matrix.blockSize : k
            withUnsafeTemporaryAllocation(of: TileSums.self, capacity: 4 * quads) { sums in
                while t < m {
                    let groups = Swift.max(1, Swift.min(4, (m - t) / 4)), real = Swift.min(4 * groups, m - t)
                    let tokens = real % 4 == 0 ? x + t * k : UnsafePointer(padded!)
                    sums.initialize(repeating: TileSums())
                    for c in stride(from: 0, to: k, by: slice) {
                        for g in 0..<groups {
                            for q in 0..<quads {
                                w.dot4x4(rows: first + 4 * q, decoded: row(first + 4 * q), tokens + 4 * g * k, columns: c..<Swift.min(c + slice, k), &sums[g * quads + q])
                            }
                        }
                    }
                    for g in 0..<groups {
                        for q in 0..<quads {
                            let p = sums[g * quads + q].products
                            for j in 0..<Swift.min(4, real - 4 * g) { for i in 0..<4 { y[(t + 4 * g + j) * n + first + 4 * q + i] = p[j * 4 + i] } }
                        }
                    }
                    byPairs((first + 4 * quads)..<last, t..<(t + real))
                    t += real
                }
            }
        }
        byPairs(first..<last, t..<m)
    }
}

/// Several linears of one input `x` (`[T, in]`) in one parallel pass over all their rows (an MLP's
/// gate and up projections, the attention's projections of the hidden state): `linears(x, ws)[j]`
/// equals `linear(x, ws[j])` bit for bit, with one dispatch instead of one per matrix.
public func linears(_ x: [Float], _ ws: [Matrix]) -> [[Float]] {
    guard let cols = ws.first?.cols else { return [] }
    let m = x.count / cols, yOffsets = offsets(ws.map { m * $0.rows })
    let ys = UnsafeMutablePointer<Float>.allocate(capacity: yOffsets.last!)
    defer { ys.deallocate() }
    x.withUnsafeBufferPointer { x in linears(ws.indices.map { (x.baseAddress!, m, ws[$0], ys + yOffsets[$0]) }) }
    return ws.indices.map { Array(UnsafeBufferPointer(start: ys + yOffsets[$0], count: yOffsets[$0 + 1] - yOffsets[$0])) }
}

/// The pointer form of `linears`, each job with its own input: `y = x · wᵀ` (`x` is `[tokens, w.cols]`,
/// `y` `[tokens, w.rows]`; the experts of a MoE layer).
func linears(_ jobs: [(x: UnsafePointer<Float>, tokens: Int, w: Matrix, y: UnsafeMutablePointer<Float>)]) {
    let views = jobs.map { $0.w.view }
    forEachPiece(rows: jobs.map { $0.w.rows }, work: jobs.map { $0.tokens * $0.w.cols }, reads: jobs.map { $0.w.region }) { j, rows in
        linearRows(jobs[j].x, tokens: jobs[j].tokens, views[j], jobs[j].y, rows)
    }
}

/// `body(j, rows)` over all `rows[j]` rows of each `j`, in one parallel pass of pieces of about
/// equal work (`work[j]` a row of `j`), each starting on a multiple of 8 within its `j`; `reads`, `next`
/// and `alongside` as `Parallel.forRanges`'.
func forEachPiece(rows: [Int], work: [Int], reads: [Region], next: [Region]? = nil, alongside: (() -> Void)? = nil, _ body: (Int, Range<Int>) -> Void) {
    let share = zip(rows, work).reduce(0) { $0 + $1.0 * $1.1 } / Parallel.maxTasks
    let size = rows.indices.map { j in Swift.max(8, (share / Swift.max(work[j], 1) + 7) / 8 * 8) }  // rows per piece of `j`
    let firstPiece = offsets(rows.indices.map { (rows[$0] + size[$0] - 1) / size[$0] })
    Parallel.forEach(firstPiece.last!, reads: reads, next: next, alongside: alongside) { p in
        var j = 0
        while p >= firstPiece[j + 1] { j += 1 }
        let lo = (p - firstPiece[j]) * size[j]
        body(j, lo..<Swift.min(rows[j], lo + size[j]))
    }
}

/// Running sums `[0, a, a+b, …]`.
func offsets(_ counts: [Int]) -> [Int] { counts.reduce(into: [0]) { $0.append($0.last! + $1) } }

/// `x [m, cols] → [m, rows]`, the array form of `linear`.
public func linear(_ x: [Float], _ w: Matrix) -> [Float] {
    let m = x.count / w.cols
    precondition(m * w.cols == x.count, "linear: input of \(x.count) values is not a multiple of \(w.cols)")
    return [Float](unsafeUninitializedCapacity: m * w.rows) { y, count in
        x.withUnsafeBufferPointer { linear($0.baseAddress!, tokens: m, w, y.baseAddress!) }
        count = m * w.rows
    }
}

/// Naive twin of `linear`: element by element, fp64 accumulation.
public func naiveLinear(_ x: [Float], _ w: Matrix) -> [Float] {
    let m = x.count / w.cols
    var y = [Float](repeating: 0, count: m * w.rows)
    for t in 0..<m {
        for r in 0..<w.rows {
            var s = 0.0
            for c in 0..<w.cols { s += Double(w.element(r, c)) * Double(x[t * w.cols + c]) }
            y[t * w.rows + r] = Float(s)
        }
    }
    return y
}

extension MatrixView {
    /// `row r · x` over all columns, block scales applied.
    @inline(__always)
    func dot(row r: Int, _ x: UnsafePointer<Float>) -> Float {
        let k = cols
        switch format {
        case .fp8: return fp8RowDot(base.assumingMemoryBound(to: UInt8.self) + r * k, x, k, scales: scales(ofRow: r))
        case .bf16: return bf16Dot(base.assumingMemoryBound(to: UInt16.self) + r * k, x, k)
        case .f16: return f16Dot(base.assumingMemoryBound(to: UInt16.self) + r * k, x, k)
        case .f32: return dotF32(base.assumingMemoryBound(to: Float.self) + r * k, x, k)
        }
    }

    /// `body(t, r, row r · token t)` for every row in `rows` and token `t` of `x` (`[m, cols]`), each
    /// equal to `dot(row:)`: FP8 rows by their groups of four (`fp8RowDot4`; a group shares block
    /// scales and a word of `zeroChunks`), bf16 rows four at a time (`bf16RowDot4`).
    @inline(__always)
    func forEachDot(rows: Range<Int>, tokens m: Int, _ x: UnsafePointer<Float>, _ body: (Int, Int, Float) -> Void) {
        var r = rows.lowerBound
        while r < rows.upperBound {
            if r + 4 <= rows.upperBound, format == .bf16 || format == .fp8 && r % 4 == 0 {
                for t in 0..<m {
                    let d = format == .fp8
                        ? fp8RowDot4(base.assumingMemoryBound(to: UInt8.self) + r * cols, stride: cols, x + t * cols, cols, scales: scales(ofRow: r),
                                     zeroChunks: zeroChunks + r / 4 * MatrixView.chunkWords(cols))
                        : bf16RowDot4(base.assumingMemoryBound(to: UInt16.self) + r * cols, stride: cols, x + t * cols, cols)
                    for j in 0..<4 { body(t, r + j, d[j]) }
                }
                r += 4
            } else {
                for t in 0..<m { body(t, r, dot(row: r, x + t * cols)) }
                r += 1
            }
        }
    }

    /// `row r · x` from the row as `decodeRow(scaled: false)` wrote it, summed exactly as `dot(row:)`.
    @inline(__always)
    func dot(row r: Int, decoded: UnsafePointer<Float>, _ x: UnsafePointer<Float>) -> Float {
        guard format == .fp8 else { return dotF32(decoded, x, cols) }
        return blockScaledDot(cols, scales: scales(ofRow: r)) { c, len in dotF32Parts(decoded + c, x + c, len) }
    }

    /// Rows `r` and `r + 1`, decoded as `decodeRow(scaled: false)` wrote them one after the other at
    /// `decoded`, against tokens `x0` and `x1`: `[r·x0, (r+1)·x0, r·x1, (r+1)·x1]`, each equal to `dot(row:decoded:_:)`.
    @inline(__always)
    func dot2x2(rows r: Int, decoded: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>) -> SIMD4<Float> {
        guard format == .fp8 else {
            var one: Float = 1  // a single block of scale 1 sums exactly as `dotF32`
            return Kernels.dot2x2(decoded, decoded + cols, x0, x1, cols: cols, block: cols, &one, &one)
        }
        return Kernels.dot2x2(decoded, decoded + cols, x0, x1, cols: cols, block: Matrix.blockSize, scales(ofRow: r), scales(ofRow: r + 1))
    }

    /// Columns `columns` (whole 128-column blocks for FP8) of rows `r..<r + 4`, decoded as
    /// `decodeRow(scaled: false)` wrote them one after the other at `decoded`, against the four tokens
    /// at `x` (`[4, cols]`), added to `sums`; once every column is in, `sums.products` are each equal
    /// to `dot(row:decoded:_:)`.
    @inline(__always)
    func dot4x4(rows r: Int, decoded: UnsafePointer<Float>, _ x: UnsafePointer<Float>, columns: Range<Int>, _ sums: inout TileSums) {
        if format == .fp8 {
            Kernels.dot4x4(decoded, x, strides: (cols, cols), columns: columns, block: Matrix.blockSize,
                           (scales(ofRow: r), scales(ofRow: r + 1), scales(ofRow: r + 2), scales(ofRow: r + 3)), &sums)
        } else {
            var one: Float = 1  // a single block of scale 1 sums exactly as `dotF32`
            withUnsafePointer(to: &one) { one in Kernels.dot4x4(decoded, x, strides: (cols, cols), columns: columns, block: cols, (one, one, one, one), &sums) }
        }
    }

    /// FP8 row `r`'s block scales (one per 128 columns).
    @inline(__always)
    private func scales(ofRow r: Int) -> UnsafePointer<Float> { scales + (r / Matrix.blockSize) * Matrix.scaleCols(cols) }

    /// Writes row `r` as fp32 into `out` (`cols` values); `scaled: false` leaves FP8 block scales
    /// out (values × 2^-8, for `dot(row:decoded:_:)`).
    func decodeRow(_ r: Int, into out: UnsafeMutablePointer<Float>, scaled: Bool = true) {
        let k = cols
        switch format {
        case .fp8:
            let codes = base.assumingMemoryBound(to: UInt8.self) + r * k
            let s = scales(ofRow: r)
            for (b, c) in stride(from: 0, to: k, by: Matrix.blockSize).enumerated() {
                decodeFP8(codes + c, out + c, Swift.min(Matrix.blockSize, k - c), scale: scaled ? s[b] : 1)
            }
        case .bf16:
            let p = base.assumingMemoryBound(to: UInt16.self) + r * k
            for c in 0..<k { out[c] = BF16.decode(p[c]) }
        case .f16:
            let p = base.assumingMemoryBound(to: UInt16.self) + r * k
            for c in 0..<k { out[c] = F16.decode(p[c]) }
        case .f32:
            out.update(from: base.assumingMemoryBound(to: Float.self) + r * k, count: k)
        }
    }
}
