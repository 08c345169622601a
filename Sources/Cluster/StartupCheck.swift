import Foundation
import Kernels

/// The first exchange of a job, before any rank loads weights: every rank reports its host, its
/// dsa binary's digest and whether it sees the checkpoint, and the coordinator refuses a job
/// whose ranks run different builds or miss the model, naming the rank, host and path.
public enum StartupCheck {
    /// What one rank tells the coordinator.
    public struct Report: Codable, Equatable, Sendable {
        public let host: String, binary: String, digest: UInt64
        /// The checkpoint directory this rank cannot see, if any.
        public let modelMissing: String?

        public init(host: String, binary: String, digest: UInt64, modelMissing: String?) {
            self.host = host; self.binary = binary; self.digest = digest; self.modelMissing = modelMissing
        }
    }

    /// The coordinator's verdict, the same on every rank: nil when the job may go on, else one
    /// line per problem. `model` is the checkpoint directory every rank will read, nil for the
    /// default model (made on each host that lacks it).
    public static func run(comm: Collectives, host: String, model: String?) throws -> String? {
        guard comm.size > 1 else { return nil }
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let digest = (try? MappedFile(path: binary).digest) ?? 0
        let missing = model.flatMap { FileManager.default.fileExists(atPath: $0 + "/config.json") ? nil : $0 }
        let mine = try JSONEncoder().encode(Report(host: host, binary: binary, digest: digest, modelMissing: missing))
        let verdict = comm.exchange(Array(mine)) { parts in Array(problems(parts.map { try? JSONDecoder().decode(Report.self, from: Data($0)) }).utf8) }
        return verdict.isEmpty ? nil : String(decoding: verdict, as: UTF8.self)
    }

    /// One line per problem, or "" when the ranks agree.
    public static func problems(_ reports: [Report?]) -> String {
        guard let first = reports.first, let coordinator = first else { return "the coordinator's startup report is unreadable" }
        var lines: [String] = []
        for (rank, report) in reports.enumerated() {
            guard let report else {
                lines.append("rank \(rank) sent an unreadable startup report: it runs a different dsa build; install the same build on every node")
                continue
            }
            if let path = report.modelMissing {
                lines.append("rank \(rank) on host \(report.host): no checkpoint at \(path) (config.json missing); put the model at this path on every node or on a shared filesystem")
            }
            if report.digest != coordinator.digest {
                lines.append("rank \(rank) on host \(report.host) runs a different dsa binary (\(report.binary), digest \(hex(report.digest))) "
                             + "from the coordinator on \(coordinator.host) (\(coordinator.binary), digest \(hex(coordinator.digest))); install the same build on every node")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }
}
