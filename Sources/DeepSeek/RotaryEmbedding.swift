import Foundation
import Kernels

extension Rope {
    /// YaRN-corrected frequencies of `qk_rope_head_dim` (spec §6.1): unchanged for fast-rotating
    /// pairs, divided by `factor` for slow ones, blended linearly between the correction dims.
    init(config c: ModelConfig) {
        let dim = c.qkRopeHeadDim, base = c.ropeTheta
        var freqs = (0..<(dim / 2)).map { 1 / pow(base, Double(2 * $0) / Double(dim)) }
        if let y = c.ropeScaling, y.factor > 1 {
            let original = Double(y.originalMaxPositionEmbeddings)
            func correctionDim(_ rotations: Double) -> Double {
                Double(dim) * log(original / (rotations * 2 * .pi)) / (2 * log(base))
            }
            let low = max(floor(correctionDim(y.betaFast ?? 32)), 0)
            var high = min(ceil(correctionDim(y.betaSlow ?? 1)), Double(dim - 1))
            if low == high { high += 0.001 }
            freqs = freqs.enumerated().map { i, f in
                let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
                return f / y.factor * ramp + f * (1 - ramp)
            }
        }
        self.init(frequencies: freqs.map { Float($0) })
    }
}
