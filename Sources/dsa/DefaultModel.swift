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
        let fm = FileManager.default
        if !fm.fileExists(atPath: dir + "/config.json") {  // write aside, then rename: concurrent ranks never see half a model
            let staging = "\(dir).partial-\(ProcessInfo.processInfo.processIdentifier)"
            try ModelMaker(preset: try ModelPreset.named(preset), seed: seed).write(to: staging)
            if (try? fm.moveItem(atPath: staging, toPath: dir)) == nil { try? fm.removeItem(atPath: staging) }
        }
        return dir
    }
}
