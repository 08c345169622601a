import Foundation

/// The ids of recently encoded pre-token words (up to 255 bytes, as `tokenizers` caches),
/// shared by all encoding calls behind a lock.
final class WordCache: @unchecked Sendable {
    /// The longest word that is cached.
    static let maxWordBytes = 255
    /// Cached words; the cache empties when it is full.
    static let capacity = 1 << 17

    /// A word of up to 32 bytes packed into four words, zero padded.
    private struct ShortKey: Hashable {
        var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count: Int

        init(_ word: UnsafeBufferPointer<UInt8>) {
            count = word.count
            withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(word)) }
        }

        static func == (a: ShortKey, b: ShortKey) -> Bool {
            a.bytes.0 == b.bytes.0 && a.bytes.1 == b.bytes.1 && a.bytes.2 == b.bytes.2 && a.bytes.3 == b.bytes.3
                && a.count == b.count
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine((bytes.0 ^ bytes.1 &* 31 ^ bytes.2 &* 961 ^ bytes.3 &* 29791) &+ UInt64(count))
        }
    }

    private struct State {
        var short: [ShortKey: Range<Int>] = [:]
        var long: [[UInt8]: Range<Int>] = [:]
        var ids: [Int] = []
    }

    private let lock = NSLock()
    /// Behind a pointer, so that the lock alone guards it (no per-access exclusivity checks).
    private let state: UnsafeMutablePointer<State>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Appends the cached ids of `word` to `ids`; false if they are not cached.
    func append(idsOf word: UnsafeBufferPointer<UInt8>, to ids: inout [Int]) -> Bool {
        guard word.count <= WordCache.maxWordBytes else { return false }
        lock.lock()
        defer { lock.unlock() }
        let range = word.count <= 32 ? state.pointee.short[ShortKey(word)] : state.pointee.long[Array(word)]
        guard let range else { return false }
        ids += state.pointee.ids[range]
        return true
    }

    /// Caches `tokens` as the ids of `word`.
    func insert(_ word: UnsafeBufferPointer<UInt8>, _ tokens: ArraySlice<Int>) {
        guard word.count <= WordCache.maxWordBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        if state.pointee.short.count + state.pointee.long.count >= WordCache.capacity {
            state.pointee = State()
        }
        let range = state.pointee.ids.count..<state.pointee.ids.count + tokens.count
        if word.count <= 32 {
            state.pointee.short[ShortKey(word)] = range
        } else {
            state.pointee.long[Array(word)] = range
        }
        state.pointee.ids += tokens
    }
}
