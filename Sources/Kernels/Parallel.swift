import Foundation
import CPrefetch
import Synchronization

/// The worker threads all kernels share: each loop is cut into at most `threads × tasksPerThread`
/// contiguous ranges, run by a persistent pool — the calling thread and `threads - 1` workers that
/// spin for 3 ms between loops, then sleep — so a kernel call costs no thread wake-ups while the
/// model runs.
public enum Parallel {
    /// Worker count; every core by default (the launcher and `--threads` set it per rank).
    nonisolated(unsafe) public static var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    nonisolated(unsafe) private static var pool: WorkerPool?
    /// Set while the pool runs a loop: a loop started meanwhile (nested, or from another thread)
    /// runs on its caller alone.
    private static let busy = Atomic<Bool>(false)
    /// The loops' reads so far, and so what each loop's successor reads; used while `busy`.
    nonisolated(unsafe) private static var nextReads = NextReads()
    /// The most each worker fetches of the next loops' weights after a loop (a part of its L2; 0: none).
    nonisolated(unsafe) public static var prefetchBytes = 1 << 20
    /// What the next weight loops will read, as the last one predicted.
    nonisolated(unsafe) private static var ahead: [[Region]] = []
    /// Tasks per worker in each loop, shrinking towards the end of each worker's share
    /// (`start(ofTask:)`). Decode on 16 Xeon cores (tasks then of equal size, claimed from one shared
    /// counter), two samples each in one run: 2 → 68.2 / 65.9 tokens/s, 4 → 78.9 / 78.0, 8 → 84.3 /
    /// 84.2, 16 → 74.6 / 75.7 (fewer: a slow core holds the loop; more: claims cost more). With a
    /// counter per worker and shrinking tasks, 32: decode the same within the noise, the bandwidth
    /// read 4–8 % faster, no longer waiting on a last task of 8 MB (README, Performance).
    static let tasksPerThread = 32

    /// The most ranges one loop is cut into.
    public static var maxTasks: Int { threads > 1 ? threads * tasksPerThread : 1 }

    /// Runs `body(range)` over `count` items split into at most `threads × tasksPerThread`
    /// contiguous ranges, with ranges starting on multiples of `align`. A loop that streams weights
    /// names them in `reads`, and those of the loop after it in `next` where it knows them: once out
    /// of tasks, the workers fetch what the next loops will read (`NextReads`) while the caller
    /// works between the loops, and go on fetching it after loops that read no weights (the
    /// attention's, the norms'). `alongside`, where given, runs on the calling thread while the
    /// workers start on the loop (neither may depend on the other; loops it starts run on the caller
    /// alone), or before the loop where the loop is not split.
    public static func forRanges(_ count: Int, align: Int = 1, minPerTask: Int = 1, reads: [Region] = [], next: [Region]? = nil,
                                 alongside: (() -> Void)? = nil, _ body: (Range<Int>) -> Void) {
        let units = (count + align - 1) / align
        let tasks = Swift.min(units, maxTasks, Swift.max(1, count / Swift.max(minPerTask, 1)))
        if let alongside, tasks <= 1 || threads <= 1 {
            alongside()
            return forRanges(count, align: align, minPerTask: minPerTask, reads: reads, next: next, body)
        }
        guard count > 0 else { return }
        guard !busy.exchange(true, ordering: .acquiring) else { alongside?(); return body(0..<count) }
        defer { busy.store(false, ordering: .releasing) }
        if !reads.isEmpty { ahead = nextReads.loop(reading: reads, next: next) }
        guard tasks > 1 else { return body(0..<count) }
        if pool?.size != threads { pool?.stop(); pool = WorkerPool(size: threads) }
        let size = threads
        let first = { (i: Int) in Swift.min(count, Int((Double(units) * start(ofTask: i, tasks: tasks, size: size)).rounded()) * align) }
        pool!.run(tasks, prefetching: ahead, bytes: Profiler.loopRecords == nil ? 0 : reads.reduce(0) { $0 + $1.bytes }, alongside: alongside) { i in
            let lo = first(i), hi = first(i + 1)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Where task `i` of `tasks` starts, as a fraction of the loop: each participant's share of the
    /// tasks (`WorkerPool.share`, `n` of them) covers `n / tasks` of the loop, and within it the
    /// tasks shrink linearly (task `j` takes `(2(n - j) - 1) / n²` of the share's part), so the last
    /// tasks, which everyone else waits for, are short, while the first are long.
    static func start(ofTask i: Int, tasks: Int, size: Int) -> Double {
        guard i < tasks else { return 1 }
        let share = WorkerPool.share(Swift.min(size - 1, ((i + 1) * size - 1) / tasks), tasks: tasks, size: size)  // the one holding task i
        let j = Double(i - share.lowerBound), n = Double(share.count)
        return (Double(share.lowerBound) + j * (2 * n - j) / n) / Double(tasks)
    }

    /// Runs `body(i)` for each `i` in `0..<count`, spread over the workers (`alongside` as `forRanges`').
    public static func forEach(_ count: Int, reads: [Region] = [], next: [Region]? = nil, alongside: (() -> Void)? = nil, _ body: (Int) -> Void) {
        forRanges(count, reads: reads, next: next, alongside: alongside) { range in for i in range { body(i) } }
    }
}

/// `size - 1` threads that, with the caller, run the tasks of each job: participant `p` (the
/// caller is 0) owns the `p`-th contiguous share of the tasks and claims them from a counter of its
/// own, then takes what is left of the others' shares — so claims are uncontended (an atomic add on
/// a line other cores are polling costs about 0.2 µs on a 16-core Xeon, and a job of 128 empty
/// tasks took 26 µs with one shared counter) and each core streams one contiguous range of the
/// weights. A job is published by bumping `generation`, and every worker acknowledges it on a line
/// of its own once it finds no task left (with one counter that all added to, an empty 128-task job
/// took 5.1 µs, now 4.3), so no worker still claims when the next job resets the counters. Every
/// counter sits on a cache line of its own, and every spin-wait `pause`s. Having acknowledged a
/// job, a worker fetches its share of the regions the caller named for after it into its L2,
/// and stops when the next job is published.
final class WorkerPool: @unchecked Sendable {
    let size: Int
    private let generation: UnsafeMutablePointer<Atomic<Int>>  // the job's number, published by the caller
    private let next: UnsafeMutablePointer<Atomic<Int>>  // participant p's next task at next[p · 8]: a line each
    private let finished: UnsafeMutablePointer<Atomic<Int>>  // the last generation worker p finished, at finished[p · 8]
    /// The current job, which `run` keeps alive: unretained, so the workers' calls touch no
    /// reference count (retaining one shared closure on every task cost about 0.13 µs a task).
    private var job: Unmanaged<Job>?, tasks = 0, stopping = false
    private let sleep = NSCondition()
    private var sleepers = 0
    /// The regions to fetch after generation `g`, each with the number of the loop that reads it, at
    /// `hints[(g % 2) · maxHints]`, `hintCounts[g % 2]` of them: a worker still fetching after `g`
    /// reads its slot while the caller fills the other.
    private let hints: UnsafeMutablePointer<(region: Region, loop: Int)>, hintCounts: UnsafeMutablePointer<Int>
    private static let maxHints = 32

    init(size: Int) {
        self.size = size
        (generation, next, finished) = (Self.lines(1), Self.lines(size), Self.lines(size))
        hints = .allocate(capacity: 2 * Self.maxHints)
        hintCounts = .allocate(capacity: 2)
        hintCounts.initialize(repeating: 0, count: 2)
        for p in 1..<size { Thread { [self] in loop(p) }.start() }
    }

    deinit { generation.deallocate(); next.deallocate(); finished.deallocate(); hints.deallocate(); hintCounts.deallocate() }

    /// `count` atomic counters at 0, each on a 64-byte line of its own: counter `i` at `[i · 8]`.
    private static func lines(_ count: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: count * 64, alignment: 64).bindMemory(to: Atomic<Int>.self, capacity: count * 8)
        for i in 0..<count { (p + i * 8).initialize(to: Atomic(0)) }
        return p
    }

    /// Runs `body(i)` for every `i` in `0..<tasks`, on the workers and the calling thread (once it
    /// has run `alongside`); then the workers fetch their shares of the loops `after` will read.
    /// `bytes`: the weights the loop reads, for `Profiler`.
    func run(_ tasks: Int, prefetching after: [[Region]] = [], bytes: Int = 0, alongside: (() -> Void)? = nil, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let box = Job(body)
            job = .passUnretained(box); self.tasks = tasks
            for p in 0..<size { next[p * 8].store(share(p).lowerBound, ordering: .relaxed) }
            setHints(after)
            let start = Profiler.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            let current = publish()
            alongside?()
            claim(0)
            let claimed = Profiler.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            waitForWorkers(current)
            if Profiler.enabled { Profiler.loop(.init(start: start, claimed: claimed, end: DispatchTime.now().uptimeNanoseconds, bytes: bytes)) }
            job = nil
            withExtendedLifetime(box) {}
        }
    }

    /// The regions to fetch after the next generation, loop by loop (at most `maxHints`).
    private func setHints(_ loops: [[Region]]) {
        let slot = (generation[0].load(ordering: .relaxed) + 1) % 2
        var count = 0
        for (loop, regions) in loops.enumerated() {
            for r in regions where count < Self.maxHints { hints[slot * Self.maxHints + count] = (r, loop); count += 1 }
        }
        hintCounts[slot] = count
    }

    /// Until every worker has finished generation `g`.
    private func waitForWorkers(_ g: Int) {
        while !(1..<size).allSatisfy({ finished[$0 * 8].load(ordering: .acquiring) == g }) { cpu_relax() }
    }

    /// Participant `p`'s share of the tasks.
    private func share(_ p: Int) -> Range<Int> { Self.share(p, tasks: tasks, size: size) }

    /// Participant `p`'s share of `tasks` tasks among `size` participants.
    static func share(_ p: Int, tasks: Int, size: Int) -> Range<Int> { (tasks * p / size)..<(tasks * (p + 1) / size) }

    /// Participant `me` runs its own share's tasks, then what is left of each other share.
    private func claim(_ me: Int) {
        job!._withUnsafeGuaranteedRef { job in
            for k in 0..<size {
                let p = (me + k) % size, end = share(p).upperBound
                while next[p * 8].load(ordering: .relaxed) < end, case let i = next[p * 8].add(1, ordering: .relaxed).oldValue, i < end { job.body(i) }
            }
        }
    }

    /// Ends the workers (after the current job).
    func stop() { stopping = true; publish() }

    /// Starts the next generation, waking sleeping workers; returns its number.
    @discardableResult
    private func publish() -> Int {
        let current = generation[0].add(1, ordering: .releasing).newValue
        sleep.lock()
        if sleepers > 0 { sleep.broadcast() }
        sleep.unlock()
        return current
    }

    private func loop(_ me: Int) {
        var seen = 0
        while true {
            var spins = 0, spinUntil: UInt64 = 0
            while generation[0].load(ordering: .acquiring) == seen {
                spins += 1
                cpu_relax()
                guard spins % 4096 == 0 else { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinUntil == 0 { spinUntil = now + 3_000_000 }  // 3 ms: through an MPI exchange, asleep between steps
                guard now > spinUntil else { continue }
                sleep.lock()
                sleepers += 1
                while generation[0].load(ordering: .acquiring) == seen { sleep.wait() }
                sleepers -= 1
                sleep.unlock()
            }
            seen = generation[0].load(ordering: .acquiring)
            if stopping { return }
            claim(me)
            finished[me * 8].store(seen, ordering: .releasing)
            prefetch(me, after: seen)
        }
    }

    /// Participant `me`'s share of each loop's regions named for after generation `current` (at
    /// most `Parallel.prefetchBytes` in all), into its L2, until the next job is published.
    private func prefetch(_ me: Int, after current: Int) {
        let slot = current % 2, count = hintCounts[slot], hint = hints + slot * Self.maxHints
        var budget = Parallel.prefetchBytes, first = 0
        while first < count, budget > 0 {
            let end = (first..<count).first { hint[$0].loop != hint[first].loop } ?? count  // one loop's regions
            let total = (first..<end).reduce(0) { $0 + hint[$1].region.bytes }
            let lo = total * me / size, hi = Swift.min(total * (me + 1) / size, lo + budget)
            budget -= hi - lo
            var offset = 0  // of region i in the loop's regions one after the other
            for i in first..<end {
                let region = hint[i].region
                var at = Swift.max(lo - offset, 0) / 64 * 64  // whole lines, so the check below comes every 4 KB
                while at < Swift.min(hi - offset, region.bytes) {
                    cprefetch_l2(region.start + at)
                    at += 64
                    if at % 4096 == 0, generation[0].load(ordering: .relaxed) != current { return }
                }
                offset += region.bytes
            }
            first = end
        }
    }
}

/// A job's body, boxed so the pool can hand it to the workers unretained.
final class Job {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// Hands a value to worker threads that the caller waits for.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
