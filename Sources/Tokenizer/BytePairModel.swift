/// The BPE model over raw bytes: every word starts as one token per byte, then the merge with
/// the lowest rank (leftmost among equals) is applied until none applies, as `tokenizers` does.
struct BytePairModel: Sendable {
    /// Working memory for `encode`, reused across words.
    struct Scratch {
        fileprivate var symbols: [Int32] = []
        fileprivate var previous: [Int32] = []
        fileprivate var next: [Int32] = []
        fileprivate var heap = MinHeap()
    }

    private let byteTokens: [Int32]
    private let merges: PairTable
    /// With `ignore_merges`, words that are whole vocabulary entries map straight to their id.
    private let wholeWords: [[UInt8]: Int32]?

    /// Builds the model from tokenizer.json's `model` object; `path` names the file in errors.
    init(_ model: TokenizerFile.Model, path: String) throws {
        let vocab = model.vocab
        var byteTokens = [Int32](repeating: -1, count: 256)
        for (byte, scalar) in ByteLevel.scalars.enumerated() {
            guard let id = vocab[String(scalar)] else {
                throw TokenizerError.malformedFile(path: path, problem: "vocab has no token for byte \(byte) (\"\(scalar)\")")
            }
            byteTokens[byte] = Int32(id)
        }
        var merges = PairTable(capacity: model.merges.count)
        for (rank, merge) in model.merges.enumerated() {
            guard let left = vocab[merge.left], let right = vocab[merge.right],
                  let merged = vocab[merge.left + merge.right]
            else {
                throw TokenizerError.malformedFile(
                    path: path, problem: "merge \(rank) (\"\(merge.left)\" \"\(merge.right)\") names a token missing from vocab")
            }
            merges.insert(UInt64(left) << 32 | UInt64(right), UInt64(rank) << 32 | UInt64(merged))
        }
        self.byteTokens = byteTokens
        self.merges = merges
        if model.ignoreMerges == true {
            var wholeWords: [[UInt8]: Int32] = [:]
            for (token, id) in vocab {
                if let bytes = ByteLevel.mappedBytes(token) { wholeWords[bytes] = Int32(id) }
            }
            self.wholeWords = wholeWords
        } else {
            wholeWords = nil
        }
    }

    /// Appends the ids of the word `bytes` to `ids`.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int], scratch: inout Scratch) {
        if bytes.count == 1 {
            ids.append(Int(byteTokens[Int(bytes[0])]))
            return
        }
        if let wholeWords, let id = wholeWords[Array(bytes)] {
            ids.append(Int(id))
            return
        }
        let count = bytes.count
        scratch.symbols.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.heap.removeAll()
        for (i, byte) in bytes.enumerated() {
            scratch.symbols.append(byteTokens[Int(byte)])
            scratch.previous.append(Int32(i - 1))
            scratch.next.append(Int32(i + 1))
        }
        for i in 0..<count - 1 {
            if let merge = merges[pair(scratch.symbols[i], scratch.symbols[i + 1])] {
                scratch.heap.push(merge & 0xFFFF_FFFF_0000_0000 | UInt64(i))
            }
        }
        while let top = scratch.heap.pop() {
            let position = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            let right = Int(scratch.next[position])
            guard scratch.symbols[position] >= 0, right < count,
                  let merge = merges[pair(scratch.symbols[position], scratch.symbols[right])], merge >> 32 == rank
            else { continue }
            scratch.symbols[position] = Int32(truncatingIfNeeded: merge)
            scratch.symbols[right] = -1
            let after = Int(scratch.next[right])
            scratch.next[position] = Int32(after)
            if after < count { scratch.previous[after] = Int32(position) }
            let before = Int(scratch.previous[position])
            if before >= 0, let merge = merges[pair(scratch.symbols[before], scratch.symbols[position])] {
                scratch.heap.push(merge & 0xFFFF_FFFF_0000_0000 | UInt64(before))
            }
            if after < count, let merge = merges[pair(scratch.symbols[position], scratch.symbols[after])] {
                scratch.heap.push(merge & 0xFFFF_FFFF_0000_0000 | UInt64(position))
            }
        }
        var i = 0
        while i < count {
            ids.append(Int(scratch.symbols[i]))
            i = Int(scratch.next[i])
        }
    }

    @inline(__always)
    private func pair(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}

/// A binary min-heap of merge candidates keyed `rank << 32 | position`.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ item: UInt64) {
        var child = items.count
        items.append(item)
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] > items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { break }
            let smaller = left + 1 < items.count && items[left + 1] < items[left] ? left + 1 : left
            guard items[smaller] < items[parent] else { break }
            items.swapAt(parent, smaller)
            parent = smaller
        }
        return top
    }
}
