import Dispatch
import Foundation

/// The worker threads all kernels share: `threads` static partitions of each loop.
public enum Parallel {
    /// Worker count; every core by default (the launcher and `--threads` set it per rank).
    nonisolated(unsafe) public static var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body(range)` over `count` items split into at most `threads × 4` contiguous ranges,
    /// with ranges starting on multiples of `align`.
    public static func forRanges(_ count: Int, align: Int = 1, minPerTask: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let units = (count + align - 1) / align
        let tasks = Swift.min(units, Swift.max(1, threads > 1 ? threads * 4 : 1), Swift.max(1, count / Swift.max(minPerTask, 1)))
        if tasks <= 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)  // workers only run while this call waits for them
            DispatchQueue.concurrentPerform(iterations: tasks) { i in
                let lo = Swift.min(count, (units * i / tasks) * align)
                let hi = Swift.min(count, (units * (i + 1) / tasks) * align)
                if lo < hi { task.value(lo..<hi) }
            }
        }
    }

    /// Runs `body(i)` for each `i` in `0..<count`, spread over the workers.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forRanges(count) { range in for i in range { body(i) } }
    }
}

/// Hands a value to worker threads that the caller waits for.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
