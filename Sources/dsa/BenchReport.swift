import DeepSeek
import Kernels
import Foundation

/// What `dsa bench` measured, as a table or as JSON (seconds in, milliseconds and tokens/s out).
struct BenchReport {
    let model: String
    let ranks: Int, threads: Int
    /// How the ranks exchange (MPI, or shared memory on one host); nil on one rank.
    let transport: String?
    let lmHead: WeightFormat
    /// Read bandwidth, bytes/s (all ranks reading at once, summed), measured before and after the
    /// runs: a busy moment lowers a reading, so the roofline takes the best.
    var bandwidthReadings: [Double]
    var bandwidth: Double { bandwidthReadings.max() ?? 0 }
    /// Per prompt length: seconds per run, and the phases of the last run on this rank.
    var prefill: [(tokens: Int, seconds: [Double], phases: [String: Double])] = []
    /// Per batch size: seconds per decode step, each rank's seconds per step by phase and its
    /// parallel loops per step (`Profiler.loops`), and the coordinator's bytes sent and received per
    /// token (the last run's decode steps).
    var decode: [(batch: Int, stepSeconds: [Double], phases: [[String: Double]], loops: [(count: Double, seconds: Double, waiting: Double)],
                  traffic: (sent: Double, received: Double))] = []
    /// Each parallel loop of a batch-1 decode step on this rank (`--loops`): medians of the seconds
    /// before it, in it and waiting for its last tasks, and the bytes of weights it reads.
    var loopProfile: [(gap: Double, seconds: Double, waiting: Double, bytes: Int)] = []
    /// Weights read per decode token by all ranks together, and by one process alone (every rank
    /// reads the attention's weights but its share of `wo`).
    var decodeBytesPerToken = 0, oneProcessBytesPerToken = 0
    var flopsPerToken = 0, lmHeadFlops = 0
    var longContext: [LongContext] = []
    var kernels: KernelBench?
    var traffic: (sent: Int, received: Int) = (0, 0)

    /// FLOPs of an `n`-token prefill: every weight for every token, but the LM head for the last only.
    func prefillFlops(_ n: Int) -> Double { Double(n * (flopsPerToken - lmHeadFlops) + lmHeadFlops) }

    /// One context length: the whole decode step and its attention part, sparse and dense.
    struct LongContext {
        let context: Int
        var sparseStep: [Double] = [], denseStep: [Double] = [], sparseAttention: [Double] = [], denseAttention: [Double] = []
        var sparsePhases: [String: Double] = [:]

        mutating func set(_ attention: InferenceOptions.Attention, step: [Double], attention part: [Double], phases: [String: Double]) {
            if attention == .sparse { sparseStep = step; sparseAttention = part; sparsePhases = phases } else { denseStep = step; denseAttention = part }
        }
    }

    var rooflineTokensPerSecond: Double { bandwidth / Double(max(decodeBytesPerToken, 1)) }
    var decodeTokensPerSecond: Double { decode.first.map { Double($0.batch) / median($0.stepSeconds) } ?? 0 }

    func text() -> String {
        var out = [String(format: "model %@ · %d rank(s) × %d threads%@ · LM head %@ · memory read bandwidth %.1f GB/s (measured: the best of %@ GB/s before and after the runs)",
                          model, ranks, threads, transport.map { ", exchanging through \($0)" } ?? "", lmHead.rawValue, bandwidth / 1e9, bandwidthReadings.map { String(format: "%.1f", $0 / 1e9) }.joined(separator: " and "))]
        for (n, s, phases) in prefill {
            out.append(String(format: "prefill %5d tokens  %8.1f tokens/s  %7.1f GFLOP/s  (median of %d, spread %@)",
                              n, Double(n) / median(s), prefillFlops(n) / median(s) / 1e9, s.count, spread(s)))
            out.append("    ms/prefill: " + phaseList(phases, total: s.last ?? 0))
        }
        let perRanks = ranks == 1 ? "" : String(format: " over %d ranks (%.1f MB on one process: every rank reads the attention's weights but its rows of wo)", ranks, Double(oneProcessBytesPerToken) / 1e6)
        out.append(String(format: "decode reads %.1f MB of weights per token%@ → roofline %.2f tokens/s", Double(decodeBytesPerToken) / 1e6, perRanks, rooflineTokensPerSecond))
        for (b, s, phases, loops, traffic) in decode {
            let tps = Double(b) / median(s)
            out.append(String(format: "decode batch %3d  %8.2f tokens/s  %6.1f ms/step  roofline fraction %.2f  (spread %@)",
                              b, tps, median(s) * 1e3, b == 1 ? tps / rooflineTokensPerSecond : tps / (rooflineTokensPerSecond * Double(b)), spread(s)))
            for (r, p) in phases.enumerated() where ranks > 1 || b == decode.first?.batch {
                out.append("    rank \(r) ms/step: " + phaseList(p, total: s.last ?? 0))
                let l = loops[r], step = s.last ?? 0
                out.append(String(format: "    rank %d main thread: %.0f parallel loops a step, %.2f ms in them (%.2f waiting for their last tasks), %.2f ms outside",
                                  r, l.count, l.seconds * 1e3, l.waiting * 1e3, (step - l.seconds) * 1e3))
            }
            if ranks > 1 { out.append(String(format: "    coordinator per token: sent %.0f B, received %.0f B", traffic.sent, traffic.received)) }
        }
        if !loopProfile.isEmpty {
            out.append("decode batch 1, each parallel loop of a step (medians): µs before it, in it, waiting for its last tasks; the weights it reads")
            for (i, l) in loopProfile.enumerated() {
                out.append(String(format: "  loop %3d  %7.1f  %8.1f  %6.1f  %8.2f MB  %6.1f GB/s", i, l.gap * 1e6, l.seconds * 1e6, l.waiting * 1e6,
                                  Double(l.bytes) / 1e6, Double(l.bytes) / l.seconds / 1e9))
            }
            let bytes = loopProfile.reduce(0) { $0 + $1.bytes }
            out.append(String(format: "  %.2f ms a step between loops, %.2f in them (%.2f for their %.1f MB at the measured bandwidth)",
                              loopProfile.reduce(0) { $0 + $1.gap } * 1e3, loopProfile.reduce(0) { $0 + $1.seconds } * 1e3, Double(bytes) / bandwidth * 1e3, Double(bytes) / 1e6))
        }
        if let kernels {
            out.append(String(format: "kernels: one parallel loop of %d empty tasks %.2f µs; matrix × vector, weights from memory:", kernels.emptyLoopTasks, kernels.emptyLoopMicroseconds))
            for m in kernels.matvec {
                let gbs = KernelBench.gigabytesPerSecond(m)
                out.append(String(format: "  %6d × %-6d %-4@ %8.2f µs  %6.1f GB/s  (%.2f of the bandwidth per rank)", m.rows, m.cols, m.format.rawValue,
                                  m.microseconds, gbs, gbs * 1e9 * Double(ranks) / bandwidth))
            }
            out.append("  one decode query's attention, keys in cache: " + kernels.attention.map { String(format: "%d keys %.1f µs", $0.keys, $0.microseconds) }.joined(separator: ", "))
            if !kernels.exchange.isEmpty {
                out.append("  one exchange, every rank sending and receiving: " + kernels.exchange.map { String(format: "%d KB %.1f µs", $0.bytes >> 10, $0.microseconds) }.joined(separator: ", "))
            }
        }
        if !longContext.isEmpty { out.append("long context (synthetic cache): ms per decode step, and its attention part (indexer + top-k + attention)") }
        for c in longContext {
            out.append(String(format: "  %7d  sparse %9.2f (attention %8.2f: indexer %.2f, top-k %.2f, attend %.2f)  dense %9.2f (attention %8.2f)  step ×%.1f  attention ×%.1f",
                              c.context, median(c.sparseStep) * 1e3, median(c.sparseAttention) * 1e3, (c.sparsePhases["indexer"] ?? 0) * 1e3,
                              (c.sparsePhases["topk"] ?? 0) * 1e3, (c.sparsePhases["attention"] ?? 0) * 1e3, median(c.denseStep) * 1e3,
                              median(c.denseAttention) * 1e3, median(c.denseStep) / median(c.sparseStep), median(c.denseAttention) / median(c.sparseAttention)))
        }
        if ranks > 1 { out.append("coordinator traffic: sent \(traffic.sent) B, received \(traffic.received) B in the whole run") }
        return out.joined(separator: "\n")
    }

    /// The phases in milliseconds, and the rest of `total` seconds as `other`.
    func phaseList(_ phases: [String: Double], total: Double) -> String {
        let other = total - Bench.phaseNames.reduce(0) { $0 + (phases[$1] ?? 0) }
        return (Bench.phaseNames.map { String(format: "%@ %.2f", $0, (phases[$0] ?? 0) * 1e3) } + [String(format: "other %.2f", other * 1e3)]).joined(separator: ", ")
    }

    func json() -> String {
        var object: [String: Any] = [
            "model": model, "ranks": ranks, "threads": threads, "lm_head_format": lmHead.rawValue, "memory_bandwidth_gb_s": bandwidth / 1e9,
            "memory_bandwidth_readings_gb_s": bandwidthReadings.map { $0 / 1e9 },
            "decode_bytes_per_token": decodeBytesPerToken, "decode_bytes_per_token_one_process": oneProcessBytesPerToken,
            "decode_roofline_tokens_per_s": rooflineTokensPerSecond,
            "decode_tokens_per_s": decodeTokensPerSecond, "decode_roofline_fraction": decodeTokensPerSecond / rooflineTokensPerSecond,
            "prefill_tokens_per_s": prefill.last.map { Double($0.tokens) / median($0.seconds) } ?? 0,
            "prefill": prefill.map { ["tokens": $0.tokens, "tokens_per_s": Double($0.tokens) / median($0.seconds),
                                      "gflop_s": prefillFlops($0.tokens) / median($0.seconds) / 1e9, "runs_s": $0.seconds,
                                      "phases_ms_last_run": $0.phases.mapValues { $0 * 1e3 }] },
            "decode": decode.map { ["batch": $0.batch, "tokens_per_s": Double($0.batch) / median($0.stepSeconds), "runs_step_s": $0.stepSeconds,
                                    "phases_ms_per_step": $0.phases.map { $0.mapValues { $0 * 1e3 } },
                                    "parallel_loops_per_step": $0.loops.map { ["loops": $0.count, "in_loops_ms": $0.seconds * 1e3, "waiting_ms": $0.waiting * 1e3] },
                                    "coordinator_bytes_sent_per_token": $0.traffic.sent, "coordinator_bytes_received_per_token": $0.traffic.received] },
            "long_context": longContext.map { ["context": $0.context, "sparse_step_ms": median($0.sparseStep) * 1e3, "dense_step_ms": median($0.denseStep) * 1e3,
                                               "sparse_attention_ms": median($0.sparseAttention) * 1e3, "dense_attention_ms": median($0.denseAttention) * 1e3,
                                               "synthetic_cache": true] },
        ]
        if let kernels {
            object["kernels"] = ["empty_loop_us": kernels.emptyLoopMicroseconds, "empty_loop_tasks": kernels.emptyLoopTasks,
                                 "matvec": kernels.matvec.map { ["rows": $0.rows, "cols": $0.cols, "format": $0.format.rawValue, "us": $0.microseconds,
                                                                 "gb_s": KernelBench.gigabytesPerSecond($0)] },
                                 "exchange": kernels.exchange.map { ["bytes": $0.bytes, "us": $0.microseconds] },
                                 "attention": kernels.attention.map { ["keys": $0.keys, "us": $0.microseconds] }]
        }
        if !loopProfile.isEmpty {
            object["decode_loops"] = loopProfile.map { ["gap_us": $0.gap * 1e6, "us": $0.seconds * 1e6, "waiting_us": $0.waiting * 1e6, "bytes": $0.bytes] }
        }
        if let transport { object["transport"] = transport }
        if ranks > 1 { object["coordinator_bytes_sent"] = traffic.sent; object["coordinator_bytes_received"] = traffic.received }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

func median(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return .nan }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func spread(_ v: [Double]) -> String {
    guard let lo = v.min(), let hi = v.max(), median(v) > 0 else { return "–" }
    return String(format: "±%.0f%%", (hi - lo) / 2 / median(v) * 100)
}
