// SIMD dot products, all with one summation order (two 8-wide accumulators, then the scalar
// tail), so a dot over decoded values equals the fused one bit for bit. FP8 e4m3 is widened through half precision: shifting the 7 low bits left
// by 7 and the sign by 8 gives the binary16 of `value × 2^-8` for every finite code (normal and
// subnormal), which F16C converts 8 at a time; the 2^8 is folded into the block scales.

/// 8 e4m3 codes as fp32 values × 2^-8.
@inline(__always)
func fp8x8(_ p: UnsafePointer<UInt8>) -> SIMD8<Float> {
    let b = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt8>.self)
    let h = (SIMD8<UInt16>(truncatingIfNeeded: b & 0x7F) &<< 7) | (SIMD8<UInt16>(truncatingIfNeeded: b & 0x80) &<< 8)
    return SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self))
}

/// One e4m3 code as fp32 × 2^-8.
@inline(__always)
func fp8Scalar(_ b: UInt8) -> Float {
    Float(Float16(bitPattern: (UInt16(b & 0x7F) << 7) | (UInt16(b & 0x80) << 8)))
}

/// `Σ w[i] · x[i]` for weights decoded 8 at a time by `wide(i)` (or one by `one(i)` in the tail):
/// the one summation order all dot products share.
@inline(__always)
func dot(_ n: Int, _ x: UnsafePointer<Float>, wide: (Int) -> SIMD8<Float>, one: (Int) -> Float) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        a0.addProduct(wide(i), UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
        a1.addProduct(wide(i + 8), UnsafeRawPointer(x + i + 8).loadUnaligned(as: SIMD8<Float>.self))
        i += 16
    }
    var s = (a0 + a1).sum()
    while i < n { s += one(i) * x[i]; i += 1 }
    return s
}

/// Σ fp8(w[i]) · x[i] × 2^-8.
@inline(__always)
func fp8Dot(_ w: UnsafePointer<UInt8>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, x, wide: { fp8x8(w + $0) }, one: { fp8Scalar(w[$0]) })
}

@inline(__always)
func bf16x8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
    let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)
    return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
}

/// Σ bf16(w[i]) · x[i].
@inline(__always)
func bf16Dot(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, x, wide: { bf16x8(w + $0) }, one: { BF16.decode(w[$0]) })
}

@inline(__always)
func f16x8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
    SIMD8<Float>(unsafeBitCast(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self), to: SIMD8<Float16>.self))
}

/// Σ f16(w[i]) · x[i].
@inline(__always)
func f16Dot(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, x, wide: { f16x8(w + $0) }, one: { F16.decode(w[$0]) })
}

/// Σ a[i] · b[i] in fp32.
@inline(__always)
public func dotF32(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    dot(n, b, wide: { UnsafeRawPointer(a + $0).loadUnaligned(as: SIMD8<Float>.self) }, one: { a[$0] })
}

/// `y[i] += a · x[i]`.
@inline(__always)
public func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let av = SIMD8<Float>(repeating: a)
    while i + 8 <= n {
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += a * x[i]; i += 1 }
}

/// `y[i] += a · x[i]` with fp64 accumulation.
@inline(__always)
public func axpyDouble(_ a: Double, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
    var i = 0
    let av = SIMD4<Double>(repeating: a)
    while i + 4 <= n {
        let xv = SIMD4<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self))
        let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD4<Double>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD4<Double>.self)
        i += 4
    }
    while i < n { y[i] += a * Double(x[i]); i += 1 }
}
