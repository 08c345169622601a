import CPrefetch

// SIMD dot products, all with one summation order (a 16-lane accumulator over steps of 16, its two
// halves added, then the scalar tail), so a dot over decoded values equals the fused one bit for
// bit. Built for AVX-512 the 16 lanes are one register, for AVX2 two. FP8 e4m3 codes decode to
// fp32 `value × 2^-8` (the 2^8 is folded into the block scales), 64 codes at a time by moving
// bits where none has a zero exponent (`fp8x16Normal`), else through half precision (`fp8x16`).

/// Writes `n` e4m3 codes as fp32 values × 2^-8 × `scale` (out of line, as `fp8RowDot`: inside a
/// larger function the optimizer stops inlining the vector conversions).
@inline(never)
func decodeFP8(_ codes: UnsafePointer<UInt8>, _ out: UnsafeMutablePointer<Float>, _ n: Int, scale s: Float) {
    var i = 0
    while i + 64 <= n {
        let normal = isZero(zeroExponents(codes + i))
        for j in stride(from: i, to: i + 64, by: 16) {
            UnsafeMutableRawPointer(out + j).storeBytes(of: (normal ? fp8x16Normal(codes + j) : fp8x16(codes + j)) * s, as: SIMD16<Float>.self)
        }
        i += 64
    }
    while i + 16 <= n {
        UnsafeMutableRawPointer(out + i).storeBytes(of: fp8x16(codes + i) * s, as: SIMD16<Float>.self)
        i += 16
    }
    while i < n { out[i] = fp8Scalar(codes[i]) * s; i += 1 }
}

/// 16 e4m3 codes as fp32 values × 2^-8: sign-extending the byte to 16 bits and shifting it left
/// by 7 puts sign, exponent and mantissa where binary16 wants them, but for one copy of the sign
/// in bit 14, which the mask clears. (Lane by lane with concrete conversions, which the optimizer
/// vectorizes; the generic SIMD conversions end up as out-of-line calls in the package build.)
@inline(__always)
func fp8x16(_ p: UnsafePointer<UInt8>) -> SIMD16<Float> {
    let b = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)
    var h = SIMD16<Int16>()
    for i in 0..<16 { h[i] = Int16(b[i]) }
    return halfToFloat((h &<< 7) & Int16(bitPattern: 0xBFFF))
}

/// 16 e4m3 codes with non-zero exponents as fp32 values × 2^-8 (as `fp8x16`), in three
/// instructions where `fp8x16` takes five: sign-extended to 32 bits and shifted left by 20, the
/// code's exponent lands in the low four bits of fp32's and its mantissa at the top of fp32's; the
/// mask keeps sign, exponent and mantissa, and the or adds 112 to the exponent (bias 127 = 7 + 8 +
/// 112). Zero and subnormal codes (exponent 0) would come out wrong: `zeroExponents` finds them.
@inline(__always)
func fp8x16Normal(_ p: UnsafePointer<UInt8>) -> SIMD16<Float> {
    let b = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int8>.self)
    var v = SIMD16<Int32>()
    for i in 0..<16 { v[i] = Int32(b[i]) }
    return unsafeBitCast((v &<< 20) & Int32(bitPattern: 0x87F0_0000) | 0x3800_0000, to: SIMD16<Float>.self)
}

/// The 64 codes at `p` with the top bit of each byte set where the code's exponent is zero (those
/// `fp8x16Normal` would decode wrong): the exponent bits plus 0x78 reach bit 7 unless all are
/// zero, and never carry into the next byte.
@inline(__always)
func zeroExponents(_ p: UnsafePointer<UInt8>) -> SIMD8<UInt64> {
    let e = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt64>.self) & 0x7878_7878_7878_7878
    return ~(e &+ 0x7878_7878_7878_7878) & 0x8080_8080_8080_8080
}

/// Fills `map` (`MatrixView.zeroChunks` of an FP8 `[rows, cols]` matrix at `codes`): bit `q` of
/// group `g` where a row of `4g..<4g + 4` has a zero-exponent code in columns `64q..<64q + 64`.
/// Once per matrix, so the row dots decode by moving bits without looking at the codes first.
func mapZeroChunks(_ codes: UnsafePointer<UInt8>, rows: Int, cols: Int, into map: UnsafeMutablePointer<UInt64>) {
    let words = MatrixView.chunkWords(cols)
    Parallel.forRanges((rows + 3) / 4) { groups in
        for g in groups {
            let group = map + g * words
            group.initialize(repeating: 0, count: words)
            for r in (4 * g)..<Swift.min(rows, 4 * g + 4) {
                for q in 0..<(cols / 64) where !isZero(zeroExponents(codes + r * cols + 64 * q)) { group[q / 64] |= 1 << (q % 64) }
            }
        }
    }
}

/// Whether no bit of `v` is set.
@inline(__always)
func isZero(_ v: SIMD8<UInt64>) -> Bool {
    let h = v.lowHalf | v.highHalf, q = h.lowHalf | h.highHalf
    return q[0] | q[1] == 0
}

/// 16 binary16 bit patterns as fp32.
@inline(__always)
func halfToFloat(_ bits: SIMD16<Int16>) -> SIMD16<Float> {
    let h = unsafeBitCast(bits, to: SIMD16<Float16>.self)
    var f = SIMD16<Float>()
    for i in 0..<16 { f[i] = Float(h[i]) }
    return f
}

/// One e4m3 code as fp32 × 2^-8.
@inline(__always)
func fp8Scalar(_ b: UInt8) -> Float {
    Float(Float16(bitPattern: UInt16(bitPattern: (Int16(Int8(bitPattern: b)) << 7) & Int16(bitPattern: 0xBFFF))))
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

/// `Σ w[i] · x[i]` for weights decoded 16 at a time by `wide(i)` (or one by `one(i)` in the tail),
/// as 8 lane sums and the tail's sum: the one summation order all dot products share.
@inline(__always)
func dotParts(_ n: Int, _ x: UnsafePointer<Float>, wide: (Int) -> SIMD16<Float>, one: (Int) -> Float) -> (SIMD8<Float>, Float) {
    var a = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        a.addProduct(wide(i), load16(x + i))
        i += 16
    }
    var tail: Float = 0
    while i < n { tail += one(i) * x[i]; i += 1 }
    return (a.lowHalf + a.highHalf, tail)
}

/// The sum of 8 lanes as a tree (3 dependent adds, not 7).
@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let h = v.lowHalf + v.highHalf, q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}

@inline(__always)
func dot(_ n: Int, _ x: UnsafePointer<Float>, wide: (Int) -> SIMD16<Float>, one: (Int) -> Float) -> Float {
    let (lanes, tail) = dotParts(n, x, wide: wide, one: one)
    return horizontalSum(lanes) + tail
}

/// How far ahead of a streaming weight read the kernels prefetch: with the hardware prefetcher
/// alone a core keeps too few lines in flight while it also converts (one Xeon core read FP8 rows
/// at 5.6 GB/s without, 9.1 GB/s with; 16 cores 57 against 70 GB/s).
let prefetchDistance = 4096

/// The four-row kernels' prefetch, at a line of four rows `stride` bytes apart: the same line of
/// the next four rows into L1 and of the four after into L2. With L1 alone a core keeps no more
/// lines in flight than its fill buffers; the L2 requests run further ahead (16 Xeon cores, C model
/// of `fp8RowDot4`: 74–86 → 77–95 GB/s on 16384 × 2048, 67–82 → 76–99 on 1408 columns; bf16 81–87 → 86–94).
@inline(__always)
func prefetchRows(_ p: UnsafeRawPointer, stride: Int) {
    let ahead = 4 * stride
    cprefetch(p + ahead); cprefetch(p + stride + ahead); cprefetch(p + 2 * stride + ahead); cprefetch(p + 3 * stride + ahead)
    cprefetch_l2(p + 2 * ahead); cprefetch_l2(p + stride + 2 * ahead); cprefetch_l2(p + 2 * stride + 2 * ahead); cprefetch_l2(p + 3 * stride + 2 * ahead)
}

/// A whole FP8 row against `x` (× 2^-8): each 128-column block's lane sums and tail (`dotParts`)
/// times the block's scale, kept in 8 lanes until one horizontal sum. One out-of-line call per
/// row, the block loop inside.
@inline(never)
func fp8RowDot(_ w: UnsafePointer<UInt8>, _ x: UnsafePointer<Float>, _ n: Int, scales: UnsafePointer<Float>) -> Float {
    blockScaledDot(n, scales: scales) { c, len in
        dotParts(len, x + c, wide: {
            if (c + $0) & 63 == 0 { cprefetch(w + c + $0 + prefetchDistance) }
            return fp8x16(w + c + $0)
        }, one: { fp8Scalar(w[c + $0]) })
    }
}

/// Four FP8 rows `stride` bytes apart that share one row of block scales, against `x`: four
/// `fp8RowDot`s in one pass, each bit for bit. A single accumulator chain holds a core to one FMA
/// per latency (about 10 GB/s of FP8); four independent chains overlap it. The rows prefetch the
/// next rows' same columns (`prefetchRows`): into L1 alone, a C model of this loop on 16 Xeon cores
/// streamed 90–94 GB/s against 86 at a fixed 24 KB ahead (2048-byte rows), 88–107 against 81–100
/// (1408-byte rows), 75 against 72 (10944), 98 against 96 (7168), beating every fixed distance.
/// Each 64 columns decode by moving bits (`fp8x16Normal`) unless the rows' `zeroChunks` words
/// (`MatrixView.zeroChunks`) mark a zero or subnormal code there.
@inline(never)
func fp8RowDot4(_ w: UnsafePointer<UInt8>, stride: Int, _ x: UnsafePointer<Float>, _ n: Int, scales: UnsafePointer<Float>,
                zeroChunks: UnsafePointer<UInt64>) -> SIMD4<Float> {
    let w1 = w + stride, w2 = w1 + stride, w3 = w2 + stride
    var l0 = SIMD8<Float>(), l1 = SIMD8<Float>(), l2 = SIMD8<Float>(), l3 = SIMD8<Float>()
    var tails = SIMD4<Float>()
    var c = 0, b = 0
    while c < n {
        let end = Swift.min(c + Matrix.blockSize, n)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        /// Columns `i..<i + 64` of the four rows, decoded by `fp8`, written out (a loop here kept
        /// its counter's overflow checks).
        @inline(__always) func step64(_ i: Int, _ fp8: (UnsafePointer<UInt8>) -> SIMD16<Float>) {
            @inline(__always) func step16(_ j: Int) {
                let xv = load16(x + j)
                a0.addProduct(fp8(w + j), xv); a1.addProduct(fp8(w1 + j), xv)
                a2.addProduct(fp8(w2 + j), xv); a3.addProduct(fp8(w3 + j), xv)
            }
            step16(i); step16(i &+ 16); step16(i &+ 32); step16(i &+ 48)
        }
        var i = c
        while i + 64 <= end {
            prefetchRows(w + i, stride: stride)
            if zeroChunks[i >> 12] >> ((i >> 6) & 63) & 1 == 0 {
                step64(i, fp8x16Normal)
            } else {
                step64(i, fp8x16)
            }
            i += 64
        }
        while i + 16 <= end {
            let xv = load16(x + i)
            a0.addProduct(fp8x16(w + i), xv); a1.addProduct(fp8x16(w1 + i), xv)
            a2.addProduct(fp8x16(w2 + i), xv); a3.addProduct(fp8x16(w3 + i), xv)
            i += 16
        }
        var tail = SIMD4<Float>()
        while i < end { tail += SIMD4(fp8Scalar(w[i]), fp8Scalar(w1[i]), fp8Scalar(w2[i]), fp8Scalar(w3[i])) * x[i]; i += 1 }
        let scale = scales[b], s = SIMD8(repeating: scale)
        l0.addProduct(a0.lowHalf + a0.highHalf, s); l1.addProduct(a1.lowHalf + a1.highHalf, s)
        l2.addProduct(a2.lowHalf + a2.highHalf, s); l3.addProduct(a3.lowHalf + a3.highHalf, s)
        tails += tail * scale
        c = end; b += 1
    }
    return SIMD4(horizontalSum(l0), horizontalSum(l1), horizontalSum(l2), horizontalSum(l3)) + tails
}

/// `Σ_blocks blockDot(first column, length) × scales[block]` over `n` columns in 128-column blocks,
/// kept in 8 lanes until one horizontal sum: how every FP8 row dot combines its blocks.
@inline(__always)
func blockScaledDot(_ n: Int, scales: UnsafePointer<Float>, _ blockDot: (Int, Int) -> (SIMD8<Float>, Float)) -> Float {
    var lanes = SIMD8<Float>(), tail: Float = 0
    var c = 0, b = 0
    while c < n {
        let len = Swift.min(Matrix.blockSize, n - c), scale = scales[b]
        let (v, t) = blockDot(c, len)
        lanes.addProduct(v, SIMD8(repeating: scale))
        tail += t * scale
        c += len; b += 1
    }
    return horizontalSum(lanes) + tail
}

/// Two decoded rows against two tokens in one pass, `[d0·x0, d1·x0, d0·x1, d1·x1]`: each product
/// summed exactly as `dotF32Parts` over blocks of `block` columns, whose lane sums and tails are
/// weighted by the rows' block scales `s0[b]`, `s1[b]` (the order of `Matrix.dot(row:decoded:_:)`).
/// Each weight and activation loaded serves two products, which keeps the FMA units busy in prefill.
@inline(never)
func dot2x2(_ d0: UnsafePointer<Float>, _ d1: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
            cols: Int, block: Int, _ s0: UnsafePointer<Float>, _ s1: UnsafePointer<Float>) -> SIMD4<Float> {
    var l00 = SIMD8<Float>(), l10 = SIMD8<Float>(), l01 = SIMD8<Float>(), l11 = SIMD8<Float>()  // [row][token] lane sums
    var tails = SIMD4<Float>()
    var c = 0, b = 0
    while c < cols {
        let end = Swift.min(c + block, cols)
        var p00 = SIMD16<Float>(), p10 = SIMD16<Float>(), p01 = SIMD16<Float>(), p11 = SIMD16<Float>()
        var i = c
        while i + 16 <= end {
            let a = load16(x0 + i), b = load16(x1 + i), w0 = load16(d0 + i), w1 = load16(d1 + i)
            p00.addProduct(w0, a); p01.addProduct(w0, b); p10.addProduct(w1, a); p11.addProduct(w1, b)
            i += 16
        }
        var tail = SIMD4<Float>()
        while i < end { tail += SIMD4(d0[i] * x0[i], d1[i] * x0[i], d0[i] * x1[i], d1[i] * x1[i]); i += 1 }
        let scale0 = s0[b], scale1 = s1[b]
        l00.addProduct(p00.lowHalf + p00.highHalf, SIMD8(repeating: scale0)); l10.addProduct(p10.lowHalf + p10.highHalf, SIMD8(repeating: scale1))
        l01.addProduct(p01.lowHalf + p01.highHalf, SIMD8(repeating: scale0)); l11.addProduct(p11.lowHalf + p11.highHalf, SIMD8(repeating: scale1))
        tails += tail * SIMD4(scale0, scale1, scale0, scale1)
        c = end; b += 1
    }
    return SIMD4(horizontalSum(l00), horizontalSum(l10), horizontalSum(l01), horizontalSum(l11)) + tails
}

/// The running sums of a 4 × 4 tile of products between column slices: per product `[token · 4 + row]`
/// the 8 lane sums and the tail of the blocks so far (`dot2x2`'s `l··` and `tails`).
struct TileSums {
    /// Product `j`'s eight lane sums are half `j % 2` of `pairs[j / 2]` (two products to a
    /// 16-lane register, so a tile folds its sums in eight registers).
    var pairs: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
        = (.init(), .init(), .init(), .init(), .init(), .init(), .init(), .init())
    var tails = SIMD16<Float>()

    /// The 16 products, each as `dot2x2` finishes one.
    var products: SIMD16<Float> {
        withUnsafeBytes(of: pairs) { raw in
            let l = raw.bindMemory(to: SIMD8<Float>.self)
            var out = SIMD16<Float>()
            for j in 0..<16 { out[j] = horizontalSum(l[j]) }
            return out + tails
        }
    }
}

/// Columns `columns` (whole blocks of `block` columns, the first being block `lowerBound / block`) of four
/// decoded rows (`strides.rows` floats apart at `d`) against four tokens (`strides.tokens` apart at `x`), added to `sums`: each
/// of the 16 products summed exactly as `dot2x2` sums its four, whatever the slices. Sixteen
/// independent accumulators and eight loads per sixteen FMAs; slices of a few blocks keep the
/// rows in L1 while the tokens pass (the prefill tile for 32-register vector units, `Tiles.wide`).
@inline(never)
func dot4x4(_ d: UnsafePointer<Float>, _ x: UnsafePointer<Float>, strides: (rows: Int, tokens: Int), columns: Range<Int>, block: Int,
            _ s: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>), _ sums: inout TileSums) {
    let d1 = d + strides.rows, d2 = d1 + strides.rows, d3 = d2 + strides.rows
    let x1 = x + strides.tokens, x2 = x1 + strides.tokens, x3 = x2 + strides.tokens
    var tails = sums.tails, (q0, q1, q2, q3, q4, q5, q6, q7) = sums.pairs
    defer { sums.tails = tails; sums.pairs = (q0, q1, q2, q3, q4, q5, q6, q7) }
    var c = columns.lowerBound, b = c / block
    while c < columns.upperBound {
        let end = Swift.min(c + block, columns.upperBound)
        var p00 = SIMD16<Float>(), p01 = SIMD16<Float>(), p02 = SIMD16<Float>(), p03 = SIMD16<Float>()  // [token][row]
        var p10 = SIMD16<Float>(), p11 = SIMD16<Float>(), p12 = SIMD16<Float>(), p13 = SIMD16<Float>()
        var p20 = SIMD16<Float>(), p21 = SIMD16<Float>(), p22 = SIMD16<Float>(), p23 = SIMD16<Float>()
        var p30 = SIMD16<Float>(), p31 = SIMD16<Float>(), p32 = SIMD16<Float>(), p33 = SIMD16<Float>()
        var i = c
        while i + 16 <= end {
            let w0 = load16(d + i), w1 = load16(d1 + i), w2 = load16(d2 + i), w3 = load16(d3 + i)
            let a = load16(x + i)
            p00.addProduct(w0, a); p01.addProduct(w1, a); p02.addProduct(w2, a); p03.addProduct(w3, a)
            let e = load16(x1 + i)
            p10.addProduct(w0, e); p11.addProduct(w1, e); p12.addProduct(w2, e); p13.addProduct(w3, e)
            let f = load16(x2 + i)
            p20.addProduct(w0, f); p21.addProduct(w1, f); p22.addProduct(w2, f); p23.addProduct(w3, f)
            let g = load16(x3 + i)
            p30.addProduct(w0, g); p31.addProduct(w1, g); p32.addProduct(w2, g); p33.addProduct(w3, g)
            i += 16
        }
        var tail = SIMD16<Float>()
        while i < end {
            let w = SIMD4(d[i], d1[i], d2[i], d3[i])
            tail += SIMD16(lowHalf: SIMD8(lowHalf: w * x[i], highHalf: w * x1[i]), highHalf: SIMD8(lowHalf: w * x2[i], highHalf: w * x3[i]))
            i += 1
        }
        let scale = SIMD4(s.0[b], s.1[b], s.2[b], s.3[b])
        let s01 = SIMD16(lowHalf: SIMD8(repeating: scale[0]), highHalf: SIMD8(repeating: scale[1]))
        let s23 = SIMD16(lowHalf: SIMD8(repeating: scale[2]), highHalf: SIMD8(repeating: scale[3]))
        /// Both products' lane sums (halves added) times their rows' scales, into one pair.
        @inline(__always) func fold(_ q: inout SIMD16<Float>, _ u: SIMD16<Float>, _ v: SIMD16<Float>, _ scales: SIMD16<Float>) {
            q.addProduct(SIMD16(lowHalf: u.lowHalf, highHalf: v.lowHalf) + SIMD16(lowHalf: u.highHalf, highHalf: v.highHalf), scales)
        }
        fold(&q0, p00, p01, s01); fold(&q1, p02, p03, s23); fold(&q2, p10, p11, s01); fold(&q3, p12, p13, s23)
        fold(&q4, p20, p21, s01); fold(&q5, p22, p23, s23); fold(&q6, p30, p31, s01); fold(&q7, p32, p33, s23)
        let scales = SIMD8(lowHalf: scale, highHalf: scale)
        tails += tail * SIMD16(lowHalf: scales, highHalf: scales)
        c = end; b += 1
    }
}

/// Σ a[i] · b[i] in fp32, as lane sums and tail (see `dotParts`).
@inline(__always)
func dotF32Parts(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> (SIMD8<Float>, Float) {
    dotParts(n, b, wide: { load16(a + $0) }, one: { a[$0] })
}

/// 16 bf16 values as fp32 (widened lane by lane, as `fp8x16`: the generic conversion is a call).
@inline(__always)
func bf16x16(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
    let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt16>.self)
    var v = SIMD16<UInt32>()
    for i in 0..<16 { v[i] = UInt32(h[i]) }
    return unsafeBitCast(v &<< 16, to: SIMD16<Float>.self)
}

/// Σ bf16(w[i]) · x[i].
@inline(__always)
func bf16Dot(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, x, wide: {
        if $0 & 31 == 0 { cprefetch(w + $0 + prefetchDistance / 2) }
        return bf16x16(w + $0)
    }, one: { BF16.decode(w[$0]) })
}

/// Four bf16 rows `stride` elements apart against `x`: four `bf16Dot`s in one pass, each bit for bit,
/// prefetching as `fp8RowDot4` does (the LM head: one accumulator chain per row held a 16-core
/// Xeon's bf16 head to 0.87 of the read bandwidth).
@inline(never)
func bf16RowDot4(_ w: UnsafePointer<UInt16>, stride: Int, _ x: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
    let w1 = w + stride, w2 = w1 + stride, w3 = w2 + stride
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        if i & 31 == 0 { prefetchRows(w + i, stride: 2 * stride) }
        let xv = load16(x + i)
        a0.addProduct(bf16x16(w + i), xv); a1.addProduct(bf16x16(w1 + i), xv)
        a2.addProduct(bf16x16(w2 + i), xv); a3.addProduct(bf16x16(w3 + i), xv)
        i += 16
    }
    var tail = SIMD4<Float>()
    while i < n { tail += SIMD4(BF16.decode(w[i]), BF16.decode(w1[i]), BF16.decode(w2[i]), BF16.decode(w3[i])) * x[i]; i += 1 }
    return SIMD4(horizontalSum(a0.lowHalf + a0.highHalf), horizontalSum(a1.lowHalf + a1.highHalf),
                 horizontalSum(a2.lowHalf + a2.highHalf), horizontalSum(a3.lowHalf + a3.highHalf)) + tail
}

@inline(__always)
func f16x16(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> {
    halfToFloat(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Int16>.self))
}

/// Σ f16(w[i]) · x[i].
@inline(__always)
func f16Dot(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, x, wide: { f16x16(w + $0) }, one: { F16.decode(w[$0]) })
}

/// Σ a[i] · b[i] in fp32.
@inline(__always)
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    let (lanes, tail) = dotF32Parts(a, b, n)
    return horizontalSum(lanes) + tail
}

/// `y[i] += a · x[i]` with fp64 accumulation: fused for every element of the whole groups of 4 (8
/// at a time where they fit, one AVX-512 register), separately rounded in the last `n % 4`.
@inline(__always)
public func axpyDouble(_ a: Double, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    var i = 0
    let av = SIMD8<Double>(repeating: a)
    while i + 8 <= n {
        let xv = SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Double>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD8<Double>.self)
        i += 8
    }
    if i + 4 <= n {
        let xv = SIMD4<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self))
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD4<Double>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av.lowHalf, xv), as: SIMD4<Double>.self)
        i += 4
    }
    while i < n { y[i] += a * Double(x[i]); i += 1 }
}

/// `x` against four rows `stride` floats apart: four `dotF32`s in one pass, each bit for bit (four
/// independent accumulators, so the FMA latency overlaps: attention scores four keys at a time).
@inline(__always)
func dotF32x4(_ x: UnsafePointer<Float>, rows r0: UnsafePointer<Float>, stride: Int, _ n: Int) -> SIMD4<Float> {
    let r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var i = 0
    while i + 16 <= n {
        let xv = load16(x + i)
        a0.addProduct(load16(r0 + i), xv); a1.addProduct(load16(r1 + i), xv)
        a2.addProduct(load16(r2 + i), xv); a3.addProduct(load16(r3 + i), xv)
        i += 16
    }
    var tail = SIMD4<Float>()
    while i < n { tail += SIMD4(r0[i], r1[i], r2[i], r3[i]) * x[i]; i += 1 }
    return SIMD4(horizontalSum(a0.lowHalf + a0.highHalf), horizontalSum(a1.lowHalf + a1.highHalf),
                 horizontalSum(a2.lowHalf + a2.highHalf), horizontalSum(a3.lowHalf + a3.highHalf)) + tail
}

/// Four rows `a` (`strideA` floats apart) against four rows `b` (`strideB` apart), `[b row · 4 + a row]`:
/// sixteen `dotF32`s in one pass, each bit for bit (`dot4x4` over one block of scale 1: for vector
/// units with 32 registers, `Tiles.wide`).
@inline(__always)
func dotF32x4x4(_ a: UnsafePointer<Float>, strideA: Int, _ b: UnsafePointer<Float>, strideB: Int, _ n: Int) -> SIMD16<Float> {
    var one: Float = 1, sums = TileSums()
    withUnsafePointer(to: &one) { one in
        dot4x4(a, b, strides: (strideA, strideB), columns: 0..<n, block: Swift.max(n, 1), (one, one, one, one), &sums)
    }
    return sums.products
}
