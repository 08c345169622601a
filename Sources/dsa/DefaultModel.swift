import DeepSeek
import ArgumentParser
import Foundation
import Tokenizer

/// The embedded default model: until a trained one ships, the deterministic `tiny` synthetic
/// checkpoint with DeepSeek's 129280-token vocabulary and tokenizer, written on first use under
/// `$DSA_HOME` (default `~/.cache/swiftdsa`).
enum DefaultModel {
    /// `version` changes whenever the generated weights would.
    static let preset = "tiny", seed: UInt64 = 0, version = 2

    /// The default model's directory, written first if missing.
    static func directory() throws -> String {
        let home = ProcessInfo.processInfo.environment["DSA_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/swiftdsa")
        let dir = "\(home)/models/default-\(preset)-seed\(seed)-v\(version)"
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir + "/config.json") {  // write aside, then rename: concurrent ranks never see half a model
            let staging = "\(dir).partial-\(ProcessInfo.processInfo.processIdentifier)"
            try ModelMaker(preset: try ModelPreset.named(preset), overrides: ["vocab_size": 129280], seed: seed).write(to: staging)
            try installTokenizer(into: staging)
            if (try? fm.moveItem(atPath: staging, toPath: dir)) == nil { try? fm.removeItem(atPath: staging) }
        }
        return dir
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
