import CNUMA
import Foundation

/// The machine's NUMA nodes, through libnuma. Where NUMA is absent (no kernel support, or a
/// container without it) there is one node holding every CPU and all the memory.
public enum NUMA {
    public struct Node: Sendable, Equatable {
        public let id: Int
        public let cpus: [Int]
        /// Bytes of memory on the node, and how many are free.
        public let memory: Int, free: Int

        public init(id: Int, cpus: [Int], memory: Int, free: Int) { self.id = id; self.cpus = cpus; self.memory = memory; self.free = free }
    }

    /// Whether the kernel supports NUMA policies (false: one pseudo node).
    public static var available: Bool { cnuma_available() != 0 }

    /// The nodes that have CPUs or memory, in order.
    public static func nodes() -> [Node] {
        guard available else {
            let (total, free) = meminfo()
            return [Node(id: 0, cpus: Array(0..<ProcessInfo.processInfo.processorCount), memory: total, free: free)]
        }
        return (0...Int(cnuma_max_node())).compactMap { id in
            let cpus = cpuList { cnuma_node_cpus(Int32(id), $0, $1) }
            var free: Int64 = 0
            let total = cnuma_node_memory(Int32(id), &free)
            guard !cpus.isEmpty || total > 0 else { return nil }
            return Node(id: id, cpus: cpus, memory: Int(max(total, 0)), free: Int(max(free, 0)))
        }
    }

    /// The CPUs this process may run on: all of them, or what its launcher bound it to.
    public static var allowedCPUs: [Int] { cpuList { cnuma_allowed_cpus($0, $1) } }

    /// The node this process is confined to (its allowed CPUs all lie in it), if any.
    public static var boundNode: Int? {
        guard available else { return nil }
        let nodes = Set(allowedCPUs.map { Int(cnuma_node_of_cpu(Int32($0))) })
        return nodes.count == 1 ? nodes.first.flatMap { $0 >= 0 ? $0 : nil } : nil
    }

    /// New pages of this thread and of the threads it starts go to `node` first (while it has room).
    public static func prefer(_ node: Int) { cnuma_prefer(Int32(node)) }

    /// Runs `body(i)` for `i` in 0..<count on `count` fresh threads confined to the CPUs of `node`,
    /// and waits for them.
    public static func onThreads(of node: Int, count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                _ = cnuma_run_on_node(Int32(node))
                body(i)
                group.leave()
            }
            thread.start()
        }
        group.wait()
    }

    private static func cpuList(_ fill: (UnsafeMutablePointer<Int32>, Int32) -> Int32) -> [Int] {
        var cpus = [Int32](repeating: 0, count: 8192)
        let n = cpus.withUnsafeMutableBufferPointer { fill($0.baseAddress!, Int32($0.count)) }
        return cpus.prefix(Int(max(n, 0))).map(Int.init)
    }

    /// MemTotal and MemAvailable from /proc/meminfo, in bytes.
    private static func meminfo() -> (Int, Int) {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("MemTotal"), field("MemAvailable"))
    }
}
