import Foundation
import Kernels

/// Picks the next token of one sequence on the coordinator: penalties, then greedy argmax at
/// temperature 0, else temperature, top-k, top-p and min-p filtering and a draw from the
/// sequence's own seeded generator (so batching and rank count never change the result).
public struct Sampler: Sendable {
    public let params: SamplingParams
    private var rng: SplitMix64

    public init(params: SamplingParams) {
        self.params = params
        rng = SplitMix64(seed: params.seed)
    }

    /// The next token after `logits` (`[vocab]`), given the prompt and the tokens generated so far.
    public mutating func sample(_ logits: [Float], prompt: [Int], generated: [Int]) -> Int {
        var l = logits
        applyPenalties(&l, prompt: prompt, generated: generated)
        if params.temperature == 0 { return argmax(l) }
        var candidates = l.indices.map { ($0, l[$0] / params.temperature) }
        if params.topK > 0 && params.topK < candidates.count {
            candidates.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            candidates.removeLast(candidates.count - params.topK)
        }
        let m = candidates.reduce(-Float.infinity) { max($0, $1.1) }
        var probs = candidates.map { ($0.0, Double(exp($0.1 - m))) }
        var total = probs.reduce(0) { $0 + $1.1 }
        if params.topP < 1 {
            probs.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            var kept = 0, mass = 0.0
            while kept < probs.count && mass < Double(params.topP) * total { mass += probs[kept].1; kept += 1 }
            probs.removeLast(probs.count - max(kept, 1))
            total = mass
        }
        if params.minP > 0 {
            let cut = Double(params.minP) * (probs.map(\.1).max() ?? 0)
            probs.removeAll { $0.1 < cut }
            total = probs.reduce(0) { $0 + $1.1 }
        }
        var r = rng.uniform() * total
        for (token, p) in probs {
            r -= p
            if r <= 0 { return token }
        }
        return probs.last!.0
    }

    private func applyPenalties(_ l: inout [Float], prompt: [Int], generated: [Int]) {
        if params.repetitionPenalty != 1 {
            for t in Set(prompt + generated) where l.indices.contains(t) {
                l[t] = l[t] > 0 ? l[t] / params.repetitionPenalty : l[t] * params.repetitionPenalty
            }
        }
        if params.presencePenalty != 0 || params.frequencyPenalty != 0 {
            var counts = [Int: Int]()
            for t in generated { counts[t, default: 0] += 1 }
            for (t, n) in counts where l.indices.contains(t) {
                l[t] -= params.presencePenalty + params.frequencyPenalty * Float(n)
            }
        }
    }

    private func argmax(_ l: [Float]) -> Int {
        var best = 0
        for i in l.indices where l[i] > l[best] { best = i }
        return best
    }
}
