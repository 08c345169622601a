import Cluster
import Kernels
import XCTest

final class StartupCheckTests: XCTestCase {
    func report(_ host: String, digest: UInt64 = 7, missing: String? = nil) -> StartupCheck.Report {
        StartupCheck.Report(host: host, binary: "/opt/dsa", digest: digest, modelMissing: missing)
    }

    func testAgreeingRanksPass() {
        XCTAssertEqual(StartupCheck.problems([report("a"), report("b"), report("c")]), "")
    }

    func testEachProblemNamesRankHostAndPath() {
        let text = StartupCheck.problems([report("a"), report("b", missing: "/models/x"), report("c", digest: 9), nil])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("rank 1 on host b: no checkpoint at /models/x"))
        XCTAssertTrue(lines[1].hasPrefix("rank 2 on host c runs a different dsa binary (/opt/dsa, digest 9) from the coordinator on a"))
        XCTAssertTrue(lines[2].hasPrefix("rank 3 sent an unreadable startup report"))
    }

    func testReportsTravelAsJSON() throws {
        let original = report("h2", missing: "/m")
        XCTAssertEqual(try JSONDecoder().decode(StartupCheck.Report.self, from: JSONEncoder().encode(original)), original)
    }
}

final class TopologyTests: XCTestCase {
    func testPlanIsOneRankPerNodeWithCPUs() {
        let nodes = [NUMA.Node(id: 0, cpus: Array(0..<8), memory: 1 << 30, free: 0),
                     NUMA.Node(id: 1, cpus: Array(8..<14), memory: 1 << 30, free: 0),
                     NUMA.Node(id: 2, cpus: [], memory: 1 << 30, free: 0)]  // memory only (e.g. CXL)
        let topology = Topology(numa: true, nodes: nodes)
        XCTAssertEqual(topology.ranksPerHost, 2)
        XCTAssertEqual(topology.threadsPerRank, 6)
    }

    func testThisMachineHasAtLeastOneNodeWithItsCPUs() {
        let topology = Topology.current()
        XCTAssertGreaterThanOrEqual(topology.ranksPerHost, 1)
        XCTAssertEqual(Set(topology.computeNodes.flatMap(\.cpus)).isSuperset(of: NUMA.allowedCPUs), true)
    }

    func testPageResidencySplitsMappedFilesFromOtherPages() {
        let text = """
        7f00 default file=/m/model.safetensors mapped=30 N0=20 N1=10 kernelpagesize_kB=4
        7f10 default file=/usr/bin/dsa anon=2 dirty=2 N0=2 kernelpagesize_kB=4
        7f20 default anon=40 dirty=40 N1=40 kernelpagesize_kB=4
        7f30 default stack anon=4 N0=4
        """
        let pages = PageResidency.parse(text)
        XCTAssertEqual(pages.file, [0: 20, 1: 10])
        XCTAssertEqual(pages.anonymous, [0: 6, 1: 40])
        XCTAssertEqual(PageResidency.fraction(pages.file, on: 0)!, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertNil(PageResidency.fraction([:], on: 0))
    }

    func testReadBandwidthOfThisNodeIsMeasured() {
        let node = Topology.current().computeNodes[0].id
        XCTAssertGreaterThan(measureReadBandwidth(cpuNode: node, memoryNode: node, bytes: 64 << 20, runs: 2), 1e8)
    }
}
