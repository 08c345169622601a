import Foundation
import Kernels
import Synchronization
import XCTest

final class NextReadsTests: XCTestCase {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 20, alignment: 64)
    deinit { buffer.deallocate() }

    /// Region `i` of 1 MB in `buffer`.
    func region(_ i: Int) -> Region { Region(start: buffer + i << 20, bytes: 1 << 20) }

    /// A step's loops in the same order: from the third step on, each loop predicts the next two
    /// (the last one's successor is the first of the next step).
    func testRepeatedStepsPredictTheNextLoops() {
        var next = NextReads()
        let (a, b, c) = (region(0), region(1), region(2))
        for step in 0..<4 {
            let afterA = next.loop(reading: [a]), afterB = next.loop(reading: [b]), afterC = next.loop(reading: [c])
            if step >= 2 {
                XCTAssertEqual(afterA, [[b], [c]])
                XCTAssertEqual(afterB, [[c], [a]])
                XCTAssertEqual(afterC, [[a], [b]])
            } else if step == 0 {
                XCTAssertEqual(afterA + afterB + afterC, [])
            }
        }
    }

    /// What follows a loop changes in part (the routed experts after the router): only what followed
    /// it both last times is predicted; a loop's own `next` comes first, then what follows that.
    func testOnlyWhatFollowedTwiceIsPredictedAndNextComesFirst() {
        var next = NextReads()
        let (router, shared, after) = (region(0), region(1), region(9))
        for routed in 2..<6 {
            let predicted = next.loop(reading: [router])
            if routed >= 4 { XCTAssertEqual(predicted.first, [shared]) }
            _ = next.loop(reading: [shared, region(routed)])
            _ = next.loop(reading: [after])
        }
        XCTAssertEqual(next.loop(reading: [router], next: [region(7)]), [[region(7)]], "nothing known after the given next")
        XCTAssertEqual(next.loop(reading: [region(3)], next: [router], depth: 2).first, [router])
    }

    /// Loops whose workers fetch what follows, the next loop published while they still fetch:
    /// every item still runs once in every loop.
    func testLoopsRunWholeWhileWorkersFetch() {
        defer { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount }
        Parallel.threads = 4
        let count = 1000, runs = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count)
        defer { runs.deallocate() }
        for i in 0..<count { (runs + i).initialize(to: Atomic(0)) }
        for loop in 0..<300 {
            let reads = [Region(start: buffer + (loop % 3) * (16 << 20), bytes: 16 << 20)]
            Parallel.forRanges(count, reads: reads) { range in for i in range { runs[i].add(1, ordering: .relaxed) } }
            XCTAssertTrue((0..<count).allSatisfy { runs[$0].load(ordering: .relaxed) == loop + 1 }, "loop \(loop)")
        }
    }
}
