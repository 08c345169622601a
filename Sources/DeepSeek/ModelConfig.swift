import Foundation

/// `config.json` of a DeepSeek-V3.2-Exp (`deepseek_v32`) or DeepSeek-V3 (`deepseek_v3`) checkpoint,
/// decoded with the Hugging Face field names (spec §1).
public struct ModelConfig: Codable, Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var moeIntermediateSize: Int
    public var numHiddenLayers: Int
    public var numNextnPredictLayers: Int?
    public var firstKDenseReplace: Int
    public var moeLayerFreq: Int?
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int?
    public var nRoutedExperts: Int
    public var nSharedExperts: Int
    public var numExpertsPerTok: Int
    public var nGroup: Int
    public var topkGroup: Int
    public var routedScalingFactor: Float
    public var scoringFunc: String?
    public var topkMethod: String?
    public var normTopkProb: Bool?
    public var qLoraRank: Int?
    public var kvLoraRank: Int
    public var qkNopeHeadDim: Int
    public var qkRopeHeadDim: Int
    public var vHeadDim: Int
    public var indexNHeads: Int?
    public var indexHeadDim: Int?
    public var indexTopk: Int?
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Float
    public var hiddenAct: String?
    public var tieWordEmbeddings: Bool?
    public var attentionBias: Bool?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var torchDtype: String?
    public var architectures: [String]?
    public var quantizationConfig: QuantizationConfig?

    /// YaRN parameters (`rope_scaling`).
    public struct RopeScaling: Codable, Sendable, Equatable {
        public var type: String?
        public var ropeType: String?
        public var factor: Double
        public var originalMaxPositionEmbeddings: Int
        public var betaFast: Double?
        public var betaSlow: Double?
        public var mscale: Double?
        public var mscaleAllDim: Double?
    }

    /// `quantization_config` of FP8 checkpoints.
    public struct QuantizationConfig: Codable, Sendable, Equatable {
        public var quantMethod: String
        public var fmt: String?
        public var activationScheme: String?
        public var weightBlockSize: [Int]?
        public var scaleFmt: String?
    }

    /// Reads and checks `DIR/config.json`.
    public static func load(directory: String) throws -> ModelConfig {
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError("cannot read \(path): no such file (a model directory needs config.json and its safetensors)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: ModelConfig
        do {
            config = try decoder.decode(ModelConfig.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelError("\(path): required field \"\(snakeCase(key.stringValue))\" is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map { snakeCase($0.stringValue) }.joined(separator: ".")
            throw ModelError("\(path): field \"\(field)\" has the wrong type (\(context.debugDescription))")
        } catch {
            throw ModelError("\(path) is not valid JSON: \(error)")
        }
        do { try config.validate() } catch let e as ModelError { throw ModelError("\(path): \(e.description)") }
        return config
    }

    /// Checks that the dimensions are consistent; the error names the field.
    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw ModelError(message) } }
        try require(["deepseek_v32", "deepseek_v3"].contains(modelType),
                    "model_type \"\(modelType)\" is not supported (expected deepseek_v32 or deepseek_v3)")
        for (name, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                              ("moe_intermediate_size", moeIntermediateSize), ("num_hidden_layers", numHiddenLayers),
                              ("num_attention_heads", numAttentionHeads), ("kv_lora_rank", kvLoraRank),
                              ("qk_nope_head_dim", qkNopeHeadDim), ("v_head_dim", vHeadDim), ("max_position_embeddings", maxPositionEmbeddings)] {
            try require(value > 0, "\(name) must be positive, found \(value)")
        }
        try require(qkRopeHeadDim > 0 && qkRopeHeadDim % 2 == 0, "qk_rope_head_dim must be a positive even number, found \(qkRopeHeadDim)")
        try require(qLoraRank.map { $0 > 0 } ?? true, "q_lora_rank must be positive or null")
        try require((0...numHiddenLayers).contains(firstKDenseReplace), "first_k_dense_replace \(firstKDenseReplace) is outside 0...num_hidden_layers (\(numHiddenLayers))")
        if firstKDenseReplace < numHiddenLayers {
            try require(nRoutedExperts > 0, "n_routed_experts must be positive when there are MoE layers")
            try require(nGroup > 0 && nRoutedExperts % nGroup == 0, "n_routed_experts (\(nRoutedExperts)) must split evenly into n_group (\(nGroup)) groups")
            try require((1...nGroup).contains(topkGroup), "topk_group \(topkGroup) must be in 1...n_group (\(nGroup))")
            try require(numExpertsPerTok > 0 && numExpertsPerTok <= topkGroup * (nRoutedExperts / nGroup),
                        "num_experts_per_tok \(numExpertsPerTok) must be in 1...\(topkGroup * (nRoutedExperts / nGroup)) (topk_group × experts per group)")
            try require((moeLayerFreq ?? 1) >= 1, "moe_layer_freq must be at least 1")
            try require(["sigmoid", "softmax"].contains(scoringFunc ?? "sigmoid"), "scoring_func \"\(scoringFunc ?? "")\" is not supported (sigmoid or softmax)")
        }
        if hasIndexer {
            try require(indexNHeads! > 0, "index_n_heads must be positive")
            try require(indexHeadDim! > qkRopeHeadDim, "index_head_dim (\(indexHeadDim!)) must exceed qk_rope_head_dim (\(qkRopeHeadDim))")
            try require(indexHeadDim! & (indexHeadDim! - 1) == 0, "index_head_dim \(indexHeadDim!) must be a power of two (Hadamard rotation)")
            try require(indexTopk! > 0, "index_topk must be positive")
        }
        if let q = quantizationConfig {
            try require(q.quantMethod == "fp8", "quantization_config.quant_method \"\(q.quantMethod)\" is not supported (fp8)")
            try require((q.weightBlockSize ?? [128, 128]) == [128, 128], "quantization_config.weight_block_size must be [128, 128]")
        }
    }

    /// Whether the checkpoint has DeepSeek Sparse Attention's lightning indexer.
    public var hasIndexer: Bool { modelType == "deepseek_v32" && indexNHeads != nil && indexHeadDim != nil && indexTopk != nil }
    /// Layer `l` uses the MoE (otherwise a dense SwiGLU MLP).
    public func isMoE(layer l: Int) -> Bool { l >= firstKDenseReplace && l % (moeLayerFreq ?? 1) == 0 }
    /// `qk_nope_head_dim + qk_rope_head_dim`.
    public var qkHeadDim: Int { qkNopeHeadDim + qkRopeHeadDim }
    /// The MLA softmax scale, with YaRN's `mscale²` when the context is extended.
    public var softmaxScale: Float {
        var scale = 1 / Double(qkHeadDim).squareRoot()
        if let r = ropeScaling, r.factor > 1 {
            let m = 0.1 * (r.mscaleAllDim ?? 1) * log(r.factor) + 1
            scale *= m * m
        }
        return Float(scale)
    }

    private static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { out, c in if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) } }
    }
}
