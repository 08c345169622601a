import ArgumentParser
import Cluster
import DeepSeek
import Foundation

/// `dsa make-model`: a random-weight checkpoint in the exact Hugging Face layout.
struct MakeModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-model",
        abstract: "Write a random-weight DeepSeek checkpoint (FP8 + scales, Hugging Face layout).")

    @Option(help: "Shape preset: \(ModelPreset.names.joined(separator: ", ")).")
    var preset: String

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "v32 (with the DSA indexer) or v3 (dense MLA, no indexer).")
    var arch: String = "v32"

    @Option(help: "Number of safetensors shards (default: by size, up to 2 GiB each).")
    var shards: Int = 0

    @Option(name: .customLong("set"), help: "Override a config.json field, e.g. --set hidden_size=200 (repeatable).")
    var overrides: [String] = []

    func run() throws {
        guard Launch.launcherRank == 0 else { return }  // under mpirun, rank 0 alone does this
        guard ["v32", "v3"].contains(arch) else { throw ValidationError("--arch must be v32 or v3") }
        var fields = [String: Any]()
        for o in overrides {
            let parts = o.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--set expects FIELD=VALUE, got \"\(o)\"") }
            fields[parts[0]] = (try? JSONSerialization.jsonObject(with: Data(parts[1].utf8), options: .fragmentsAllowed)) ?? parts[1]
        }
        if arch == "v3" { fields["model_type"] = "deepseek_v3" }
        let maker = try ModelMaker(preset: try ModelPreset.named(preset), overrides: fields, seed: seed)
        let start = Date()
        try maker.write(to: out, shards: shards)
        if maker.config.vocabSize == 129280 { try installTokenizer(into: out) }  // DeepSeek's vocabulary: its tokenizer too
        print(String(format: "wrote %@ (%@, %d layers, hidden %d, %d experts) in %.1f s", out, preset,
                     maker.config.numHiddenLayers, maker.config.hiddenSize, maker.config.nRoutedExperts, Date().timeIntervalSince(start)))
    }
}
