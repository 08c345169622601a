import Foundation
import Kernels

/// How this process was started: under an MPI launcher (mpirun, srun) or alone.
public enum Launch {
    /// Whether a launcher's environment is present (Open MPI, PMIx/Slurm, MPICH/PMI).
    public static var underMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    /// This process's rank as the launcher announced it (0 when alone), before MPI starts.
    public static var launcherRank: Int {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"].lazy.compactMap { env[$0].flatMap(Int.init) }.first ?? 0
    }

    /// Worker threads for this rank: `$DSA_THREADS` if set, else the cores the launcher bound it
    /// to, else this host's cores shared by the ranks the launcher started on it.
    public static var threadsPerRank: Int {
        let env = ProcessInfo.processInfo.environment
        if let n = env["DSA_THREADS"].flatMap(Int.init), n > 0 { return n }
        let allowed = NUMA.allowedCPUs.count
        if allowed > 0, allowed < ProcessInfo.processInfo.processorCount { return allowed }
        return max(1, ProcessInfo.processInfo.activeProcessorCount / ranksOnHost)
    }

    /// The ranks the launcher started on this host (1 when alone).
    public static var ranksOnHost: Int {
        let env = ProcessInfo.processInfo.environment
        return max(1, ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"].lazy.compactMap { env[$0].flatMap(Int.init) }.first ?? 1)
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
