import DeepSeek
import ArgumentParser
import Foundation
import Tokenizer

/// Synthetic checkpoints written on first use under `$DSA_HOME/models` (default
/// `~/.cache/swiftdsa/models`): the embedded default model and `dsa bench --preset` models.
enum DefaultModel {
    /// The default model: until a trained one ships, the deterministic `tiny` preset with
    /// DeepSeek's 129280-token vocabulary and tokenizer. `version` changes whenever the
    /// generated weights would.
    static let preset = "tiny", seed: UInt64 = 0, version = 2

    /// The default model's directory, written first if missing.
    static func directory() throws -> String {
        try stored("default-\(preset)-seed\(seed)-v\(version)", preset: preset, overrides: ["vocab_size": 129280], tokenizer: true)
    }

    /// The directory `name` under `$DSA_HOME/models`, written from `preset` if missing: aside
    /// first, then renamed, so concurrent ranks never see half a model.
    static func stored(_ name: String, preset: String, overrides: [String: Any] = [:], tokenizer: Bool = false) throws -> String {
        let dir = storedPath(name)
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir + "/config.json") {
            let staging = "\(dir).partial-\(ProcessInfo.processInfo.processIdentifier)"
            try ModelMaker(preset: try ModelPreset.named(preset), overrides: overrides, seed: seed).write(to: staging)
            if tokenizer { try installTokenizer(into: staging) }
            if (try? fm.moveItem(atPath: staging, toPath: dir)) == nil { try? fm.removeItem(atPath: staging) }
        }
        return dir
    }

    /// Where `stored(name, …)` keeps its model.
    static func storedPath(_ name: String) -> String {
        let home = ProcessInfo.processInfo.environment["DSA_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/swiftdsa")
        return "\(home)/models/\(name)"
    }
}

/// Copies DeepSeek-V3's tokenizer files (shipped with SwiftDSA) into a checkpoint directory.
func installTokenizer(into directory: String) throws {
    guard let source = Tokenizer.bundledDirectory else {
        throw ValidationError("DeepSeek's tokenizer files are not beside this dsa binary (copy the SwiftDSA_Tokenizer.resources folder next to it)")
    }
    for name in ["tokenizer.json", "tokenizer_config.json"] {
        let target = directory + "/" + name
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: target)
    }
}
