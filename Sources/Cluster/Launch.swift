import Foundation
import Kernels

/// How this process was started: under an MPI launcher (mpirun, srun) or alone.
public enum Launch {
    /// Whether a launcher's environment is present (Open MPI, PMIx/Slurm, MPICH/PMI).
    public static var underMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    /// The communicator of this run: MPI under a launcher, a single rank otherwise.
    public static func collectives(timeout: Double) throws -> Collectives {
        underMPI ? try MPICollectives(timeout: timeout) : SingleRank()
    }
}

/// Facts about this process for the per-rank report.
public enum ProcessStats {
    /// Resident and peak resident memory in bytes (from /proc/self/status).
    public static func memory() -> (resident: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}
