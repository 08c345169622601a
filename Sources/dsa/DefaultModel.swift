import DeepSeek
import Foundation

/// The embedded default model: until a trained one ships, the deterministic `tiny` synthetic
/// checkpoint, written on first use under `$DSA_HOME` (default `~/.cache/swiftdsa`).
enum DefaultModel {
    static let preset = "tiny", seed: UInt64 = 0

    static func directory() throws -> String {
        let home = ProcessInfo.processInfo.environment["DSA_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/swiftdsa")
        let dir = "\(home)/models/default-\(preset)-seed\(seed)"
        if !FileManager.default.fileExists(atPath: dir + "/config.json") {
            try ModelMaker(preset: try ModelPreset.named(preset), seed: seed).write(to: dir)
        }
        return dir
    }
}
