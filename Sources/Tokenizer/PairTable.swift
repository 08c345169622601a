/// A fixed open-addressing hash table from a token pair (left << 32 | right) to a merge
/// (rank << 32 | merged id): the BPE inner loop's lookup, cheaper than a `Dictionary`.
struct PairTable: Sendable {
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [UInt64]
    private let shift: UInt64

    /// An empty table with room for `count` entries.
    init(capacity count: Int) {
        var bits: UInt64 = 4
        while 1 << bits < 2 * count { bits += 1 }
        keys = [UInt64](repeating: PairTable.empty, count: 1 << bits)
        values = [UInt64](repeating: 0, count: 1 << bits)
        shift = 64 - bits
    }

    /// Sets the value of `key`, replacing any earlier one.
    mutating func insert(_ key: UInt64, _ value: UInt64) {
        var slot = self.slot(key)
        while keys[slot] != PairTable.empty && keys[slot] != key { slot = (slot + 1) & (keys.count - 1) }
        keys[slot] = key
        values[slot] = value
    }

    /// The value of `key`, if any.
    @inline(__always)
    subscript(key: UInt64) -> UInt64? {
        var slot = self.slot(key)
        while true {
            let found = keys[slot]
            if found == key { return values[slot] }
            if found == PairTable.empty { return nil }
            slot = (slot + 1) & (keys.count - 1)
        }
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}
