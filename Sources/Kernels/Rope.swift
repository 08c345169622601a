import Foundation

/// Rotary embedding tables: per-pair frequencies and the cos/sin of `position × frequency`, in fp32
/// as DeepSeek's reference computes them.
public struct Rope: Sendable {
    /// One frequency per rotated pair (`dim / 2` values).
    public let frequencies: [Float]

    public init(frequencies: [Float]) { self.frequencies = frequencies }

    /// cos and sin of each pair's angle at `position`.
    public func angles(_ position: Int) -> (cos: [Float], sin: [Float]) {
        let p = Float(position)
        return (frequencies.map { cos(p * $0) }, frequencies.map { sin(p * $0) })
    }

    /// Rotates interleaved pairs `(x[o+2i], x[o+2i+1])` of `x[o ..< o + dim]` for each `o` in
    /// `offsets` (MLA layout: a token's heads), all at `position`.
    public func applyInterleaved(_ x: inout [Float], at offsets: some Sequence<Int>, position: Int) {
        let (c, s) = angles(position)
        for o in offsets {
            for i in 0..<frequencies.count {
                let a = x[o + 2 * i], b = x[o + 2 * i + 1]
                x[o + 2 * i] = a * c[i] - b * s[i]
                x[o + 2 * i + 1] = a * s[i] + b * c[i]
            }
        }
    }

    /// Rotates half-split pairs `(x[o+i], x[o+i + dim/2])` of `x[o ..< o + dim]` for each `o` in
    /// `offsets` (indexer layout), all at `position`.
    public func applyHalfSplit(_ x: inout [Float], at offsets: some Sequence<Int>, position: Int) {
        let (c, s) = angles(position)
        let half = frequencies.count
        for o in offsets {
            for i in 0..<half {
                let a = x[o + i], b = x[o + i + half]
                x[o + i] = a * c[i] - b * s[i]
                x[o + i + half] = a * s[i] + b * c[i]
            }
        }
    }
}
