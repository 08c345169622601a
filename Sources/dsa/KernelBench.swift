import Dispatch
import Kernels

/// `dsa bench --kernels`: what one parallel loop costs and how fast the FP8 matrix-vector product
/// reads from memory, shape by shape — the limits of the kernels, apart from the model's.
struct KernelBench {
    /// Microseconds of one loop of `emptyLoopTasks` (`Parallel.maxTasks`) empty tasks (the median of 5 rounds).
    var emptyLoopMicroseconds = 0.0, emptyLoopTasks = 0
    /// Per shape: microseconds of one `[rows, cols]` FP8 matrix times one vector, the calls cycling
    /// through `bytes` of weights (the median of 5 rounds).
    var matvec: [(rows: Int, cols: Int, microseconds: Double)] = []

    /// bench-mini's attention projections (1–4 MB), an expert's down and up projections, and a
    /// large matrix.
    static let shapes = [(2048, 512), (8192, 128), (2048, 2048), (2048, 1408), (1408, 2048), (16384, 2048)]

    /// With `bytes` of weights a rank: 1 GB over the ranks on a host is more than its caches hold.
    static func measure(bytes: Int) -> KernelBench {
        var report = KernelBench()
        let tasks = Parallel.maxTasks
        report.emptyLoopTasks = tasks
        report.emptyLoopMicroseconds = medianMicroseconds(calls: 20_000) { Parallel.forRanges(tasks) { _ in } }
        let codes = OwnedBuffer(bytes: bytes)
        Parallel.forRanges(bytes, align: 64) { range in  // first touch by the workers; normal codes of ±[0.0156, 120], as nearly all of a checkpoint's
            for i in range { codes.pointer.storeBytes(of: UInt8(truncatingIfNeeded: i &* 37) & 0xEF | 0x08, toByteOffset: i, as: UInt8.self) }
        }
        for (rows, cols) in shapes {
            let scales = [Float](repeating: 1, count: Matrix.scaleRows(rows) * Matrix.scaleCols(cols))
            let matrices = (0..<(bytes / (rows * cols))).map {
                Matrix(rows: rows, cols: cols, format: .fp8, base: UnsafeRawPointer(codes.pointer + $0 * rows * cols), blockScales: scales, owner: codes)
            }
            let x = [Float](repeating: 0.5, count: cols)
            var next = 0
            let us = medianMicroseconds(calls: matrices.count) {
                _ = linear(x, matrices[next % matrices.count])
                next += 1
            }
            report.matvec.append((rows, cols, us))
        }
        return report
    }

    /// GB/s read by one `[rows, cols]` FP8 product taking `microseconds`.
    static func gigabytesPerSecond(_ m: (rows: Int, cols: Int, microseconds: Double)) -> Double {
        Double(m.rows * m.cols) / (m.microseconds * 1e3)
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
