/// Indices of the `k` largest `scores`, ascending by index. Ties go to the lower index, so every
/// rank and every run selects the same set.
public func topK(_ scores: UnsafeBufferPointer<Float>, _ k: Int) -> [Int32] {
    let n = scores.count
    if k >= n { return (0..<Int32(n)).map { $0 } }
    if k <= 0 { return [] }
    // Threshold by quickselect on a copy, then collect: > threshold first, equals by lowest index.
    var work = Array(scores)
    var lo = 0, hi = n - 1, target = k - 1  // the k-th largest lands at `target` (descending order)
    while lo < hi {
        let pivot = work[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while work[i] > pivot { i += 1 }
            while work[j] < pivot { j -= 1 }
            if i <= j { work.swapAt(i, j); i += 1; j -= 1 }
        }
        if target <= j { hi = j } else if target >= i { lo = i } else { break }
    }
    let threshold = work[target]
    var above = 0
    for s in scores where s > threshold { above += 1 }
    var equalsLeft = k - above
    var out = [Int32]()
    out.reserveCapacity(k)
    for i in 0..<n {
        let s = scores[i]
        if s > threshold || (s == threshold && equalsLeft > 0) {
            if s == threshold { equalsLeft -= 1 }
            out.append(Int32(i))
        }
    }
    return out
}

/// Naive twin of `topK`: a full sort by (score descending, index ascending).
public func naiveTopK(_ scores: [Float], _ k: Int) -> [Int32] {
    let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    return order.prefix(k).sorted().map { Int32($0) }
}
