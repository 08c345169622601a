import Foundation
import Kernels

/// This machine as the launcher plans for it: its NUMA nodes and the default layout of one rank
/// per node that has CPUs, each with that node's cores as worker threads.
public struct Topology: Sendable {
    public let numa: Bool
    public let nodes: [NUMA.Node]

    public init(numa: Bool, nodes: [NUMA.Node]) { self.numa = numa; self.nodes = nodes }

    public static func current() -> Topology { Topology(numa: NUMA.available, nodes: NUMA.nodes()) }

    /// Nodes with CPUs: one rank each.
    public var computeNodes: [NUMA.Node] { nodes.filter { !$0.cpus.isEmpty } }

    /// Ranks per host in the default plan.
    public var ranksPerHost: Int { max(1, computeNodes.count) }

    /// Worker threads per rank in the default plan (the smallest node's cores).
    public var threadsPerRank: Int { computeNodes.map(\.cpus.count).min() ?? ProcessInfo.processInfo.activeProcessorCount }
}

/// Where a process's resident pages lie, per NUMA node, from /proc/self/numa_maps: file-backed
/// pages (the mapped weights) apart from anonymous ones (KV cache, activations).
public struct PageResidency: Sendable {
    public var file: [Int: Int] = [:], anonymous: [Int: Int] = [:]

    public static func current() -> PageResidency {
        parse((try? String(contentsOfFile: "/proc/self/numa_maps", encoding: .utf8)) ?? "")
    }

    /// Reads the text of a numa_maps file.
    public static func parse(_ text: String) -> PageResidency {
        var result = PageResidency()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            let isFile = fields.contains { $0.hasPrefix("file=") } && !fields.contains { $0.hasPrefix("anon=") }
            for field in fields where field.hasPrefix("N") {
                let parts = field.dropFirst().split(separator: "=")
                guard parts.count == 2, let node = Int(parts[0]), let pages = Int(parts[1]) else { continue }
                if isFile { result.file[node, default: 0] += pages } else { result.anonymous[node, default: 0] += pages }
            }
        }
        return result
    }

    /// The fraction of pages (of `file` or `anonymous`) on `node`; nil when there are none.
    public static func fraction(_ pages: [Int: Int], on node: Int) -> Double? {
        let total = pages.values.reduce(0, +)
        return total == 0 ? nil : Double(pages[node] ?? 0) / Double(total)
    }
}

/// Places this rank on its NUMA node: when the launcher confined it to one node's CPUs, its new
/// pages (KV cache, activations, and the weights it is first to read) go to that node too.
public enum Placement {
    /// The node this rank is bound to, after setting its memory preference; nil when unbound.
    @discardableResult
    public static func bind() -> Int? {
        guard let node = NUMA.boundNode else { return nil }
        if NUMA.nodes().count > 1 { NUMA.prefer(node) }
        return node
    }
}
