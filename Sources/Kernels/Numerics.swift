/// Scalar conversions between fp32 and the storage formats of checkpoints and caches.
public enum FP8 {
    /// Largest finite e4m3fn value.
    public static let max: Float = 448

    /// Decodes one e4m3fn byte (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; 0x7F/0xFF are NaN).
    public static func decode(_ b: UInt8) -> Float {
        let sign: Float = b & 0x80 != 0 ? -1 : 1
        let e = Int((b >> 3) & 0x0F), m = Float(b & 0x07)
        if e == 15 && m == 7 { return .nan }
        if e == 0 { return sign * m / 8 * 0x1p-6 }
        return sign * Float(sign: .plus, exponent: e - 7, significand: 1 + m / 8)
    }

    /// Encodes with round-to-nearest-even, saturating at ±448 (values are clamped first, as `act_quant` does).
    public static func encode(_ v: Float) -> UInt8 {
        if v.isNaN { return 0x7F }
        let sign: UInt8 = v.sign == .minus ? 0x80 : 0
        let x = Swift.min(abs(v), max)
        if x < 0x1p-6 {  // subnormal: multiples of 2^-9; m == 8 is the smallest normal, 0x08
            return sign | UInt8((x * 512).rounded(.toNearestOrEven))
        }
        let m = Int((x.significand * 8 - 8).rounded(.toNearestOrEven))  // 0...8; 8 carries into the exponent
        return sign | UInt8((Int(x.exponent) + 7) << 3 + m)
    }

    /// The "ue8m0" scale of a block: 2^ceil(log2(max(amax, 1e-4) / 448)), computed from the fp32 bits.
    public static func powerOfTwoScale(amax: Float) -> Float {
        let s = Swift.max(amax, 1e-4) * (1 / max)
        let bits = s.bitPattern
        let exponent = Int((bits >> 23) & 0xFF) - 127 + (bits & 0x7F_FFFF != 0 ? 1 : 0)
        return Float(sign: .plus, exponent: exponent, significand: 1)
    }

    /// Quantizes `values` in blocks of `block` with power-of-two scales: codes and one scale per block.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, block: Int,
                                codes: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>) {
        var start = 0, b = 0
        while start < values.count {
            let end = Swift.min(start + block, values.count)
            var amax: Float = 0
            for i in start..<end { amax = Swift.max(amax, abs(values[i])) }
            let s = powerOfTwoScale(amax: amax)
            for i in start..<end { codes[i] = encode(Swift.min(Swift.max(values[i] / s, -max), max)) }
            scales[b] = s
            start = end; b += 1
        }
    }
}

/// bfloat16: the upper half of an fp32.
public enum BF16 {
    /// Widens a bf16 bit pattern to fp32 (exact).
    @inline(__always) public static func decode(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Rounds fp32 to bf16 with round-to-nearest-even (NaN stays NaN).
    @inline(__always) public static func encode(_ f: Float) -> UInt16 {
        if f.isNaN { return 0x7FC0 }
        let bits = f.bitPattern
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// The fp32 value nearest after a round trip through bf16.
    @inline(__always) public static func round(_ f: Float) -> Float { decode(encode(f)) }
}

/// IEEE half precision.
public enum F16 {
    /// Widens a binary16 bit pattern to fp32 (exact).
    @inline(__always) public static func decode(_ b: UInt16) -> Float { Float(Float16(bitPattern: b)) }
    /// Rounds fp32 to binary16 (round-to-nearest-even).
    @inline(__always) public static func encode(_ f: Float) -> UInt16 { Float16(f).bitPattern }
}
