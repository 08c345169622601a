import Cluster
import DeepSeek
import Foundation
import Kernels

/// The per-rank report of `--verbose`: what each rank holds and what it exchanged.
enum RankReport {
    /// Gathers every rank's figures on the coordinator and prints them to stderr. `tokens`
    /// generated since the traffic counters read `trafficStart` give the bytes per token.
    static func print(model: Transformer, cache: KVCache, tokens: Int, trafficStart: (sent: Int, received: Int)) {
        let comm = model.comm, plan = model.plan, memory = ProcessStats.memory(), traffic = comm.traffic
        let mine: [Double] = [Double(plan.experts.lowerBound), Double(plan.experts.upperBound), Double(memory.resident), Double(memory.peak),
                              Double(cache.localPositions), Double(cache.localPositions * cache.bytesPerPosition),
                              Double(traffic.sent - trafficStart.sent) / Double(max(tokens, 1)),
                              Double(traffic.received - trafficStart.received) / Double(max(tokens, 1))]
        let all = comm.allGather(mine)
        guard comm.isCoordinator else { return }
        var lines = ["rank  experts    resident MiB  peak MiB  KV positions  KV MiB   sent B/token  received B/token"]
        for (r, v) in all.enumerated() {
            lines.append(String(format: "%4d  %3d..<%-3d  %12.0f  %8.0f  %12.0f  %6.1f  %13.0f  %16.0f", r, Int(v[0]), Int(v[1]),
                                v[2] / 1048576, v[3] / 1048576, v[4], v[5] / 1048576, v[6], v[7]))
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
