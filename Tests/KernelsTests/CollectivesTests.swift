import Kernels
import XCTest

/// The derived collectives over simulated ranks: every rank sees the same, rank-ordered result.
final class CollectivesTests: XCTestCase {
    func testGatherReduceBroadcastAgreeOnEveryRank() throws {
        let results = try ThreadRanks.run(3) { comm -> [[Float]] in
            let mine = [Float](repeating: Float(comm.rank + 1), count: comm.rank + 1)  // sizes differ by rank
            var out = comm.allGather(mine).map { $0 }
            out.append(comm.allReduceSum([Float(comm.rank), 1]))
            out.append(comm.broadcast(comm.rank == 2 ? [7, 8] : [], root: 2))
            comm.barrier()
            return out
        }
        for r in results { XCTAssertEqual(r, [[1], [2, 2], [3, 3, 3], [3, 3], [7, 8]]) }
    }

    /// A reduce for the coordinator alone: it gets the merge, the other ranks `[]`.
    func testCoordinatorOnlyReduce() throws {
        let results = try ThreadRanks.run(3) { comm -> [Int32] in
            comm.reduce([Int32(comm.rank + 1)], everyone: false) { parts in parts.flatMap { $0 }.map { $0 * 10 } }
        }
        XCTAssertEqual(results, [[10, 20, 30], [], []])
    }

    func testSingleRankPassesThrough() {
        let comm = SingleRank()
        XCTAssertEqual(comm.allReduceSum([1.5, 2]), [1.5, 2])
        XCTAssertEqual(comm.allGather([Int32(4)]), [[4]])
        XCTAssertEqual(comm.traffic.sent, 0)
    }
}
