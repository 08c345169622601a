import CPrefetch
import Foundation

/// The communication the model needs between ranks. One primitive — every rank contributes
/// bytes, every rank receives one combination of all contributions (in rank order) — from which
/// the rest derive. The combination is deterministic, so all ranks hold bit-identical results;
/// over MPI the coordinator computes it once and sends only the result back (or keeps it, where
/// only the coordinator needs it). Model code calls these at named points and never calls MPI directly.
public protocol Collectives: AnyObject, Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// `combine(every rank's bytes, in rank order)`, on every rank, or with `everyone` false on the
    /// coordinator alone (the other ranks get `[]`). The parts are valid only while `combine` runs
    /// (a transport may hand over the memory it received them in), and `data` only during the call.
    func exchange<R: BitwiseCopyable>(_ data: UnsafeRawBufferPointer, everyone: Bool, combine: ([UnsafeRawBufferPointer]) -> [R]) -> [R]
    /// Bytes this rank has sent and received so far.
    var traffic: (sent: Int, received: Int) { get }
    /// Per rank, an id that the ranks sharing one memory (one host's NUMA node) have in common:
    /// they read the same mapped pages, so any of them can run weights another holds.
    var memoryDomains: [Int] { get }
}

extension Collectives {
    /// By default every rank its own memory.
    public var memoryDomains: [Int] { Array(0..<size) }

    /// Whether this rank is the coordinator (rank 0).
    public var isCoordinator: Bool { rank == 0 }

    /// Seconds this rank waits for another before giving up, given the job's `timeout`: other ranks
    /// wait 5 s longer for the coordinator than it waits for them, so that when a rank is lost the
    /// coordinator, which knows which one, reports it first.
    public func deadline(_ timeout: Double) -> Double { isCoordinator ? timeout : timeout + 5 }

    /// `combine(every rank's data, in rank order)` on every rank, or with `everyone` false on the
    /// coordinator alone: `exchange` with arrays, for what is not on a hot path.
    public func exchange(_ data: [UInt8], everyone: Bool = true, combine: ([[UInt8]]) -> [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { raw in exchange(raw, everyone: everyone) { parts in combine(parts.map { Array($0) }) } }
    }

    /// `merge(every rank's values, in rank order)`, on every rank, or with `everyone` false on the
    /// coordinator alone (the other ranks get `[]`). `merge` reads the parts where they arrived
    /// (valid only while it runs), so a reduce copies each part at most once on its way.
    public func reduce<T: BitwiseCopyable, R: BitwiseCopyable>(_ values: [T], everyone: Bool = true, _ merge: ([Part<T>]) -> [R]) -> [R] {
        if size == 1 { return values.withUnsafeBufferPointer { merge([Part($0)]) } }
        return Profiler.measure("communication") {
            values.withUnsafeBytes { raw in exchange(raw, everyone: everyone) { parts in merge(parts.map { Part($0.bindMemory(to: T.self)) }) } }
        }
    }

    /// Every rank's values, in rank order.
    public func allGather<T: BitwiseCopyable>(_ values: [T]) -> [[T]] {
        let packed: [UInt8] = values.withUnsafeBytes { raw in
            exchange(raw, everyone: true) { parts in bytes(parts.map { UInt64($0.count) }) + parts.flatMap { $0 } }
        }
        var offset = size * 8
        return (0..<size).map { r in
            let n = Int(packed.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: r * 8, as: UInt64.self) })
            defer { offset += n }
            return packed.withUnsafeBytes { array(of: T.self, from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        }
    }

    /// The element-wise sum over ranks, added in rank order.
    public func allReduceSum<T: BitwiseCopyable & AdditiveArithmetic>(_ values: [T]) -> [T] {
        reduce(values) { parts in
            var sum = parts[0].values
            for p in parts.dropFirst() { for i in sum.indices { sum[i] += p[i] } }
            return sum
        }
    }

    /// `values` of rank `root`, on every rank (other ranks' arguments are ignored).
    public func broadcast<T: BitwiseCopyable>(_ values: [T], root: Int = 0) -> [T] {
        reduce(rank == root ? values : []) { $0[root].values }
    }

    /// Waits until every rank gets here.
    public func barrier() { _ = exchange([UInt8]()) { _ in [] } }
}

/// One rank's values in a reduce, read where they arrived: valid only while the merge runs.
@frozen
public struct Part<T>: RandomAccessCollection {
    @usableFromInline let buffer: UnsafeBufferPointer<T>
    @inlinable public init(_ buffer: UnsafeBufferPointer<T>) { self.buffer = buffer }
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { buffer.count }
    @inlinable public subscript(i: Int) -> T { buffer[i] }
}

extension Part where T: BitwiseCopyable {
    /// The values, copied out in one block (`Array(part)` copies element by element, slowly where
    /// the element type is not known at compile time).
    public var values: [T] { array(of: T.self, from: UnsafeRawBufferPointer(buffer)) }
}

/// `body` of each array's elements, in place.
public func withBuffers<T, R>(_ arrays: [[T]], _ body: ([UnsafeBufferPointer<T>]) -> R) -> R {
    var buffers = [UnsafeBufferPointer<T>]()
    func next(_ i: Int) -> R {
        guard i < arrays.count else { return body(buffers) }
        return arrays[i].withUnsafeBufferPointer { buffers.append($0); return next(i + 1) }
    }
    return next(0)
}

private func bytes<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
/// `bytes` as values of `T` (copied: raw bytes may not be aligned for `T`).
public func array<T: BitwiseCopyable>(of _: T.Type, from bytes: UnsafeRawBufferPointer) -> [T] {
    [T](unsafeUninitializedCapacity: bytes.count / MemoryLayout<T>.stride) { buf, n in
        n = bytes.count / MemoryLayout<T>.stride
        UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<(n * MemoryLayout<T>.stride)]))
    }
}

/// One process, no communication: the single-node fallback.
public final class SingleRank: Collectives {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func exchange<R: BitwiseCopyable>(_ data: UnsafeRawBufferPointer, everyone: Bool, combine: ([UnsafeRawBufferPointer]) -> [R]) -> [R] { combine([data]) }
    public var traffic: (sent: Int, received: Int) { (0, 0) }
}

/// `size` ranks as threads of one process, for tests: each thread gets its own `ThreadRanks`
/// (`ThreadRanks.group(size)`) and they meet in shared rounds. They share one memory unless
/// `memoryDomains` says otherwise (as ranks on several hosts would).
public final class ThreadRanks: Collectives, @unchecked Sendable {
    final class Round: @unchecked Sendable {
        let size: Int
        let lock = NSCondition()
        var slots: [[UInt8]?]
        var generation = 0, readers = 0
        init(size: Int) { self.size = size; slots = Array(repeating: nil, count: size) }
    }

    public let rank: Int
    public let size: Int
    public let memoryDomains: [Int]
    let round: Round
    var sent = 0, received = 0

    init(rank: Int, round: Round, memoryDomains: [Int]) {
        self.rank = rank; self.size = round.size; self.round = round; self.memoryDomains = memoryDomains
    }

    /// The communicators of `size` threaded ranks, one per rank.
    public static func group(_ size: Int, memoryDomains: [Int]? = nil) -> [ThreadRanks] {
        let round = Round(size: size), domains = memoryDomains ?? Array(repeating: 0, count: size)
        precondition(domains.count == size)
        return (0..<size).map { ThreadRanks(rank: $0, round: round, memoryDomains: domains) }
    }

    /// Runs `body(communicator)` on `size` threads at once and returns their results in rank order.
    public static func run<R>(_ size: Int, memoryDomains: [Int]? = nil, _ body: @escaping @Sendable (ThreadRanks) throws -> R) throws -> [R] {
        let ranks = group(size, memoryDomains: memoryDomains)
        let results = ResultBox<R>(count: size)
        let threads = ranks.map { comm in
            Thread { results.set(comm.rank, Result { try body(comm) }) }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        return try results.wait().map { try $0.get() }
    }

    public var traffic: (sent: Int, received: Int) { (sent, received) }

    public func exchange<R: BitwiseCopyable>(_ data: UnsafeRawBufferPointer, everyone: Bool, combine: ([UnsafeRawBufferPointer]) -> [R]) -> [R] {
        let all = gather(Array(data))
        sent += data.count
        received += all.enumerated().filter { $0.offset != rank }.reduce(0) { $0 + $1.element.count }
        return everyone || rank == 0 ? withBuffers(all) { combine($0.map(UnsafeRawBufferPointer.init)) } : []
    }

    /// Every rank's data, in rank order, on every rank.
    private func gather(_ data: [UInt8]) -> [[UInt8]] {
        let r = round
        r.lock.lock(); defer { r.lock.unlock() }
        while r.slots[rank] != nil { r.lock.wait() }  // the previous round is still being read
        r.slots[rank] = data
        let generation = r.generation
        if r.slots.allSatisfy({ $0 != nil }) { r.generation += 1; r.lock.broadcast() }
        while r.generation == generation { r.lock.wait() }
        let all = r.slots.map { $0! }
        r.readers += 1
        if r.readers == size {
            r.readers = 0
            r.slots = Array(repeating: nil, count: size)
            r.lock.broadcast()
        }
        return all
    }
}

/// Results of threads, collected for `ThreadRanks.run`.
final class ResultBox<R>: @unchecked Sendable {
    let lock = NSCondition()
    var results: [Result<R, Error>?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<R, Error>) { lock.lock(); results[i] = r; lock.broadcast(); lock.unlock() }
    func wait() -> [Result<R, Error>] {
        lock.lock(); defer { lock.unlock() }
        while results.contains(where: { $0 == nil }) { lock.wait() }
        return results.map { $0! }
    }
}

/// Polls `ready()` until it holds: `spins` polls with the spin-wait hint, then yielding the core
/// between polls for the first 2 ms (a decode step makes dozens of exchanges, each of which a 50 µs
/// sleep would delay), then sleeping 50 µs between polls; past `seconds` calls `timedOut()`.
public func waitUntil(spinning spins: Int = 0, deadline seconds: Double, _ ready: () -> Bool, timedOut: () -> Never) {
    let start = DispatchTime.now().uptimeNanoseconds
    var polls = 0, sleeping = false
    while !ready() {
        polls += 1
        if polls <= spins { cpu_relax(); continue }
        if sleeping { usleep(50) } else { sched_yield() }
        guard polls % 64 == 0 else { continue }
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        sleeping = waited > 0.002
        if waited > seconds { timedOut() }
    }
}
