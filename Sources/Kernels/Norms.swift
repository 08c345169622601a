import Foundation

/// RMSNorm over each row of `x` (`[rows, n]`): `w ⊙ x / sqrt(mean(x²) + eps)`, the sum of squares
/// in `dotF32`'s order (a running scalar sum held one 2048-value norm to an add's latency, 3 µs).
public func rmsNorm(_ x: [Float], weight w: [Float], eps: Float) -> [Float] {
    let n = w.count
    return [Float](unsafeUninitializedCapacity: x.count) { y, count in
        x.withUnsafeBufferPointer { x in
            w.withUnsafeBufferPointer { w in
                for r in 0..<(x.count / n) {
                    let row = x.baseAddress! + r * n, inv = 1 / (dotF32(row, row, n) / Float(n) + eps).squareRoot()
                    for i in 0..<n { y[r * n + i] = w[i] * (row[i] * inv) }
                }
            }
        }
        count = x.count
    }
}

/// `a + b`, element by element.
public func adding(_ a: [Float], _ b: [Float]) -> [Float] {
    precondition(a.count == b.count)
    return [Float](unsafeUninitializedCapacity: a.count) { y, count in
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in for i in 0..<a.count { y[i] = a[i] + b[i] } } }
        count = a.count
    }
}

/// LayerNorm over each row (population variance) with affine weight and bias.
public func layerNorm(_ x: [Float], weight w: [Float], bias b: [Float], eps: Float) -> [Float] {
    let n = w.count
    var y = x
    for r in 0..<(x.count / n) {
        var mean: Float = 0
        for i in 0..<n { mean += x[r * n + i] }
        mean /= Float(n)
        var v: Float = 0
        for i in 0..<n { let d = x[r * n + i] - mean; v += d * d }
        let inv = 1 / (v / Float(n) + eps).squareRoot()
        for i in 0..<n { y[r * n + i] = (x[r * n + i] - mean) * inv * w[i] + b[i] }
    }
    return y
}
