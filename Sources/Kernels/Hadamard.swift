/// In-place normalised Walsh–Hadamard transform (Sylvester order) of `x[offset ..< offset + n]`,
/// `n` a power of two: `x ← H_n x / sqrt(n)`.
public func hadamard(_ x: inout [Float], offset: Int, count n: Int) {
    precondition(n > 0 && n & (n - 1) == 0, "hadamard: length \(n) is not a power of two")
    var h = 1
    while h < n {
        var i = 0
        while i < n {
            for j in i..<(i + h) {
                let a = x[offset + j], b = x[offset + j + h]
                x[offset + j] = a + b
                x[offset + j + h] = a - b
            }
            i += 2 * h
        }
        h *= 2
    }
    let scale = 1 / Float(n).squareRoot()
    for j in offset..<(offset + n) { x[j] *= scale }
}

/// Naive twin of `hadamard`: multiplies by the explicit matrix, `H[i][j] = (-1)^popcount(i & j)`.
public func naiveHadamard(_ x: [Float]) -> [Float] {
    let n = x.count
    return (0..<n).map { i in
        var s = 0.0
        for j in 0..<n { s += ((i & j).nonzeroBitCount % 2 == 0 ? 1 : -1) * Double(x[j]) }
        return Float(s / Double(n).squareRoot())
    }
}
