/// What every rank runs in one engine step, decided by the coordinator and broadcast: the
/// sequences in the batch with their new tokens, the sequences whose caches to create (with
/// their capacity) or drop, and whether the workers should stop.
struct StepPlan {
    var batch: [(id: Int, tokens: [Int])] = []
    var created: [(id: Int, capacity: Int)] = []
    var dropped: [Int] = []
    var stop = false

    /// `[stop, #created, (id, capacity)…, #dropped, ids…, #batch, (id, #tokens, tokens…)…]`.
    func encoded() -> [Int32] {
        var out: [Int32] = [stop ? 1 : 0, Int32(created.count)]
        for c in created { out += [Int32(c.id), Int32(c.capacity)] }
        out += [Int32(dropped.count)] + dropped.map { Int32($0) }
        out.append(Int32(batch.count))
        for b in batch { out += [Int32(b.id), Int32(b.tokens.count)] + b.tokens.map { Int32($0) } }
        return out
    }

    init() {}

    init(decoding v: [Int32]) {
        var i = 0
        func next() -> Int { defer { i += 1 }; return Int(v[i]) }
        stop = next() != 0
        created = (0..<next()).map { _ in (next(), next()) }
        dropped = (0..<next()).map { _ in next() }
        batch = (0..<next()).map { _ in
            let id = next()
            return (id, (0..<next()).map { _ in next() })
        }
    }
}
