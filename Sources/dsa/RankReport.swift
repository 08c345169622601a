import Cluster
import DeepSeek
import Foundation
import Kernels

/// The per-rank report of `--verbose`: what each rank holds and what it exchanged, and its memory
/// (`Collectives.memoryDomains`: ranks of one memory run each other's experts).
enum RankReport {
    /// Gathers every rank's figures on the coordinator and prints them to stderr: `kv` is what the
    /// rank caches; the coordinator's `tokens` (processed in the run) give the traffic per token.
    static func print(model: Transformer, kv: (positions: Int, bytes: Int), tokens: Int) {
        let comm = model.comm, plan = model.plan, memory = ProcessStats.memory(), traffic = comm.traffic
        let node = NUMA.boundNode, pages = PageResidency.current()
        func local(_ p: [Int: Int]) -> Double { node.flatMap { PageResidency.fraction(p, on: $0) } ?? -1 }
        let mine: [Double] = [Double(plan.experts.lowerBound), Double(plan.experts.upperBound), Double(memory.resident), Double(memory.peak),
                              Double(kv.positions), Double(kv.bytes), Double(traffic.sent), Double(traffic.received),
                              Double(node ?? -1), local(pages.file), local(pages.anonymous)]
        let all = comm.allGather(mine)
        let hosts = String(decoding: comm.exchange(Array((ProcessInfo.processInfo.hostName + "\n").utf8)) { $0.flatMap { $0 } }, as: UTF8.self)
            .split(separator: "\n")
        guard comm.isCoordinator else { return }
        var lines = ["rank  host          experts  memory  resident MiB  peak MiB  KV positions  KV MiB   sent B/token  received B/token  NUMA node  on node: mapped / other pages"]
        func percent(_ x: Double) -> String { x < 0 ? "–" : String(format: "%.0f%%", x * 100) }
        for (r, v) in all.enumerated() {
            lines.append(String(format: "%4d  ", r) + hosts[r].padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "  %3d..<%-3d  %6d  %12.0f  %8.0f  %12.0f  %6.1f  %13.0f  %16.0f", Int(v[0]), Int(v[1]), comm.memoryDomains[r],
                                v[2] / 1048576, v[3] / 1048576, v[4], v[5] / 1048576, v[6] / Double(max(tokens, 1)), v[7] / Double(max(tokens, 1)))
                         + (v[8] < 0 ? "    unbound" : String(format: "  %9d", Int(v[8]))) + "  \(percent(v[9])) / \(percent(v[10]))")
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
