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

    /// Rotates interleaved pairs `(x[o+2i], x[o+2i+1])` of `x[o ..< o + dim]` for `o = first +
    /// h·stride`, `h < count` (MLA layout: a token's heads), all at `position`.
    public func applyInterleaved(_ x: inout [Float], first: Int, count: Int = 1, stride: Int = 0, position: Int) {
        rotate(&x, first: first, count: count, stride: stride, position: position) { 2 * $0 } second: { 2 * $0 + 1 }
    }

    /// Rotates half-split pairs `(x[o+i], x[o+i + dim/2])` of `x[o ..< o + dim]` for `o = first +
    /// h·stride`, `h < count` (indexer layout), all at `position`.
    public func applyHalfSplit(_ x: inout [Float], first: Int, count: Int = 1, stride: Int = 0, position: Int) {
        let half = frequencies.count
        rotate(&x, first: first, count: count, stride: stride, position: position) { $0 } second: { $0 + half }
    }

    /// Pair `i` of each head is `(x[o + first(i)], x[o + second(i)])`, rotated by angle `i`.
    @inline(__always)
    private func rotate(_ x: inout [Float], first: Int, count: Int, stride: Int, position: Int,
                        _ one: (Int) -> Int, second two: (Int) -> Int) {
        precondition(count == 0 || first + (count - 1) * stride + 2 * frequencies.count <= x.count)
        let (c, s) = angles(position)
        x.withUnsafeMutableBufferPointer { x in
            for h in 0..<count {
                let o = x.baseAddress! + first + h * stride
                for i in 0..<c.count {
                    let a = o[one(i)], b = o[two(i)]
                    o[one(i)] = a * c[i] - b * s[i]
                    o[two(i)] = a * s[i] + b * c[i]
                }
            }
        }
    }
}
