import Dispatch

/// Wall time spent in named phases (attention, indexer, top-k, MoE, communication), for
/// `dsa bench` and `--verbose`. Off unless enabled; phases are timed on the rank's main thread.
public enum Profiler {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals: [String: Double] = [:]

    /// Runs `body`, adding its wall time to `phase` when profiling is on.
    @inline(__always)
    public static func measure<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { totals[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    /// Seconds per phase since the last reset.
    public static var snapshot: [String: Double] { totals }

    public static func reset() { totals = [:] }
}

/// Read bandwidth of this machine's memory in bytes per second, STREAM-style: every worker sums
/// its part of a buffer much larger than the caches; the best of `runs`.
public func measureReadBandwidth(bytes: Int = 1 << 30, runs: Int = 5) -> Double {
    let count = bytes / 4
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    Parallel.forRanges(count) { range in for i in range { buffer[i] = Float(i & 7) } }  // first touch by the workers
    var best = Double.infinity
    var sink: Float = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: Parallel.threads * 4 + 1)
        partial.initialize(repeating: 0, count: Parallel.threads * 4 + 1)
        Parallel.forRanges(count, align: 16) { range in
            var a = SIMD16<Float>(), b = SIMD16<Float>()
            var i = range.lowerBound
            while i + 32 <= range.upperBound {
                a += UnsafeRawPointer(buffer + i).loadUnaligned(as: SIMD16<Float>.self)
                b += UnsafeRawPointer(buffer + i + 16).loadUnaligned(as: SIMD16<Float>.self)
                i += 32
            }
            partial[range.lowerBound * (Parallel.threads * 4) / count] += (a + b).sum()
        }
        best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        sink += partial[0]
        partial.deallocate()
    }
    return sink.isNaN ? 0 : Double(count * 4) / best
}
