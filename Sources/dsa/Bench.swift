import ArgumentParser
import Cluster
import DeepSeek
import Foundation
import Kernels

/// `dsa bench`: prefill, decode and long-context timings with the decode roofline, measured in one
/// run against this machine's own memory bandwidth. Every figure is the median of `--runs`
/// timed runs after one warm-up, with the spread (min–max) beside it.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmark prefill, decode and long-context decode (sparse vs dense).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Benchmark a make-model preset (written once under $DSA_HOME/models) instead of --model.")
    var preset: String?

    @Option(help: "Prompt lengths for prefill, comma-separated (empty: skip).")
    var prefill = "128,512,2048"

    @Option(help: "Batch sizes for decode, comma-separated (empty: skip).")
    var decodeBatch = "1,8,32"

    @Option(help: "Decode steps timed per run.")
    var decodeSteps = 8

    @Option(help: "Contexts for long-context decode steps, comma-separated (empty: skip).")
    var contexts = ""

    @Option(help: "Timed runs per figure (after one warm-up).")
    var runs = 3

    @Flag(help: "Also time one empty parallel loop, FP8 matrix-vector products from memory (1 GB of weights shared by the host's ranks, every rank at once; rank 0's figures), one exchange between ranks and one decode query's attention.")
    var kernels = false

    @Flag(help: "Also time each parallel loop of a batch-1 decode step on the coordinator (the last run): the time before it, its own, the wait for its last tasks, the weights it reads.")
    var loops = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        if let preset {
            var o = options
            o.model = Launch.launcherRank == 0 ? try DefaultModel.stored("preset-\(preset)", preset: preset)
                : DefaultModel.storedPath("preset-\(preset)")
            return try run(o, label: preset)
        }
        try run(options, label: options.model ?? "default model")
    }

    private func run(_ options: ModelOptions, label: String) throws {
        try options.withModel { model in
            let comm = model.comm
            /// Every rank reads at once (with several on a host, they share its memory); the sum.
            func readBandwidth() -> Double {
                comm.barrier()
                return comm.allGather([measureReadBandwidth()]).reduce(0) { $0 + $1[0] }
            }
            var report = BenchReport(model: label, ranks: comm.size, threads: Parallel.threads, transport: (comm as? MPICollectives)?.transport, lmHead: model.lmHeadFormat,
                                     bandwidthReadings: [readBandwidth()])
            if kernels {
                let c = model.config
                report.kernels = KernelBench.measure(bytes: max(64 << 20, (1 << 30) / Launch.ranksOnHost), comm: comm,
                                                     heads: c.numAttentionHeads, latent: c.kvLoraRank, rope: c.qkRopeHeadDim)
                comm.barrier()
            }
            let vocab = model.config.vocabSize
            func prompt(_ n: Int, _ salt: Int) -> [Int] { (0..<n).map { ($0 * 7919 + salt * 104729 + 11) % vocab } }

            for n in list(prefill) {
                let times = try timedWall { _ in
                    let cache = model.makeCache(options: options.inference, capacity: n)
                    Profiler.reset()
                    _ = try model.forward(prompt(n, 1), cache: cache, allLogits: false)
                }
                report.prefill.append((n, times, Profiler.snapshot))
            }
            let weights = model.decodeWeights(sparse: false)
            report.oneProcessBytesPerToken = weights.bytes
            report.decodeBytesPerToken = weights.bytes + (comm.size - 1) * model.replicatedDecodeBytes(sparse: false)
            report.flopsPerToken = 2 * weights.elements
            report.lmHeadFlops = 2 * model.lmHeadElements
            for batch in list(decodeBatch) {
                Profiler.reset()
                var traffic = (sent: 0.0, received: 0.0)
                let times = try timed { run -> Double? in
                    let caches = (0..<batch).map { _ in model.makeCache(options: options.inference, capacity: 64 + decodeSteps) }
                    _ = try model.forward((0..<batch).map { (prompt(64, $0 + run * batch), caches[$0]) }, allLogits: false)
                    Profiler.reset()
                    let logging = self.loops && batch == 1 && run == runs
                    if logging { Profiler.loopRecords = [] }
                    var steps = [UInt64]()  // each step's start, then the last one's end
                    let (start, before) = (Date(), comm.traffic)
                    for step in 0..<decodeSteps {
                        if logging { steps.append(DispatchTime.now().uptimeNanoseconds) }
                        _ = try model.forward(caches.map { ([(step * 31) % vocab], $0) }, allLogits: false)
                    }
                    if logging {
                        report.loopProfile = Profiler.loopProfile(Profiler.loopRecords!, steps: steps + [DispatchTime.now().uptimeNanoseconds])
                        Profiler.loopRecords = nil
                    }
                    let seconds = Date().timeIntervalSince(start), tokens = Double(decodeSteps * batch)
                    traffic = (Double(comm.traffic.sent - before.sent) / tokens, Double(comm.traffic.received - before.received) / tokens)
                    return seconds / Double(decodeSteps)
                }
                let loops = Profiler.loops
                let perRank = comm.allGather((Self.phaseNames.map { Profiler.snapshot[$0] ?? 0 } + [Double(loops.count), loops.seconds, loops.waiting]).map { $0 / Double(decodeSteps) })
                report.decode.append((batch, times, perRank.map { Dictionary(uniqueKeysWithValues: zip(Self.phaseNames, $0)) },
                                      perRank.map { ($0[Self.phaseNames.count], $0[Self.phaseNames.count + 1], $0[Self.phaseNames.count + 2]) }, traffic))
            }
            for context in list(contexts) {
                var row = BenchReport.LongContext(context: context)
                for attention in [InferenceOptions.Attention.sparse, .dense] {
                    var o = options.inference
                    o.attention = attention
                    var phases = [[String: Double]]()
                    let times = try timed { _ -> Double? in
                        let cache = model.makeCache(options: o, capacity: context + 2)
                        cache.fillSynthetic(length: context)
                        Profiler.reset()
                        let start = Date()
                        _ = try model.forward([1], cache: cache, allLogits: false)
                        let seconds = Date().timeIntervalSince(start)
                        phases.append(Profiler.snapshot)
                        return seconds
                    }
                    let attentionTimes = phases.dropFirst().map { ($0["indexer"] ?? 0) + ($0["topk"] ?? 0) + ($0["attention"] ?? 0) }
                    row.set(attention, step: times, attention: attentionTimes, phases: phases.last ?? [:])
                }
                report.longContext.append(row)
            }
            report.traffic = comm.traffic
            report.bandwidthReadings.append(readBandwidth())
            guard comm.isCoordinator else { return }
            print(json ? report.json() : report.text())
        }
    }

    /// Runs `body` once to warm up, then `runs` times; its seconds (returned, or the wall time).
    private func timed(_ body: (Int) throws -> Double?) throws -> [Double] {
        Profiler.enabled = true
        var times = [Double]()
        for run in 0...runs {
            let start = Date()
            let measured = try body(run) ?? Date().timeIntervalSince(start)
            if run > 0 { times.append(measured) }
        }
        return times
    }

    private func timedWall(_ body: (Int) throws -> Void) throws -> [Double] {
        try timed { run -> Double? in try body(run); return nil }
    }

    /// The phases of the per-rank decode breakdown.
    static let phaseNames = ["projections", "attention", "indexer", "topk", "routing", "moe", "mlp", "lm_head", "communication"]

    private func list(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}
