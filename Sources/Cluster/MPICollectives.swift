import CMPI
import Foundation
import Kernels

/// `Collectives` over MPI. Each exchange gathers every rank's bytes on the coordinator, which
/// combines them and sends the result back (unless only it needs the result); all waits poll with a deadline, so a rank that dies or stops
/// answering ends the job (`MPI_Abort`) with a message naming it instead of hanging. When every
/// rank runs on one host, the exchanges go through shared memory instead (`SharedMemoryRanks`,
/// with the same deadlines; `DSA_SHARED_MEMORY=0` keeps them on MPI).
public final class MPICollectives: Collectives, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Seconds an exchange may wait for another rank before the job is aborted.
    public var timeout: Double { didSet { local?.timeout = timeout } }
    /// Ranks on one host and bound to one NUMA node (or both unbound) share an id.
    public private(set) var memoryDomains: [Int] = []
    private var round = 0
    private var sent = 0, received = 0
    /// The shared-memory transport, when every rank is on this host.
    private var local: SharedMemoryRanks?

    /// Initialises MPI (call once per process).
    public init(timeout: Double) throws {
        var r: Int32 = 0, s: Int32 = 0
        let rc = cmpi_init(&r, &s)
        guard rc == 0 else { throw KernelError("MPI_Init failed: \(MPICollectives.text(rc))") }
        rank = Int(r); size = Int(s); self.timeout = timeout
        let hosts = allGather(Array(hostName.utf8)).map { String(decoding: $0, as: UTF8.self) }  // every rank's host
        let nodes = allGather([Int32(NUMA.boundNode ?? -1)]).map { $0[0] }
        let domains = zip(hosts, nodes).map { "\($0)/\($1)" }
        memoryDomains = domains.map { domains.firstIndex(of: $0)! }
        if size > 1, hosts.allSatisfy({ $0 == hosts[0] }), ProcessInfo.processInfo.environment["DSA_SHARED_MEMORY"] != "0" { local = sharedMemory() }
    }

    /// Slots of at most 8 MB, 32 MB in all, in /dev/shm, for ranks on one host: the coordinator
    /// creates the file, every rank maps it, and it is removed once all have (the mappings stay).
    /// Nil, and exchanges stay on MPI, when any rank cannot map it.
    private func sharedMemory() -> SharedMemoryRanks? {
        let capacity = min(8 << 20, (32 << 20) / (size + 1)) & ~4095
        func map(_ path: String) -> Result<SharedMemoryRanks, Error> {
            Result {
                try SharedMemoryRanks(path: path, rank: rank, size: size, capacity: capacity, timeout: timeout) { [self] peer, what in
                    stoppedAnswering(peer, what)
                }
            }
        }
        var path = "/dev/shm/dsa-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var mapped = rank == 0 ? map(path) : nil
        path = String(decoding: broadcast(Array(path.utf8)), as: UTF8.self)  // once the coordinator has created it
        if rank != 0 { mapped = map(path) }
        let shared = try? mapped?.get()
        let everyone = allGather([UInt8(shared == nil ? 0 : 1)]).allSatisfy { $0 == [1] }  // once every rank has mapped it (or failed)
        if rank == 0, shared != nil { unlink(path) }
        return everyone ? shared : nil
    }

    /// How exchanges travel: "shared memory" or "MPI".
    public var transport: String { local == nil ? "MPI" : "shared memory" }

    public var traffic: (sent: Int, received: Int) {
        let shared = local?.traffic ?? (sent: 0, received: 0)
        return (sent + shared.sent, received + shared.received)
    }

    /// This process's host name as MPI reports it.
    public var hostName: String {
        var buf = [CChar](repeating: 0, count: 256)
        cmpi_processor_name(&buf, 256)
        return String(cString: buf)
    }

    public func exchange<R: BitwiseCopyable>(_ data: UnsafeRawBufferPointer, everyone: Bool, combine: ([UnsafeRawBufferPointer]) -> [R]) -> [R] {
        if let local { return local.exchange(data, everyone: everyone, combine: combine) }
        round += 1
        let tag = Int32(round % 30000 + 1), what = "exchange #\(round)"
        if rank == 0 {
            let parts = (1..<size).map { receive(from: $0, tag: tag, what: what) }
            let result = withBuffers(parts) { combine([data] + $0.map(UnsafeRawBufferPointer.init)) }
            if everyone {
                result.withUnsafeBytes { bytes in
                    let requests = (1..<size).map { send(bytes, to: $0, tag: tag) }
                    for (i, request) in requests.enumerated() { wait(request, peer: i + 1, what: what) }
                }
            }
            return result
        }
        wait(send(data, to: 0, tag: tag), peer: 0, what: what)
        guard everyone else { return [] }
        let bytes = receive(from: 0, tag: tag, what: what)
        return bytes.withUnsafeBytes { array(of: R.self, from: $0) }
    }

    /// Ends MPI after a successful run.
    public func finish() { _ = cmpi_finalize() }

    /// Prints `message` and ends every rank of the job.
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("dsa: rank \(rank) of \(size) (host \(hostName)): \(message)\n".utf8))
        cmpi_abort(1)
        exit(1)
    }

    /// Sends `data`, which must stay valid until the request is waited for.
    private func send(_ data: UnsafeRawBufferPointer, to peer: Int, tag: Int32) -> UnsafeMutableRawPointer? {
        var handle: UnsafeMutableRawPointer?
        let rc = cmpi_isend(data.baseAddress, data.count, Int32(peer), tag, &handle)
        if rc != 0 { abort("sending to rank \(peer) failed: \(MPICollectives.text(rc))") }
        sent += data.count
        return handle
    }

    private func wait(_ request: UnsafeMutableRawPointer?, peer: Int, what: String) {
        var handle = request, done: Int32 = 0
        poll(peer: peer, what: what) {
            let rc = cmpi_test(&handle, &done)
            if rc != 0 { abort("\(what) with rank \(peer) failed: \(MPICollectives.text(rc))") }
            return done != 0
        }
    }

    private func receive(from peer: Int, tag: Int32, what: String) -> [UInt8] {
        var flag: Int32 = 0, length = 0
        poll(peer: peer, what: what) {
            let rc = cmpi_iprobe(Int32(peer), tag, &flag, &length)
            if rc != 0 { abort("\(what) from rank \(peer) failed: \(MPICollectives.text(rc))") }
            return flag != 0
        }
        var buffer = [UInt8](repeating: 0, count: length)
        let rc = buffer.withUnsafeMutableBytes { cmpi_recv($0.baseAddress, length, Int32(peer), tag) }
        if rc != 0 { abort("receiving from rank \(peer) failed: \(MPICollectives.text(rc))") }
        received += length
        return buffer
    }

    /// Polls `ready()` (`waitUntil`); past this rank's `deadline` aborts naming `peer`.
    private func poll(peer: Int, what: String, _ ready: () -> Bool) {
        waitUntil(deadline: deadline(timeout), ready) { stoppedAnswering(peer, what) }
    }

    /// Ends the job: `peer` sent nothing for this rank's `deadline` in `what`.
    private func stoppedAnswering(_ peer: Int, _ what: String) -> Never {
        abort("\(peer == 0 ? "the coordinator (rank 0)" : "rank \(peer)") stopped answering: nothing for \(Int(deadline(timeout))) s in \(what); ending the job")
    }

    static func text(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        cmpi_error_string(code, &buf, 512)
        return String(cString: buf) + " (code \(code))"
    }
}
