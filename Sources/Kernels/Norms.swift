import Foundation

/// RMSNorm over each row of `x` (`[rows, n]`): `w ⊙ x / sqrt(mean(x²) + eps)`.
public func rmsNorm(_ x: [Float], weight w: [Float], eps: Float) -> [Float] {
    let n = w.count
    var y = x
    for r in 0..<(x.count / n) {
        var ss: Float = 0
        for i in 0..<n { ss += x[r * n + i] * x[r * n + i] }
        let inv = 1 / (ss / Float(n) + eps).squareRoot()
        for i in 0..<n { y[r * n + i] = w[i] * (x[r * n + i] * inv) }
    }
    return y
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
