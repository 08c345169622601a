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

    /// Rotates interleaved pairs `(x[2i], x[2i+1])` of `x[offset ..< offset + dim]` (MLA layout).
    public func applyInterleaved(_ x: inout [Float], offset: Int, position: Int) {
        let (c, s) = angles(position)
        for i in 0..<frequencies.count {
            let a = x[offset + 2 * i], b = x[offset + 2 * i + 1]
            x[offset + 2 * i] = a * c[i] - b * s[i]
            x[offset + 2 * i + 1] = a * s[i] + b * c[i]
        }
    }

    /// Rotates half-split pairs `(x[i], x[i + dim/2])` of `x[offset ..< offset + dim]` (indexer layout).
    public func applyHalfSplit(_ x: inout [Float], offset: Int, position: Int) {
        let (c, s) = angles(position)
        let half = frequencies.count
        for i in 0..<half {
            let a = x[offset + i], b = x[offset + i + half]
            x[offset + i] = a * c[i] - b * s[i]
            x[offset + i + half] = a * s[i] + b * c[i]
        }
    }
}
