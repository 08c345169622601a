import Foundation
import Kernels
import Synchronization
import XCTest

final class ParallelTests: XCTestCase {
    /// Every item runs exactly once, in ranges that tile `0..<count` on `align` boundaries, whatever
    /// the worker count and however the shares and the stealing fall (tasks fewer than workers, so
    /// that some have no share; not a multiple of them; one slow task holding its share).
    func testEveryItemRunsOnceAcrossShares() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount }
        for threads in [1, 2, 3, 5] {
            Parallel.threads = threads
            for (count, align) in [(1, 1), (3, 1), (7, 1), (100, 8), (1000, 1), (4099, 16)] {
                let runs = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count)
                defer { runs.deallocate() }
                for i in 0..<count { (runs + i).initialize(to: Atomic(0)) }
                let badStarts = Atomic<Int>(0)
                Parallel.forRanges(count, align: align) { range in
                    if range.lowerBound % align != 0 { badStarts.add(1, ordering: .relaxed) }
                    if range.lowerBound == 0 { usleep(2000) }  // the first share's owner is slow: others take its tasks
                    for i in range { runs[i].add(1, ordering: .relaxed) }
                }
                XCTAssertEqual(badStarts.load(ordering: .relaxed), 0, "\(count) items, align \(align), \(threads) threads")
                XCTAssertTrue((0..<count).allSatisfy { runs[$0].load(ordering: .relaxed) == 1 }, "\(count) items, align \(align), \(threads) threads")
            }
        }
    }

    /// Work run alongside a loop runs once, on the calling thread, while the loop runs whole (each
    /// item once, however long the work keeps the caller from its share); loops it starts run on
    /// the caller alone; where the loop is empty or one task, the work still runs, before it.
    func testWorkAlongsideALoopRunsOnceOnTheCaller() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount }
        for threads in [1, 2, 5] {
            Parallel.threads = threads
            for count in [0, 1, 7, 1000] {
                let runs = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(count, 1))
                defer { runs.deallocate() }
                for i in 0..<count { (runs + i).initialize(to: Atomic(0)) }
                let caller = Thread.current, loopRan = Atomic<Int>(0)
                var alongside = 0, nestedOnCaller = true
                Parallel.forRanges(count, alongside: {
                    alongside += 1
                    if Thread.current != caller { alongside += 100 }
                    if threads > 1 && count > 1 { usleep(2000) }  // the workers take the caller's share meanwhile
                    Parallel.forRanges(64) { _ in if Thread.current != caller { nestedOnCaller = false } }
                    if loopRan.load(ordering: .relaxed) > 0 && count <= 1 { alongside += 1000 }  // a loop not split comes after
                }) { range in
                    loopRan.add(1, ordering: .relaxed)
                    for i in range { runs[i].add(1, ordering: .relaxed) }
                }
                XCTAssertEqual(alongside, 1, "\(count) items, \(threads) threads")
                XCTAssertTrue(nestedOnCaller || count <= 1 || threads == 1, "\(count) items, \(threads) threads")
                XCTAssertTrue((0..<count).allSatisfy { runs[$0].load(ordering: .relaxed) == 1 }, "\(count) items, \(threads) threads")
            }
        }
    }

    /// While recording, each of the pool's loops leaves its times and the bytes it names; a step's
    /// profile takes each loop's medians over the steps that ran as many loops as most did.
    func testLoopsAreRecordedAndProfiled() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount; Profiler.enabled = false; Profiler.loopRecords = nil }
        Parallel.threads = 3
        Profiler.enabled = true
        Profiler.loopRecords = []
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 64)
        defer { buffer.deallocate() }
        Parallel.forRanges(100, reads: [Region(start: buffer, bytes: 4096)]) { _ in }
        Parallel.forRanges(100) { _ in }
        Parallel.forRanges(1) { _ in }  // one task: the caller alone, not the pool's
        let records = Profiler.loopRecords!
        XCTAssertEqual(records.map { $0.bytes }, [4096, 0])
        XCTAssertTrue(records.allSatisfy { $0.start <= $0.claimed && $0.claimed <= $0.end })
        // Steps at 0, 100 and 200 ns (the last ends at 300): two loops, two loops, one (left out).
        let loop = { (start: UInt64, end: UInt64, bytes: Int) in Profiler.LoopRecord(start: start, claimed: start, end: end, bytes: bytes) }
        let profile = Profiler.loopProfile([loop(10, 20, 7), loop(30, 50, 9), loop(110, 130, 7), loop(140, 150, 9), loop(205, 290, 1)], steps: [0, 100, 200, 300])
        XCTAssertEqual(profile.count, 2)
        XCTAssertEqual(profile.map { $0.bytes }, [7, 9])
        XCTAssertEqual(profile[0].gap * 1e9, 10, accuracy: 1e-6)
        XCTAssertEqual(profile[0].seconds * 1e9, 15, accuracy: 1e-6)
        XCTAssertEqual(profile[1].gap * 1e9, 10, accuracy: 1e-6)
        XCTAssertEqual(profile[1].seconds * 1e9, 15, accuracy: 1e-6)
    }

    /// Each worker's part of a loop (a quarter with four) is cut into tasks that shrink linearly:
    /// `n` tasks a worker over `4 n²` items give each quarter tasks of 2n - 1, 2n - 3, …, 1 items.
    func testTasksShrinkTowardsTheEndOfEachWorkersPart() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount }
        Parallel.threads = 4
        let n = Parallel.maxTasks / 4, lock = NSLock()
        var sizes = [Int: Int]()  // range start → size
        Parallel.forRanges(4 * n * n) { range in lock.withLock { sizes[range.lowerBound] = range.count } }
        let quarter = (0..<n).map { 2 * (n - $0) - 1 }
        XCTAssertEqual(sizes.keys.sorted().map { sizes[$0]! }, quarter + quarter + quarter + quarter)
    }

    /// While profiling, every loop the pool runs is counted with the caller's time in it, of which
    /// the wait for the other workers' last tasks is a part.
    func testProfilerCountsThePoolsLoops() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount; Profiler.enabled = false; Profiler.reset() }
        Parallel.threads = 2
        Profiler.enabled = true
        Profiler.reset()
        let caller = pthread_self()
        for _ in 0..<20 { Parallel.forRanges(30) { _ in if pthread_equal(pthread_self(), caller) == 0 { usleep(200) } } }  // the worker's tasks are slow
        Parallel.forRanges(1) { _ in }  // one task: run by the caller alone, not a loop of the pool
        let loops = Profiler.loops
        XCTAssertEqual(loops.count, 20)
        XCTAssertGreaterThan(loops.waiting, 1e-3, "the caller waits for the worker's last tasks")
        XCTAssertLessThanOrEqual(loops.waiting, loops.seconds)
    }
}
