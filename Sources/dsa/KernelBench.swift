import Dispatch
import Kernels

/// `dsa bench --kernels`: what one parallel loop and one exchange between ranks cost, and how fast
/// the FP8 matrix-vector product reads from memory, shape by shape, against bf16 at the same bytes —
/// the limits of the kernels and the transport, apart from the model's.
struct KernelBench {
    /// Microseconds of one loop of `emptyLoopTasks` (`Parallel.maxTasks`) empty tasks (the median of 5 rounds).
    var emptyLoopMicroseconds = 0.0, emptyLoopTasks = 0
    /// Per shape: microseconds of one `[rows, cols]` matrix times one vector, the calls cycling
    /// through `bytes` of weights (the median of 5 rounds).
    var matvec: [(rows: Int, cols: Int, format: WeightFormat, microseconds: Double)] = []
    /// Per size (with two or more ranks): microseconds of one exchange in which every rank sends
    /// `bytes` and gets `bytes` back from the coordinator, as the MoE's merge does (the median of 5 rounds).
    var exchange: [(bytes: Int, microseconds: Double)] = []
    /// Per key count: microseconds of one decode query's latent attention (`latentAttention`) over
    /// that many cached keys with the model's heads and widths, keys and queries in cache (the median of 5 rounds).
    var attention: [(keys: Int, microseconds: Double)] = []

    /// bench-mini's attention projections (1–4 MB), an expert's down and up projections, a large
    /// matrix, and bf16 rows of the same 32 MB (the LM head's format).
    static let shapes: [(Int, Int, WeightFormat)] = [(2048, 512, .fp8), (8192, 128, .fp8), (2048, 2048, .fp8), (2048, 1408, .fp8),
                                                     (1408, 2048, .fp8), (16384, 2048, .fp8), (8192, 2048, .bf16)]

    /// Exchanged sizes: empty (the latency), a hidden state, one layer's attention partials in bench-mini, a bf16 LM head's half.
    static let exchangeSizes = [0, 8 << 10, 64 << 10, 256 << 10]

    /// Attended key counts: a short context (bench-mini's decode runs) and DSA's top-k selection.
    static let attentionKeys = [80, 2048]

    /// With `bytes` of weights a rank: 1 GB over the ranks on a host is more than its caches hold;
    /// attention with the model's `heads`, `latent` and `rope` widths.
    static func measure(bytes: Int, comm: Collectives, heads: Int, latent: Int, rope: Int) -> KernelBench {
        var report = KernelBench()
        let tasks = Parallel.maxTasks
        report.emptyLoopTasks = tasks
        report.emptyLoopMicroseconds = medianMicroseconds(calls: 20_000) { Parallel.forRanges(tasks) { _ in } }
        if comm.size > 1 {
            report.exchange = exchangeSizes.map { size in
                let data = [UInt8](repeating: 1, count: size)
                return (size, medianMicroseconds(calls: 500) { _ = comm.reduce(data) { $0[0].values } })
            }
        }
        report.attention = attentionKeys.map { n in
            let values = { (count: Int) in (0..<count).map { Float(($0 * 37) % 101) / 101 - 0.5 } }
            let qLatent = values(heads * latent), qRope = values(heads * rope), keys = values(n * (latent + rope))
            return (n, keys.withUnsafeBufferPointer { k in
                medianMicroseconds(calls: 100) { _ = latentAttention(qLatent: qLatent, qRope: qRope, keys: k, count: n, heads: heads, latent: latent, rope: rope, scale: 0.1) }
            })
        }
        let codes = OwnedBuffer(bytes: bytes)
        Parallel.forRanges(bytes, align: 64) { range in  // first touch by the workers; normal FP8 codes of ±[0.0156, 120], as nearly all of a checkpoint's (finite bf16)
            for i in range { codes.pointer.storeBytes(of: UInt8(truncatingIfNeeded: i &* 37) & 0xEF | 0x08, toByteOffset: i, as: UInt8.self) }
        }
        for (rows, cols, format) in shapes {
            let scales = [Float](repeating: 1, count: format == .fp8 ? Matrix.scaleRows(rows) * Matrix.scaleCols(cols) : 0)
            let size = rows * cols * format.elementSize
            let matrices = (0..<(bytes / size)).map {
                Matrix(rows: rows, cols: cols, format: format, base: UnsafeRawPointer(codes.pointer + $0 * size), blockScales: scales, owner: codes)
            }
            let x = [Float](repeating: 0.5, count: cols)
            var next = 0
            let us = medianMicroseconds(calls: matrices.count) {
                _ = linear(x, matrices[next % matrices.count])
                next += 1
            }
            report.matvec.append((rows, cols, format, us))
        }
        return report
    }

    /// GB/s read by one `[rows, cols]` product taking `microseconds`.
    static func gigabytesPerSecond(_ m: (rows: Int, cols: Int, format: WeightFormat, microseconds: Double)) -> Double {
        Double(m.rows * m.cols * m.format.elementSize) / (m.microseconds * 1e3)
    }

    /// The median over 5 rounds (after one) of the mean time of `calls` calls of `body`, in µs.
    private static func medianMicroseconds(calls: Int, _ body: () -> Void) -> Double {
        var rounds = [Double]()
        for round in 0...5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { body() }
            if round > 0 { rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(calls)) }
        }
        return median(rounds)
    }
}
