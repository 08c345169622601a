/// Memory a parallel loop streams (a weight matrix's elements).
public struct Region: Equatable {
    let start: UnsafeRawPointer, bytes: Int
    public init(start: UnsafeRawPointer, bytes: Int) { self.start = start; self.bytes = bytes }
}

/// Learns, from the loops a decode step runs in the same order every step, what the loop after
/// each one reads, so the workers can fetch it while the caller works between the two: what
/// followed a loop the last two times (the same attention projections after each other; after
/// the router the shared experts' projections, not the routed experts', which change with each token).
/// Loops are told apart by the first region they read.
public struct NextReads {
    private var previous: UnsafeRawPointer?
    private var lastSeen: [UnsafeRawPointer: [Region]] = [:]  // what followed each loop last time
    private var predicted: [UnsafeRawPointer: [Region]] = [:]  // what followed it the last two times

    public init() {}

    /// Records a loop reading `reads` after the last one recorded; returns what the next `depth`
    /// loops should read, loop by loop, as far as known (`next`, where given, for the first).
    public mutating func loop(reading reads: [Region], next: [Region]? = nil, depth: Int = 2) -> [[Region]] {
        guard let key = reads.first?.start else { return [] }
        if let previous {
            predicted[previous] = lastSeen[previous].map { before in before == reads ? reads : reads.filter(before.contains) } ?? []  // no new array when nothing changed
            lastSeen[previous] = reads
        }
        previous = key
        var ahead = [[Region]](), last = reads
        while ahead.count < depth, let following = ahead.isEmpty && next != nil ? next : last.first.flatMap({ predicted[$0.start] }), !following.isEmpty {
            ahead.append(following)
            last = following
        }
        return ahead
    }
}
