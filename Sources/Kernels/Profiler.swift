import CNUMA
import Dispatch

/// Wall time spent in named phases (projections, attention, indexer, top-k, routing, MoE,
/// communication), for `dsa bench` and `--verbose`. Off unless enabled; phases are timed on the
/// rank's main thread.
public enum Profiler {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals: [String: Double] = [:]
    /// Seconds the phases timed inside the current one took so far.
    nonisolated(unsafe) private static var nested = 0.0

    /// Runs `body`, adding its wall time to `phase` when profiling is on, less that of the phases
    /// timed inside it (the communication inside an MoE layer counts as communication only).
    @inline(__always)
    public static func measure<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds, outer = nested
        nested = 0
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            totals[phase, default: 0] += seconds - nested
            nested = outer + seconds
        }
        return try body()
    }

    /// Seconds per phase since the last reset.
    public static var snapshot: [String: Double] { totals }

    /// The pool's parallel loops since the last reset: how many, the caller's wall time in them, and
    /// the part of it it spent waiting for the other workers' last tasks (what the rest of the step
    /// leaves is the caller's serial work between loops).
    nonisolated(unsafe) public private(set) static var loops = (count: 0, seconds: 0.0, waiting: 0.0)

    /// One of the pool's loops: when it started, when the caller had no task left, when it ended
    /// (uptime nanoseconds), and the bytes of weights it named.
    public struct LoopRecord: Sendable {
        public let start: UInt64, claimed: UInt64, end: UInt64, bytes: Int
        public init(start: UInt64, claimed: UInt64, end: UInt64, bytes: Int) { self.start = start; self.claimed = claimed; self.end = end; self.bytes = bytes }
    }
    /// Every loop since recording started (set it to `[]`; nil: not recording).
    nonisolated(unsafe) public static var loopRecords: [LoopRecord]?

    /// Adds one loop to `loops` (and to `loopRecords` when recording).
    static func loop(_ record: LoopRecord) {
        loops = (loops.count + 1, loops.seconds + Double(record.end - record.start) / 1e9, loops.waiting + Double(record.end - record.claimed) / 1e9)
        loopRecords?.append(record)
    }

    /// Each loop of a decode step from `records`, its medians over the steps that ran as many loops
    /// as most did: the seconds since the loop before it ended (or the step began), its seconds, the
    /// seconds the caller waited for its last tasks, and its bytes. `steps` holds each step's start
    /// and the last one's end.
    public static func loopProfile(_ records: [LoopRecord], steps: [UInt64]) -> [(gap: Double, seconds: Double, waiting: Double, bytes: Int)] {
        let perStep = zip(steps, steps.dropFirst()).map { from, to in records.filter { $0.start >= from && $0.start < to } }
        let counts = perStep.map { $0.count }
        guard let n = counts.max(by: { a, b in counts.filter { $0 == a }.count < counts.filter { $0 == b }.count }) else { return [] }
        let full = perStep.indices.filter { perStep[$0].count == n }
        func median(_ f: (Int) -> UInt64) -> Double {
            let v = full.map(f).sorted()
            return (Double(v[(v.count - 1) / 2]) + Double(v[v.count / 2])) / 2e9
        }
        return (0..<n).map { i in
            (gap: median { perStep[$0][i].start - (i == 0 ? steps[$0] : perStep[$0][i - 1].end) }, seconds: median { perStep[$0][i].end - perStep[$0][i].start },
             waiting: median { perStep[$0][i].end - perStep[$0][i].claimed }, bytes: perStep[full[0]][i].bytes)
        }
    }

    public static func reset() { totals = [:]; loops = (0, 0, 0) }
}

/// Read bandwidth of this machine's memory in bytes per second, STREAM-style: every worker sums
/// its part of a buffer much larger than the caches; the best of `runs`.
public func measureReadBandwidth(bytes: Int = 1 << 30, runs: Int = 5) -> Double {
    let count = bytes / 4
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    Parallel.forRanges(count) { range in for i in range { buffer[i] = Float(i & 7) } }  // first touch by the workers
    return bestReadBandwidth(bytes: count * 4, runs: runs) { sums in  // a slot per range, whatever the split
        Parallel.forRanges(count, align: 16) { range in sums[range.lowerBound * sumSlots / count] = readSum(buffer, range) }
    }
}

/// Read bandwidth of NUMA node `memoryNode` seen from every CPU of node `cpuNode`: the buffer is
/// bound to `memoryNode` and read by threads confined to `cpuNode`; the best of `runs`.
public func measureReadBandwidth(cpuNode: Int, memoryNode: Int, bytes: Int = 1 << 30, runs: Int = 5) -> Double {
    let threads = max(1, NUMA.nodes().first { $0.id == cpuNode }?.cpus.count ?? 1)
    let count = bytes / 4
    guard let raw = cnuma_alloc_on_node(count * 4, Int32(memoryNode)) else { return 0 }
    defer { cnuma_free(raw, count * 4) }
    let buffer = UncheckedSendable(raw.bindMemory(to: Float.self, capacity: count))
    @Sendable func part(_ t: Int) -> Range<Int> { (count / 16 * t / threads * 16)..<(t == threads - 1 ? count : count / 16 * (t + 1) / threads * 16) }
    NUMA.onThreads(of: cpuNode, count: threads) { t in for i in part(t) { buffer.value[i] = Float(i & 7) } }
    return bestReadBandwidth(bytes: count * 4, runs: runs) { sums in
        let out = UncheckedSendable(sums)
        NUMA.onThreads(of: cpuNode, count: threads) { t in out.value[t] = readSum(buffer.value, part(t)) }
    }
}

/// Slots for the bandwidth reads' partial sums (more than any loop has ranges).
private let sumSlots = 4096

/// The best of `runs` timings of `read`, which stores one partial sum per worker (so the reads are
/// not optimised away), as bytes per second.
private func bestReadBandwidth(bytes: Int, runs: Int, _ read: (UnsafeMutablePointer<Float>) -> Void) -> Double {
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: sumSlots)
    defer { sums.deallocate() }
    sums.initialize(repeating: 0, count: sumSlots)
    var best = Double.infinity
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        read(sums)
        best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return sums[0].isNaN ? 0 : Double(bytes) / best
}

/// The sum of `buffer[range]` through wide loads: the inner loop of the bandwidth measurements.
@inline(never)
private func readSum(_ buffer: UnsafePointer<Float>, _ range: Range<Int>) -> Float {
    var a = SIMD16<Float>(), b = SIMD16<Float>()
    var i = range.lowerBound
    while i + 32 <= range.upperBound {
        a += UnsafeRawPointer(buffer + i).loadUnaligned(as: SIMD16<Float>.self)
        b += UnsafeRawPointer(buffer + i + 16).loadUnaligned(as: SIMD16<Float>.self)
        i += 32
    }
    return (a + b).sum()
}
