import ArgumentParser
import DeepSeek
import Foundation
import Kernels
import Logging

/// `dsa forward`: teacher-forced logits of every position, written as a `.npy` file.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a teacher-forced forward pass and write float32 logits [T, vocab] to a .npy file.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Comma-separated token ids.")
    var tokens: String

    @Option(help: "Output .npy path (written by rank 0).")
    var out: String

    @Option(help: "Feed the prompt in chunks of this many tokens (default: one chunk).")
    var chunk: Int?

    func validate() throws {
        if let chunk, chunk < 1 { throw ValidationError("--chunk must be at least 1") }
    }

    func run() throws {
        let ids = try parseTokens(tokens)
        let start = Date()
        try options.withModel { model in
            let loaded = Date()
            let cache = model.makeCache(options: options.inference, capacity: options.maxContext ?? ids.count)
            var logits = [Float]()
            var i = 0
            while i < ids.count {
                let n = min(chunk ?? ids.count, ids.count - i)
                logits += try model.forward(Array(ids[i..<(i + n)]), cache: cache)
                i += n
            }
            let done = Date()
            if options.verbose { RankReport.print(model: model, kv: (cache.localPositions, cache.localPositions * cache.bytesPerPosition), tokens: ids.count) }
            guard model.comm.isCoordinator else { return }
            try NPY.write(logits, shape: [ids.count, model.config.vocabSize], to: out)
            Logger(label: "dsa.forward").info("\(ids.count) tokens on \(model.comm.size) rank(s)", metadata: [
                "load_s": "\(String(format: "%.2f", loaded.timeIntervalSince(start)))",
                "compute_s": "\(String(format: "%.2f", done.timeIntervalSince(loaded)))", "out": "\(out)"])
        }
    }
}
