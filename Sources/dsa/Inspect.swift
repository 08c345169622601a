import ArgumentParser
import Cluster
import DeepSeek
import Foundation

/// `dsa inspect`: what a checkpoint holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Summarise a checkpoint: config, tensors, sizes.")

    @Option(help: "Checkpoint directory (default: the embedded default model).")
    var model: String?

    @Flag(help: "List every tensor.")
    var tensors = false

    @Option(help: "Show how this many ranks would shard the model.")
    var ranks: Int?

    func run() throws {
        guard Launch.launcherRank == 0 else { return }  // under mpirun, rank 0 alone does this
        let ckpt = try Checkpoint(directory: model ?? DefaultModel.directory())
        let c = ckpt.config
        print("model       \(ckpt.directory)")
        print("type        \(c.modelType)\(c.hasIndexer ? " (DSA indexer \(c.indexNHeads!)×\(c.indexHeadDim!), top-\(c.indexTopk!))" : " (dense MLA)")")
        print("layers      \(c.numHiddenLayers) (\(c.firstKDenseReplace) dense), hidden \(c.hiddenSize), vocab \(c.vocabSize)")
        print("attention   \(c.numAttentionHeads) heads, q_lora \(c.qLoraRank.map(String.init) ?? "none"), kv_lora \(c.kvLoraRank), nope \(c.qkNopeHeadDim), rope \(c.qkRopeHeadDim), v \(c.vHeadDim)")
        print("experts     \(c.nRoutedExperts) routed (\(c.numExpertsPerTok) active, \(c.nGroup) groups, top \(c.topkGroup)), \(c.nSharedExperts) shared, inter \(c.moeIntermediateSize)")
        let byType = Dictionary(grouping: ckpt.tensors.values, by: \.dtype)
        let total = ckpt.tensors.values.reduce(0) { $0 + $1.byteCount }
        print("tensors     \(ckpt.tensors.count), \(String(format: "%.2f", Double(total) / 1e9)) GB: "
              + byType.keys.sorted().map { "\($0) \(byType[$0]!.count)" }.joined(separator: ", "))
        if let ranks { try printPlan(ckpt, ranks: ranks) }
        if tensors {
            for t in ckpt.tensors.values.sorted(by: { $0.name < $1.name }) {
                print("  \(t.name)  \(t.dtype) \(t.shape)  \(t.byteCount) B  \((t.file.path as NSString).lastPathComponent)")
            }
        }
    }

    /// Per rank: its experts, the weight bytes it maps and touches, and its share of KV pages.
    func printPlan(_ ckpt: Checkpoint, ranks: Int) throws {
        let c = ckpt.config
        let plans = try (0..<ranks).map { try ShardPlan(rank: $0, ranks: ranks, config: c) }
        let used = ckpt.tensors.values.filter { t in
            guard let layer = t.name.split(separator: ".").dropFirst(2).first.flatMap({ Int($0) }) else { return true }
            return layer < c.numHiddenLayers  // the MTP layers are never read
        }
        func expert(_ name: String) -> Int? {
            guard let r = name.range(of: ".mlp.experts.") else { return nil }
            return Int(name[r.upperBound...].prefix { $0.isNumber })
        }
        func denseRows(_ t: TensorInfo) -> Int? {  // a dense MLP's tensor: the weight rows it covers (split over ranks)
            guard [".mlp.gate_proj.", ".mlp.up_proj.", ".mlp.down_proj."].contains(where: t.name.contains), let rows = t.shape.first else { return nil }
            return t.name.hasSuffix("_scale_inv") ? rows * 128 : rows
        }
        let replicated = used.filter { expert($0.name) == nil && denseRows($0) == nil && $0.name != "lm_head.weight" }.reduce(0) { $0 + $1.byteCount }
        let headRowBytes = (ckpt.tensors["lm_head.weight"]?.byteCount ?? 0) / c.vocabSize
        let cache = KVCache(config: c, options: InferenceOptions(), capacity: 1)
        print("plan        \(ranks) rank(s); experts in contiguous ranges (ranks sharing a NUMA node run each other's); KV pages of \(ShardPlan.pageSize) positions dealt round-robin;")
        print("            replicated weights \(mib(replicated)) MiB per rank (shared experts included: each token's, one by one, run on the least-loaded rank); dense MLPs split by rows, LM head by vocabulary; KV \(cache.bytesPerPosition) B/position (bf16)")
        print("rank  experts      expert MiB  vocabulary rows   total weights MiB  share of KV positions")
        for p in plans {
            let own = used.filter { expert($0.name).map(p.experts.contains) ?? false }.reduce(0) { $0 + $1.byteCount }
            let vocab = p.vocabRows(of: p.rank, vocab: c.vocabSize)
            let dense = used.compactMap { t in denseRows(t).map { t.byteCount * ShardPlan.rowBlocks(of: p.rank, ranks: ranks, count: $0).count / $0 } }.reduce(0, +)
            let total = replicated + own + dense + vocab.count * headRowBytes
            print(String(format: "%4d  %4d..<%-4d  %10.1f  %6d..<%-6d  %17.1f  1/%d (page p on rank p mod %d)", p.rank, p.experts.lowerBound,
                         p.experts.upperBound, Double(own) / 1048576, vocab.lowerBound, vocab.upperBound, Double(total) / 1048576, ranks, ranks))
        }
    }

    private func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1048576) }
}
