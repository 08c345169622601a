import ArgumentParser
import Cluster
import DeepSeek
import Foundation
import Kernels

/// `dsa topology`: this machine's NUMA nodes, cores, memory and measured read bandwidth per node,
/// and the plan the launch scripts use (one rank per NUMA node, bound to it).
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology", abstract: "Show NUMA nodes, cores, memory, read bandwidth per node, and the launch plan.")

    @Flag(inversion: .prefixedNo, help: "Measure each node's read bandwidth (local and, with several nodes, remote).")
    var bandwidth = true

    @Option(help: "MiB read per bandwidth measurement.")
    var bandwidthMib = 1024

    @Option(help: "Check the plan against this checkpoint (every rank must own at least one routed expert).")
    var model: String?

    @Option(help: "Hosts the job will span (the plan multiplies ranks per host by it).")
    var hosts = 1

    @Flag(help: "Print only `ranks_per_host=R threads_per_rank=T` for launch scripts.")
    var plan = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if hosts < 1 { throw ValidationError("--hosts must be at least 1") }
        if bandwidthMib < 16 { throw ValidationError("--bandwidth-mib must be at least 16") }
    }

    func run() throws {
        let topology = Topology.current()
        let ranks = topology.ranksPerHost * hosts
        if let model {
            let config = try Checkpoint(directory: model).config
            _ = try ShardPlan(rank: 0, ranks: ranks, config: config)
        }
        if plan { print("ranks_per_host=\(topology.ranksPerHost) threads_per_rank=\(topology.threadsPerRank)"); return }
        let nodes = topology.computeNodes
        let matrix: [[Double]] = bandwidth
            ? nodes.map { cpu in topology.nodes.filter { $0.memory > 0 }.map {
                measureReadBandwidth(cpuNode: cpu.id, memoryNode: $0.id, bytes: bandwidthMib << 20) } }
            : []
        if json { return print(jsonText(topology, matrix: matrix, ranks: ranks)) }

        print(topology.numa ? "NUMA        \(topology.nodes.count) node(s) (libnuma)"
                            : "NUMA        not available on this machine: one node with every CPU and all the memory")
        print("node  cpus                  memory GiB  free GiB" + (bandwidth ? "  local read GB/s" : ""))
        for node in topology.nodes {
            let local = row(of: node, matrix, topology).flatMap { row in topology.nodes.filter { $0.memory > 0 }.firstIndex(of: node).map { row[$0] } }
            let cpus = Self.ranges(node.cpus) + " (\(node.cpus.count))"
            print(String(format: "%4d  ", node.id) + cpus.padding(toLength: max(20, cpus.count), withPad: " ", startingAt: 0)
                  + String(format: "  %10.1f  %8.1f", Double(node.memory) / 1073741824, Double(node.free) / 1073741824) + (local.map { String(format: "  %15.1f", $0 / 1e9) } ?? ""))
        }
        if matrix.count > 1 {
            print("read GB/s, CPUs of node (row) from memory of node (column):")
            for (i, row) in matrix.enumerated() { print(String(format: "%4d  ", nodes[i].id) + row.map { String(format: "%8.1f", $0 / 1e9) }.joined()) }
        }
        print("plan        \(topology.ranksPerHost) rank(s) per host × \(hosts) host(s) = \(ranks) rank(s), \(topology.threadsPerRank) threads each, "
              + (topology.ranksPerHost > 1 ? "each bound to its NUMA node's cores and memory" : "bound to this host's cores"))
        print("launch      launch/mpirun.sh" + (hosts > 1 ? " --hostfile HOSTS" : "") + " -- generate ...   (picks this plan)")
        if let model { print("model       \(model): \(ranks) rank(s) can split it") }
    }

    /// The bandwidth row of `node` (from its CPUs to each node's memory), if it was measured.
    private func row(of node: NUMA.Node, _ matrix: [[Double]], _ topology: Topology) -> [Double]? {
        topology.computeNodes.firstIndex(of: node).flatMap { $0 < matrix.count ? matrix[$0] : nil }
    }

    /// `0-7,16-23` for a CPU list.
    static func ranges(_ cpus: [Int]) -> String {
        var parts: [String] = [], i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count, cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    private func jsonText(_ topology: Topology, matrix: [[Double]], ranks: Int) -> String {
        let object: [String: Any] = [
            "numa": topology.numa,
            "nodes": topology.nodes.map { node -> [String: Any] in
                var entry: [String: Any] = ["id": node.id, "cpus": node.cpus, "memory_bytes": node.memory, "free_bytes": node.free]
                if let row = row(of: node, matrix, topology) { entry["read_gb_s"] = row.map { $0 / 1e9 } }
                return entry
            },
            "plan": ["ranks_per_host": topology.ranksPerHost, "hosts": hosts, "ranks": ranks, "threads_per_rank": topology.threadsPerRank],
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
