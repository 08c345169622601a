import ArgumentParser
import Cluster
import DeepSeek
import Foundation
import Kernels

extension InferenceOptions.Attention: ExpressibleByArgument {}
extension InferenceOptions.Indexer: ExpressibleByArgument {}
extension PackedRows.Format: ExpressibleByArgument {}

/// The options of every command that runs the model.
struct ModelOptions: ParsableArguments {
    @Option(help: "Checkpoint directory (Hugging Face layout). Default: the embedded default model.")
    var model: String?

    @Option(help: "sparse (DeepSeek Sparse Attention, the default on V3.2 checkpoints) or dense.")
    var attention: InferenceOptions.Attention = .sparse

    @Option(help: "Lightning indexer numerics: fp8 (DeepSeek's reference quantization) or f32 (exact).")
    var indexer: InferenceOptions.Indexer = .fp8

    @Option(help: "Storage of the cached latents and rope keys: bf16, fp8 or f32.")
    var kvCache: PackedRows.Format = .bf16

    @Flag(name: .customLong("lm-head-fp8"), help: "Re-encode the LM head as FP8 e4m3 with 128×128 block scales at load, like the other weights (as llama.cpp's Q8_0 does): half the bytes per token of a bf16 head, logits no longer the reference's.")
    var lmHeadFP8 = false

    @Option(help: "Worker threads per rank (default: $DSA_THREADS, else the cores divided among this node's ranks).")
    var threads: Int?

    @Option(name: .customLong("prefetch-kb"), help: "KB of the next parallel loops' weights each worker thread fetches into its cache while the rank's main thread works between loops (0: none).")
    var prefetchKB = 1024

    @Option(help: "Positions the KV cache holds (default: prompt + new tokens).")
    var maxContext: Int?

    @Option(help: "Under MPI: seconds to wait for a rank before ending the job.")
    var rankTimeout: Double = 20

    @Flag(help: "Print a per-rank report (experts, memory, KV positions, traffic per token).")
    var verbose = false

    var inference: InferenceOptions { InferenceOptions(attention: attention, indexer: indexer, kvCache: kvCache) }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxContext, maxContext < 1 { throw ValidationError("--max-context must be at least 1") }
        if prefetchKB < 0 { throw ValidationError("--prefetch-kb must be 0 (no prefetch) or more") }
        if !(rankTimeout > 0) { throw ValidationError("--rank-timeout must be positive") }
    }

    /// Runs `body` with this rank's part of the model named by `--model` (or the embedded
    /// default): under mpirun every rank runs it together; alone, one process holds everything.
    /// A rank that fails ends the whole job with its message.
    func withModel(_ body: (Transformer) throws -> Void) throws {
        Parallel.threads = threads ?? Launch.threadsPerRank
        Parallel.prefetchBytes = prefetchKB << 10
        Placement.bind()
        let comm = try Launch.collectives(timeout: 600)  // the first exchange waits for the slowest load
        let mpi = comm as? MPICollectives
        if let mpi, let problems = try StartupCheck.run(comm: comm, host: mpi.hostName, model: model) {
            if comm.isCoordinator { mpi.abort(problems) }
            Thread.sleep(forTimeInterval: 60)  // the coordinator's abort ends this rank
            Foundation.exit(1)
        }
        do {
            if comm.rank != 0 { comm.barrier() }  // the coordinator creates the default model first
            let directory = try model ?? DefaultModel.directory()
            if comm.rank == 0 { comm.barrier() }
            let transformer = try Transformer(directory: directory, comm: comm, lmHeadFP8: lmHeadFP8)
            comm.barrier()
            mpi?.timeout = rankTimeout
            try body(transformer)
            mpi?.finish()
        } catch {
            if let mpi, mpi.size > 1 { mpi.abort("\(error)") }
            throw error
        }
    }
}

/// Parses `1,2,3` into token ids.
func parseTokens(_ text: String) throws -> [Int] {
    let ids = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard ids.allSatisfy({ $0 != nil }) else {
        throw ValidationError("--tokens must be comma-separated integers, e.g. --tokens 1,2,3 (got \"\(text)\")")
    }
    return ids.map { $0! }
}
