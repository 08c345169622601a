import Kernels
import XCTest

/// Fast kernels against their naive twins, on awkward shapes (partial FP8 blocks, odd lengths).
final class KernelTests: XCTestCase {
    var rng = SystemRandomNumberGenerator()

    func randomValues(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale, using: &rng) } }

    /// Runs `body(wide)` with the register tiles off, then on (and `threads` workers when given),
    /// restoring both settings after.
    func inEachTileMode(threads: Int? = nil, _ body: (Bool) -> Void) {
        let savedThreads = Parallel.threads, savedWide = Tiles.wide
        defer { Parallel.threads = savedThreads; Tiles.wide = savedWide }
        if let threads { Parallel.threads = threads }
        for wide in [false, true] {
            Tiles.wide = wide
            body(wide)
        }
    }

    func fp8Matrix(rows: Int, cols: Int) -> Matrix {
        let codes = (0..<(rows * cols)).map { _ in FP8.encode(Float.random(in: -300...300, using: &rng)) }
        let buffer = OwnedBuffer(bytes: codes.count)
        codes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let scales = randomValues(Matrix.scaleRows(rows) * Matrix.scaleCols(cols)).map { abs($0) * 0.01 + 1e-4 }
        return Matrix(rows: rows, cols: cols, format: .fp8, base: UnsafeRawPointer(buffer.pointer), blockScales: scales, owner: buffer)
    }

    func halfMatrix(rows: Int, cols: Int, format: WeightFormat) -> Matrix {
        let bits = randomValues(rows * cols).map { format == .bf16 ? BF16.encode($0) : F16.encode($0) }
        let buffer = OwnedBuffer(bytes: bits.count * 2)
        bits.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return Matrix(rows: rows, cols: cols, format: format, base: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ message: String) {
        XCTAssertEqual(a.count, b.count, message)
        let scale = b.map(abs).max() ?? 1
        for (x, y) in zip(a, b) where abs(x - y) > tolerance * max(scale, 1) {
            XCTFail("\(message): \(x) vs \(y)"); return
        }
    }

    func testLinearMatchesNaiveForEveryFormat() {
        for (rows, cols) in [(1, 1), (5, 17), (130, 200), (257, 384), (64, 1000)] {
            let matrices = [fp8Matrix(rows: rows, cols: cols), halfMatrix(rows: rows, cols: cols, format: .bf16),
                            halfMatrix(rows: rows, cols: cols, format: .f16), Matrix(rows: rows, cols: cols, values: randomValues(rows * cols))]
            for w in matrices {
                for tokens in [1, 2, 3, 7] {
                    let x = randomValues(tokens * cols)
                    assertClose(linear(x, w), naiveLinear(x, w), 1e-5, "\(w.format) [\(rows), \(cols)] × \(tokens) tokens")
                }
            }
        }
    }

    /// The prefill path (register tiles of 2 × 2 and, where built for AVX-512, 4 × 4 rows × tokens)
    /// sums each output exactly as the one-token path; both tile sizes are checked on any machine.
    func testManyTokensEqualOneTokenAtATimeBitForBit() {
        inEachTileMode { wide in
            for (rows, cols) in [(5, 17), (130, 200), (129, 1000), (8, 2048), (46, 2816)] {
                let matrices = [fp8Matrix(rows: rows, cols: cols), halfMatrix(rows: rows, cols: cols, format: .bf16),
                                Matrix(rows: rows, cols: cols, values: randomValues(rows * cols))]
                for w in matrices {
                    for tokens in [3, 4, 6, 9, 21] {
                        let x = randomValues(tokens * cols)
                        let oneByOne = (0..<tokens).flatMap { t in linear(Array(x[(t * cols)..<((t + 1) * cols)]), w) }
                        XCTAssertEqual(linear(x, w), oneByOne, "\(w.format) [\(rows), \(cols)] × \(tokens) tokens, wide tiles \(wide)")
                    }
                }
            }
        }
    }

    func testFP8BlockScalesApplyPerBlockIncludingPartialEdges() {
        let rows = 130, cols = 200
        let codes = (0..<(rows * cols)).map { UInt8(truncatingIfNeeded: $0 * 7) & 0x77 }  // finite codes only
        let scales: [Float] = [1, 2, 3, 4]  // [2, 2] blocks; the second row and column of blocks are partial
        let buffer = OwnedBuffer(bytes: codes.count)
        codes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let w = Matrix(rows: rows, cols: cols, format: .fp8, base: UnsafeRawPointer(buffer.pointer), blockScales: scales, owner: buffer)
        let dense = w.dequantized()
        for (r, c, block) in [(0, 0, 0), (127, 127, 0), (0, 128, 1), (128, 0, 2), (129, 199, 3), (5, 130, 1)] {
            XCTAssertEqual(dense[r * cols + c], FP8.decode(codes[r * cols + c]) * scales[block], "(\(r), \(c))")
        }
    }

    /// FP8 codes decode 64 at a time by moving bits unless one of them has a zero exponent (zero or
    /// subnormal; the matrix maps those chunks once), then through half precision: every normal code
    /// in all-normal chunks, and chunks with zero and subnormal codes, give the exact values
    /// (`dequantized`), the naive linear, and the same bits through the fused one-token path as
    /// through the decoded many-token path — in a row slice too, which shares the map.
    func testFP8ChunksWithAndWithoutZeroExponents() {
        let normal = (0...255).map(UInt8.init).filter { $0 & 0x78 != 0 && $0 & 0x7F != 0x7F }  // 238 codes
        let special: [UInt8] = [0x00, 0x80, 0x01, 0x07, 0x81, 0x85]
        let rows = 140, cols = 1408
        var codes = (0..<(rows * cols)).map { normal[$0 % normal.count] }
        for (r, c) in [(0, 5), (3, 64), (4, 700), (7, 1407), (9, 128), (11, 1300), (129, 64), (134, 1000), (139, 1350)] {
            codes[r * cols + c] = special[(r + c) % special.count]
        }
        let buffer = OwnedBuffer(bytes: codes.count)
        codes.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let scales = (0..<(Matrix.scaleRows(rows) * Matrix.scaleCols(cols))).map { Float($0 + 1) * 0.01 }
        let w = Matrix(rows: rows, cols: cols, format: .fp8, base: UnsafeRawPointer(buffer.pointer), blockScales: scales, owner: buffer)
        let dense = w.dequantized()
        for i in codes.indices {
            let block = i / cols / Matrix.blockSize * Matrix.scaleCols(cols) + i % cols / Matrix.blockSize
            XCTAssertEqual(dense[i], FP8.decode(codes[i]) * scales[block], "code \(codes[i]) at \(i)")
        }
        inEachTileMode { wide in
            for tokens in [1, 3, 5] {
                let x = randomValues(tokens * cols)
                let oneByOne = (0..<tokens).flatMap { t in linear(Array(x[(t * cols)..<((t + 1) * cols)]), w) }
                assertClose(oneByOne, naiveLinear(x, w), 1e-5, "\(tokens) tokens")
                XCTAssertEqual(linear(x, w), oneByOne, "\(tokens) tokens, wide tiles \(wide)")
            }
        }
        let x = randomValues(cols), all = linear(x, w)
        XCTAssertEqual(linear(x, w.rows(128..<rows)), Array(all[128...]), "rows 128..<\(rows)")
    }

    /// Re-encoding to FP8: each 128×128 block's scale is its largest magnitude / 448, and every element
    /// comes back within e4m3's rounding (half a step of its 3-bit mantissa, or of the subnormal step).
    func testQuantizedFP8KeepsEachElementWithinE4M3Rounding() {
        for w in [halfMatrix(rows: 130, cols: 200, format: .bf16), Matrix(rows: 129, cols: 300, values: randomValues(129 * 300, scale: 50))] {
            let q = w.quantizedFP8(), original = w.dequantized(), back = q.dequantized()
            XCTAssertEqual(q.format, .fp8)
            for r in 0..<w.rows {
                for c in 0..<w.cols {
                    let v = original[r * w.cols + c], scale = q.blockScale(row: r, col: c)
                    let step = Swift.max(abs(v) / 16, scale * 0x1p-10)
                    XCTAssertLessThanOrEqual(abs(back[r * w.cols + c] - v), step, "\(w.format) (\(r), \(c))")
                }
            }
            let (r0, c0) = (128, 128)  // block (1, 1), partial in rows: its scale is its own amax / 448
            var amax: Float = 0
            for r in r0..<w.rows { for c in c0..<min(w.cols, c0 + 128) { amax = max(amax, abs(original[r * w.cols + c])) } }
            XCTAssertEqual(q.blockScale(row: r0, col: c0), amax / 448)
        }
    }

    /// Transposing and stacking copy elements exactly, FP8 block scales included.
    func testTransposedAndStackedKeepEveryElement() {
        for w in [fp8Matrix(rows: 300, cols: 130), halfMatrix(rows: 300, cols: 130, format: .bf16), Matrix(rows: 5, cols: 7, values: randomValues(35))] {
            let t = w.transposed(), full = w.dequantized(), back = t.dequantized()
            XCTAssertEqual([t.rows, t.cols], [w.cols, w.rows])
            for r in 0..<w.rows { for c in 0..<w.cols { XCTAssertEqual(back[c * w.rows + r], full[r * w.cols + c], "\(w.format) (\(r), \(c))") } }
            let split = w.format == .fp8 ? 256 : 3
            XCTAssertEqual(Matrix.stacked([w.rows(0..<split), w.rows(split..<w.rows)]).dequantized(), full, "\(w.format)")
        }
    }

    func testRowSlicesAreViewsOfTheSameElements() {
        for w in [fp8Matrix(rows: 300, cols: 130), halfMatrix(rows: 300, cols: 130, format: .bf16)] {
            let full = w.dequantized()
            for range in [0..<128, 128..<300, 256..<257] {
                XCTAssertEqual(w.rows(range).dequantized(), Array(full[(range.lowerBound * 130)..<(range.upperBound * 130)]), "\(w.format) \(range)")
            }
        }
    }

    /// Column slices copy each row's elements, FP8 block scales included (the shared experts' cuts).
    func testColumnSlicesKeepTheirElements() {
        for w in [fp8Matrix(rows: 300, cols: 300), halfMatrix(rows: 300, cols: 300, format: .bf16)] {
            let full = w.dequantized()
            for range in [0..<128, 128..<300, 256..<300] + (w.format == .fp8 ? [] : [3..<7]) {
                let slice = w.columns(range)
                XCTAssertEqual([slice.rows, slice.cols], [300, range.count])
                XCTAssertEqual(slice.dequantized(), (0..<300).flatMap { r in full[(r * 300 + range.lowerBound)..<(r * 300 + range.upperBound)] }, "\(w.format) \(range)")
            }
        }
    }

    func testByteCountOfAllRowsFromASlice() {
        for w in [fp8Matrix(rows: 300, cols: 130), halfMatrix(rows: 300, cols: 130, format: .bf16)] {
            XCTAssertEqual(w.byteCount(rows: 300), w.byteCount, "\(w.format)")
            XCTAssertEqual(w.rows(128..<256).byteCount(rows: 300), w.byteCount, "\(w.format) from a slice")
        }
    }

    func testSeveralLinearsOfOneInputInOnePassEqualEachAlone() {
        for (cols, tokens) in [(200, 1), (384, 3), (130, 7)] {
            let x = randomValues(tokens * cols)
            let ws = [130, 8, 257, 1, 64].enumerated().map { i, rows in
                i % 2 == 0 ? fp8Matrix(rows: rows, cols: cols) : halfMatrix(rows: rows, cols: cols, format: .bf16)
            }
            for threads in [1, 3] {
                Parallel.threads = threads
                XCTAssertEqual(linears(x, ws), ws.map { linear(x, $0) }, "\(tokens) tokens of \(cols), threads \(threads)")
            }
        }
        Parallel.threads = ProcessInfo.processInfo.activeProcessorCount
    }

    /// Weighted SwiGLUs (a MoE layer's shared and routed experts) against their naive twin, and each
    /// token's result the same run with the others or alone (prefill and decode agree bit for bit);
    /// jobs whose tokens are consecutive rows read them in place, the others gathered.
    func testWeightedSwiGLUsMatchNaiveAndEachTokenAlone() {
        let dim = 200, inter = 136, t = 5
        let fp8 = (fp8Matrix(rows: inter, cols: dim), fp8Matrix(rows: inter, cols: dim), fp8Matrix(rows: dim, cols: inter))
        let f32 = (Matrix(rows: inter, cols: dim, values: randomValues(inter * dim, scale: 0.1)),
                   Matrix(rows: inter, cols: dim, values: randomValues(inter * dim, scale: 0.1)),
                   Matrix(rows: dim, cols: inter, values: randomValues(inter * dim, scale: 0.1)))
        let jobs = [SwiGLUJob(gate: fp8.0, up: fp8.1, down: fp8.2, tokens: Array(0..<t), weights: Array(repeating: 1, count: t)),
                    SwiGLUJob(gate: f32.0, up: f32.1, down: f32.2, tokens: [0, 3], weights: [0.7, 1.3]),
                    SwiGLUJob(gate: fp8.0, up: f32.1, down: fp8.2, tokens: [1, 3, 4], weights: [0.2, 2.5, 0.9]),
                    SwiGLUJob(gate: f32.0, up: fp8.1, down: f32.2, tokens: [3, 4], weights: [1.1, 0.4])]  // read in place, from row 3
        let x = randomValues(t * dim)
        let y = weightedSwiGLUs(x, dim: dim, jobs)
        assertClose(y.map(Float.init), naiveWeightedSwiGLUs(x, dim: dim, jobs).map(Float.init), 1e-4, "weighted SwiGLUs")
        for token in 0..<t {
            let alone = jobs.compactMap { job -> SwiGLUJob? in  // the token's own jobs, over it alone
                job.tokens.firstIndex(of: token).map { SwiGLUJob(gate: job.gate, up: job.up, down: job.down, tokens: [0], weights: [job.weights[$0]]) }
            }
            XCTAssertEqual(weightedSwiGLUs(Array(x[(token * dim)..<((token + 1) * dim)]), dim: dim, alone),
                           Array(y[(token * dim)..<((token + 1) * dim)]), "token \(token)")
        }
    }

    /// A SwiGLU cut by hidden units (gate and up rows, down columns, on FP8 block boundaries) into
    /// two jobs gives the whole one's output: how a MoE layer splits its shared experts over ranks.
    func testSwiGLUCutByHiddenUnitsSumsToTheWhole() {
        let dim = 200, inter = 256, t = 3
        let (gate, up, down) = (fp8Matrix(rows: inter, cols: dim), fp8Matrix(rows: inter, cols: dim), fp8Matrix(rows: dim, cols: inter))
        let all = Array(0..<t), ones = [Float](repeating: 1, count: t), x = randomValues(t * dim)
        let whole = weightedSwiGLUs(x, dim: dim, [SwiGLUJob(gate: gate, up: up, down: down, tokens: all, weights: ones)])
        let cut = weightedSwiGLUs(x, dim: dim, [0..<128, 128..<inter].map {
            SwiGLUJob(gate: gate.rows($0), up: up.rows($0), down: down.columns($0), tokens: all, weights: ones)
        })
        assertClose(cut.map(Float.init), whole.map(Float.init), 1e-5, "cut SwiGLU")
        XCTAssertGreaterThan(whole.map(abs).max()!, 0.01, "outputs that are not all near zero")
    }

    /// Each group's outputs equal that group's rows of a plain `linear` bit for bit (FP8 groups
    /// that start off a multiple of four mix the four-row kernel with single rows differently).
    func testGroupedLinearMatchesPerGroupLinear() {
        for (groups, outPer, inDim, w) in [(3, 7, 20, nil), (3, 7, 200, fp8Matrix(rows: 21, cols: 200)), (2, 130, 300, fp8Matrix(rows: 260, cols: 300))] {
            let w = w ?? Matrix(rows: groups * outPer, cols: inDim, values: randomValues(groups * outPer * inDim))
            for tokens in [1, 2, 5] {  // five: the prefill tiles
            let x = randomValues(tokens * groups * inDim)
            let y = groupedLinear(x, w, groups: groups)
            for t in 0..<tokens {
                for g in 0..<groups {
                    let input = (t * groups + g) * inDim, output = (t * groups + g) * outPer
                    let full = linear(Array(x[input..<(input + inDim)]), w)
                    XCTAssertEqual(Array(y[output..<(output + outPer)]), Array(full[(g * outPer)..<((g + 1) * outPer)]), "\(w.format) group \(g) token \(t) of \(tokens)")
                }
            }
            }
        }
    }

    /// One partial, and the merge of partials over a split of the keys, equal the naive softmax.
    func testLatentAttentionPartialsMergeToNaive() {
        let heads = 3, latent = 37, rope = 8, n = 50, width = latent + rope
        let keys = randomValues(n * width, scale: 2), ql = randomValues(heads * latent), qr = randomValues(heads * rope)
        let slow = naiveLatentAttention(qLatent: ql, qRope: qr, keys: keys, count: n, heads: heads, latent: latent, rope: rope, scale: 0.3)
        for cuts in [[0, n], [0, 0, 20, n], [0, 13, 14, 40, n]] {
            let parts = zip(cuts, cuts.dropFirst()).map { lo, hi in
                Array(keys[(lo * width)..<(hi * width)]).withUnsafeBufferPointer {
                    latentAttention(qLatent: ql, qRope: qr, keys: $0, count: hi - lo, heads: heads, latent: latent, rope: rope, scale: 0.3)
                }
            }
            assertClose(withBuffers(parts) { mergeAttention($0.map(Part.init), heads: heads, latent: latent) }, slow, 1e-5, "split \(cuts)")
        }
    }

    /// A query's keys are cut into runs softmaxed alone and merged in order: one task per run where
    /// queries and heads are too few for the workers, the runs one after the other in one task
    /// otherwise — the same bits either way, and the naive softmax within rounding.
    func testLatentAttentionRunsGiveTheSameBitsAsTasksOrInOrder() {
        let latent = 37, rope = 8, width = latent + rope
        for heads in [3, 4, 8] {
            for n in [15, 40, 100] {
                let keys = randomValues(n * width, scale: 2), ql = randomValues(heads * latent), qr = randomValues(heads * rope)
                let runs = [1, 16].map { threads in
                    let saved = Parallel.threads
                    defer { Parallel.threads = saved }
                    Parallel.threads = threads
                    return keys.withUnsafeBufferPointer {
                        latentAttention(qLatent: ql, qRope: qr, keys: $0, count: n, heads: heads, latent: latent, rope: rope, scale: 0.3)
                    }
                }
                XCTAssertEqual(runs[0], runs[1], "\(heads) heads, \(n) keys: one worker against sixteen")
                let slow = naiveLatentAttention(qLatent: ql, qRope: qr, keys: keys, count: n, heads: heads, latent: latent, rope: rope, scale: 0.3)
                assertClose(withBuffers([runs[1]]) { mergeAttention($0.map(Part.init), heads: heads, latent: latent) }, slow, 1e-5, "\(heads) heads, \(n) keys")
            }
        }
    }

    /// The partials equal the same steps done key by key with `dotF32` (scores are taken four keys
    /// at a time), bit for bit, on sizes with tails.
    /// Two heads take the four-keys path; eight (on one worker) the four-heads path, with and
    /// without the wide tiles.
    func testLatentAttentionScoresFourKeysAtATimeAsOneByOne() {
        inEachTileMode(threads: 1) { _ in
            for heads in [2, 8] { checkLatentAttentionAsOneByOne(heads: heads) }
        }
    }

    func checkLatentAttentionAsOneByOne(heads: Int) {
        let latent = 37, rope = 13, width = latent + rope, n = 23, scale: Float = 0.3
        let keys = randomValues(n * width, scale: 2), ql = randomValues(heads * latent), qr = randomValues(heads * rope)
        let fast = keys.withUnsafeBufferPointer {
            latentAttention(qLatent: ql, qRope: qr, keys: $0, count: n, heads: heads, latent: latent, rope: rope, scale: scale)
        }
        var slow = [Double](repeating: 0, count: heads * (latent + 2))
        keys.withUnsafeBufferPointer { k in ql.withUnsafeBufferPointer { q in qr.withUnsafeBufferPointer { qp in slow.withUnsafeMutableBufferPointer { o in
            for h in 0..<heads {
                let p = (0..<n).map { s in
                    scale * (dotF32(q.baseAddress! + h * latent, k.baseAddress! + s * width, latent)
                             + dotF32(qp.baseAddress! + h * rope, k.baseAddress! + s * width + latent, rope))
                }
                let m = p.max()!, out = o.baseAddress! + h * (latent + 2)
                var sum = 0.0
                for s in 0..<n {
                    let e = exp(Double(p[s]) - Double(m))
                    sum += e
                    axpyDouble(e, k.baseAddress! + s * width, out, latent)
                }
                out[latent] = sum; out[latent + 1] = Double(m)
            }
        } } } }
        XCTAssertEqual(fast, slow, "\(heads) heads")
    }

    /// Several queries over causal prefixes in one pass equal each query alone, bit for bit (with
    /// four heads on three workers, the queries together take the four-heads path, each alone not).
    func testLatentAttentionOfManyQueriesEqualsEachAlone() {
        inEachTileMode(threads: 3) { _ in
            for heads in [3, 4] { checkManyQueriesEqualEachAlone(heads: heads) }
        }
    }

    func checkManyQueriesEqualEachAlone(heads: Int) {
        let latent = 37, rope = 8, width = latent + rope, counts = [1, 0, 17, 50, 49]
        let keys = randomValues(50 * width, scale: 2)
        let ql = randomValues(counts.count * heads * latent), qr = randomValues(counts.count * heads * rope)
        let all = keys.withUnsafeBufferPointer {
            latentAttention(qLatent: ql, qRope: qr, keys: $0, counts: counts, heads: heads, latent: latent, rope: rope, scale: 0.3)
        }
        for (i, n) in counts.enumerated() {
            let alone = keys.withUnsafeBufferPointer {
                latentAttention(qLatent: Array(ql[(i * heads * latent)..<((i + 1) * heads * latent)]),
                                qRope: Array(qr[(i * heads * rope)..<((i + 1) * heads * rope)]), keys: $0, count: n,
                                heads: heads, latent: latent, rope: rope, scale: 0.3)
            }
            XCTAssertEqual(Array(all[(i * alone.count)..<((i + 1) * alone.count)]), alone, "\(heads) heads, query \(i) over \(n) keys")
        }
    }

    func testIndexScoresMatchDirectFormula() {
        let heads = 4, dim = 16, n = 40
        for format in [PackedRows.Format.f32, .fp8] {
            let keys = PackedRows(format: format, width: dim, capacity: n, block: dim)
            for s in 0..<n { keys.set(s, randomValues(dim)[...]) }
            let q = randomValues(heads * dim), w = randomValues(heads)
            let scores = indexScores(q: q, headWeights: w, keys: keys, count: n)
            for s in 0..<n {
                let k = keys.row(s)
                var expected: Float = 0
                for j in 0..<heads {
                    var d: Float = 0
                    for i in 0..<dim { d += q[j * dim + i] * k[i] }
                    expected += w[j] * max(d, 0)
                }
                XCTAssertEqual(scores[s], expected, accuracy: 1e-4, "\(format) key \(s)")
            }
        }
    }

    /// Keys four at a time (and heads four at a time with the wide tiles) score bit for bit as one
    /// key and one head at a time with `dotF32`.
    func testIndexScoresInTilesEqualOneByOne() {
        let heads = 6, dim = 40, n = 23
        let keys = PackedRows(format: .f32, width: dim, capacity: n, block: dim)
        for s in 0..<n { keys.set(s, randomValues(dim)[...]) }
        let q = randomValues(heads * dim), w = randomValues(heads)
        var expected = [Float](repeating: 0, count: n)
        q.withUnsafeBufferPointer { qp in
            for s in 0..<n {
                let k = keys.row(s)
                for j in 0..<heads { expected[s] += w[j] * max(dotF32(qp.baseAddress! + j * dim, k, dim), 0) }
            }
        }
        inEachTileMode { tiles in
            XCTAssertEqual(indexScores(q: q, headWeights: w, keys: keys, count: n), expected, "wide tiles \(tiles)")
        }
    }
}
