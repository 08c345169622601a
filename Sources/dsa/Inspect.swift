import ArgumentParser
import DeepSeek
import Foundation

/// `dsa inspect`: what a checkpoint holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Summarise a checkpoint: config, tensors, sizes.")

    @Option(help: "Checkpoint directory (default: the embedded default model).")
    var model: String?

    @Flag(help: "List every tensor.")
    var tensors = false

    func run() throws {
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
        if tensors {
            for t in ckpt.tensors.values.sorted(by: { $0.name < $1.name }) {
                print("  \(t.name)  \(t.dtype) \(t.shape)  \(t.byteCount) B  \((t.file.path as NSString).lastPathComponent)")
            }
        }
    }
}
