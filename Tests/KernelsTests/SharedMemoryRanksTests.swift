import Foundation
import Kernels
import XCTest

/// The shared-memory transport, with threads as ranks that each map the file as a process would.
final class SharedMemoryRanksTests: XCTestCase {
    func makeRanks(_ size: Int, capacity: Int, timeout: Double = 60,
                   onTimeout: @escaping @Sendable (Int, String) -> Never = { fatalError("rank \($0) stopped answering in \($1)") }) throws -> [SharedMemoryRanks] {
        let path = NSTemporaryDirectory() + "dsa-test-\(UUID().uuidString)"
        defer { unlink(path) }
        return try (0..<size).map { try SharedMemoryRanks(path: path, rank: $0, size: size, capacity: capacity, timeout: timeout, onTimeout: onTimeout) }
    }

    /// Runs `body` on one thread per rank; the results in rank order.
    func run<R>(_ ranks: [SharedMemoryRanks], _ body: @escaping @Sendable (SharedMemoryRanks) -> R) -> [R] {
        let results = Results<R>(count: ranks.count), done = DispatchGroup()
        for comm in ranks {
            done.enter()
            let t = Thread { results.set(comm.rank, body(comm)); done.leave() }
            t.stackSize = 8 << 20
            t.start()
        }
        done.wait()
        return results.values.map { $0! }
    }

    /// Sizes from empty to five chunks, results for everyone or the coordinator alone: every rank
    /// gets exactly the combination of all ranks' bytes in rank order, round after round.
    func testEveryExchangeDeliversTheCombinationInChunks() throws {
        let size = 3, rounds = 300
        @Sendable func data(_ rank: Int, _ round: Int) -> [UInt8] {
            (0..<((round * 37 + rank * 101) % 300)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ round &+ rank) }
        }
        let combine = { @Sendable (parts: [[UInt8]]) in parts.enumerated().flatMap { [UInt8($0.offset), UInt8(truncatingIfNeeded: $0.element.count)] + $0.element } }
        let results = run(try makeRanks(size, capacity: 64)) { comm in
            (0..<rounds).map { comm.exchange(data(comm.rank, $0), everyone: $0 % 3 != 0, combine: combine) }
        }
        for round in 0..<rounds {
            let expected = combine((0..<size).map { data($0, round) })
            for rank in 0..<size { XCTAssertEqual(results[rank][round], rank == 0 || round % 3 != 0 ? expected : [], "round \(round), rank \(rank)") }
        }
    }

    /// A typed reduce: the merge reads each part where it arrived (in the slot when it fits one,
    /// else a copy) and every rank gets the merged values, round after round.
    func testReduceMergesTypedPartsInPlaceOrCopied() throws {
        let size = 3, rounds = 100
        @Sendable func values(_ rank: Int, _ round: Int) -> [Double] { (0..<((round * 7 + rank * 5) % 20)).map { Double(rank * 1000 + round) + Double($0) / 8 } }
        @Sendable func merged(_ parts: [[Double]]) -> [Double] { parts.map { Double($0.count) } + parts.flatMap { $0.map { $0 * 2 } } }
        let results = run(try makeRanks(size, capacity: 64)) { comm in
            (0..<rounds).map { round in comm.reduce(values(comm.rank, round)) { merged($0.map(Array.init)) } }
        }
        for round in 0..<rounds {
            for rank in 0..<size { XCTAssertEqual(results[rank][round], merged((0..<size).map { values($0, round) }), "round \(round), rank \(rank)") }
        }
    }

    /// The derived collectives work through it as through any transport.
    func testGatherAndSumAgreeOnEveryRank() throws {
        let results = run(try makeRanks(4, capacity: 16)) { comm in
            comm.allGather([Int32](repeating: Int32(comm.rank), count: comm.rank * 5)).flatMap { $0 } + comm.allReduceSum([Int32(comm.rank), 1])
        }
        for r in results { XCTAssertEqual(r, [1, 1, 1, 1, 1] + [2, 2, 2, 2, 2, 2, 2, 2, 2, 2] + Array(repeating: 3, count: 15) + [6, 4]) }
    }

    /// A rank that never comes ends the wait for it, naming it.
    func testAMissingRankIsNamed() throws {
        let seen = Results<String>(count: 1), timedOut = DispatchSemaphore(value: 0)
        let ranks = try makeRanks(2, capacity: 64, timeout: 0.05) { peer, what in
            seen.set(0, "rank \(peer), \(what)")
            timedOut.signal()
            pthread_exit(nil)
        }
        Thread { _ = ranks[0].exchange([1, 2], everyone: true) { $0[0] } }.start()
        XCTAssertEqual(timedOut.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(seen.values[0], "rank 1, exchange #1")
    }
}

/// Values set by several threads.
final class Results<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [R?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: R) { lock.lock(); slots[i] = value; lock.unlock() }
    var values: [R?] { lock.lock(); defer { lock.unlock() }; return slots }
}
