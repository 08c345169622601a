import Foundation
import Kernels

/// Writes a random-weight checkpoint in the exact Hugging Face layout of DeepSeek-V3.2-Exp:
/// config.json, FP8 e4m3 linear weights with 128×128 `weight_scale_inv` blocks, bf16 embeddings,
/// norms and router, fp32 correction bias, and (when several shards) `model.safetensors.index.json`.
/// Every tensor's values depend only on the seed and its name.
public struct ModelMaker {
    public let configJSON: [String: Any]
    public let config: ModelConfig
    public let seed: UInt64

    /// `preset` is a config dictionary (see `ModelPreset`); `overrides` replace its fields.
    public init(preset: [String: Any], overrides: [String: Any] = [:], seed: UInt64) throws {
        var json = preset.merging(overrides) { _, new in new }
        if json["model_type"] as? String == "deepseek_v3" {
            for k in ["index_n_heads", "index_head_dim", "index_topk"] { json[k] = nil }
            json["architectures"] = ["DeepseekV3ForCausalLM"]
        }
        configJSON = json
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        config = try decoder.decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: json))
        try config.validate()
        self.seed = seed
    }

    /// Writes the checkpoint into `directory` (created if needed) in `shards` files (0: by size, ≤ 2 GiB each).
    public func write(to directory: String, shards requested: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let entries = tensors()
        let total = entries.reduce(0) { $0 + $1.byteCount }
        let shards = max(1, min(entries.count, requested > 0 ? requested : (total + (2 << 30) - 1) / (2 << 30)))
        var groups = [[SafetensorsWriter.Entry]](repeating: [], count: shards)
        var acc = 0
        for e in entries {
            groups[min(shards - 1, acc * shards / max(total, 1))].append(e)
            acc += e.byteCount
        }
        groups.removeAll { $0.isEmpty }
        let names = groups.count == 1 ? ["model.safetensors"]
            : (1...groups.count).map { String(format: "model-%05d-of-%05d.safetensors", $0, groups.count) }
        for (g, name) in zip(groups, names) { try SafetensorsWriter.write(g, to: directory + "/" + name) }
        if groups.count > 1 {
            var map = [String: String]()
            for (g, name) in zip(groups, names) { for e in g { map[e.name] = name } }
            let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": map]
            try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: directory + "/model.safetensors.index.json"))
        }
        try JSONSerialization.data(withJSONObject: configJSON, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: directory + "/config.json"))
        let generation: [String: Any] = ["bos_token_id": 0, "eos_token_id": 1, "do_sample": true, "temperature": 1.0, "top_p": 0.95]
        try JSONSerialization.data(withJSONObject: generation, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: directory + "/generation_config.json"))
    }

    /// Every tensor of the checkpoint, in file order (layers ascending, MTP layers last).
    func tensors() -> [SafetensorsWriter.Entry] {
        let c = config, d = c.hiddenSize
        var out = [fp8Free("model.embed_tokens.weight", [c.vocabSize, d], std: 1)]
        for l in 0..<(c.numHiddenLayers + (c.numNextnPredictLayers ?? 0)) {
            let p = "model.layers.\(l)"
            out += [norm(p + ".input_layernorm.weight", d), norm(p + ".post_attention_layernorm.weight", d)]
            let a = p + ".self_attn"
            if let r = c.qLoraRank {
                out += linear(a + ".q_a_proj", out: r, in: d) + [norm(a + ".q_a_layernorm.weight", r)]
                out += linear(a + ".q_b_proj", out: c.numAttentionHeads * c.qkHeadDim, in: r)
            } else {
                out += linear(a + ".q_proj", out: c.numAttentionHeads * c.qkHeadDim, in: d)
            }
            out += linear(a + ".kv_a_proj_with_mqa", out: c.kvLoraRank + c.qkRopeHeadDim, in: d)
            out += [norm(a + ".kv_a_layernorm.weight", c.kvLoraRank)]
            out += linear(a + ".kv_b_proj", out: c.numAttentionHeads * (c.qkNopeHeadDim + c.vHeadDim), in: c.kvLoraRank)
            out += linear(a + ".o_proj", out: d, in: c.numAttentionHeads * c.vHeadDim)
            if c.hasIndexer, let r = c.qLoraRank {
                let i = a + ".indexer", hd = c.indexHeadDim!
                out += linear(i + ".wq_b", out: c.indexNHeads! * hd, in: r) + linear(i + ".wk", out: hd, in: d)
                out += [norm(i + ".k_norm.weight", hd), fp8Free(i + ".k_norm.bias", [hd], std: 0.1),
                        fp8Free(i + ".weights_proj.weight", [c.indexNHeads!, d], std: 1 / Float(d).squareRoot())]
            }
            let m = p + ".mlp"
            if c.isMoE(layer: l) {
                out += [fp8Free(m + ".gate.weight", [c.nRoutedExperts, d], std: 1 / Float(d).squareRoot()),
                        fp8Free(m + ".gate.e_score_correction_bias", [c.nRoutedExperts], std: 0.05, dtype: "F32")]
                for e in 0..<c.nRoutedExperts { out += mlp(m + ".experts.\(e)", inter: c.moeIntermediateSize) }
                if c.nSharedExperts > 0 { out += mlp(m + ".shared_experts", inter: c.nSharedExperts * c.moeIntermediateSize) }
            } else {
                out += mlp(m, inter: c.intermediateSize)
            }
            if l >= c.numHiddenLayers {  // the multi-token-prediction module, ignored by inference
                out += [norm(p + ".enorm.weight", d), norm(p + ".hnorm.weight", d), norm(p + ".shared_head.norm.weight", d),
                        fp8Free(p + ".eh_proj.weight", [d, 2 * d], std: 1 / Float(2 * d).squareRoot())]
            }
        }
        return out + [norm("model.norm.weight", d), fp8Free("lm_head.weight", [c.vocabSize, d], std: 1 / Float(d).squareRoot())]
    }

    private func mlp(_ p: String, inter: Int) -> [SafetensorsWriter.Entry] {
        linear(p + ".gate_proj", out: inter, in: config.hiddenSize) + linear(p + ".up_proj", out: inter, in: config.hiddenSize)
            + linear(p + ".down_proj", out: config.hiddenSize, in: inter)
    }

    /// An FP8 weight `[out, in]` (std ≈ 1/√in) and its per-block `weight_scale_inv`.
    private func linear(_ name: String, out rows: Int, in cols: Int) -> [SafetensorsWriter.Entry] {
        let codes = Self.gaussianCodes, seed = self.seed
        let weight = SafetensorsWriter.Entry(name: name + ".weight", dtype: "F8_E4M3", shape: [rows, cols]) { sink in
            var rng = SplitMix64(seed: seed, name: name)
            let chunkRows = max(1, (1 << 22) / cols)
            var r = 0
            while r < rows {
                let n = min(chunkRows, rows - r) * cols
                var bytes = [UInt8](repeating: 0, count: n)
                var i = 0
                while i < n {
                    var word = rng.next()
                    for _ in 0..<min(8, n - i) { bytes[i] = codes[Int(word & 0xFF)]; word >>= 8; i += 1 }
                }
                sink(Data(bytes))
                r += min(chunkRows, rows - r)
            }
        }
        let shape = [Matrix.scaleRows(rows), Matrix.scaleCols(cols)]
        let scale = SafetensorsWriter.Entry(name: name + ".weight_scale_inv", dtype: "F32", shape: shape) { sink in
            var rng = SplitMix64(seed: seed, name: name + ".scale")
            let base = 1 / (Self.codeStd * Float(cols).squareRoot())
            var values = (0..<shape.reduce(1, *)).map { _ in base * Float(0.75 + 0.5 * rng.uniform()) }
            sink(Data(bytes: &values, count: values.count * 4))
        }
        return [weight, scale]
    }

    /// A norm weight: 1 ± 0.1 (bf16).
    private func norm(_ name: String, _ n: Int) -> SafetensorsWriter.Entry {
        values(name, [n], dtype: "BF16") { rng in Float(1 + 0.2 * (rng.uniform() - 0.5)) }
    }

    /// A non-FP8 tensor of normal-ish values with standard deviation `std`.
    private func fp8Free(_ name: String, _ shape: [Int], std: Float, dtype: String = "BF16") -> SafetensorsWriter.Entry {
        values(name, shape, dtype: dtype) { rng in  // sum of four uniforms, rescaled: normal enough for test weights
            std * Float(rng.uniform() + rng.uniform() + rng.uniform() + rng.uniform() - 2) * 1.7320508
        }
    }

    private func values(_ name: String, _ shape: [Int], dtype: String, _ draw: @escaping (inout SplitMix64) -> Float) -> SafetensorsWriter.Entry {
        let seed = self.seed
        return SafetensorsWriter.Entry(name: name, dtype: dtype, shape: shape) { sink in
            var rng = SplitMix64(seed: seed, name: name)
            var left = shape.reduce(1, *)
            while left > 0 {
                let n = min(left, 1 << 20)
                let chunk = (0..<n).map { _ in draw(&rng) }
                if dtype == "F32" {
                    chunk.withUnsafeBytes { sink(Data($0)) }
                } else {
                    chunk.map(BF16.encode).withUnsafeBytes { sink(Data($0)) }
                }
                left -= n
            }
        }
    }

    /// 256 e4m3 codes whose values follow a normal distribution of std 64 (indexed by a random byte).
    static let gaussianCodes: [UInt8] = (0..<256).map { i in FP8.encode(64 * inverseNormal((Float(i) + 0.5) / 256)) }
    static let codeStd: Float = {
        let v = gaussianCodes.map { FP8.decode($0) }
        return (v.map { $0 * $0 }.reduce(0, +) / 256).squareRoot()
    }()

    /// The standard normal quantile (Acklam's rational approximation; ample for test weights).
    static func inverseNormal(_ p: Float) -> Float {
        let q = Double(min(max(p, 1e-7), 1 - 1e-7))
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if q < 0.02425 || q > 0.97575 {
            let r = (-2 * log(min(q, 1 - q))).squareRoot()
            let x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
            return Float(q < 0.5 ? x : -x)
        }
        let u = q - 0.5, r = u * u
        return Float((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * u
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    }
}
