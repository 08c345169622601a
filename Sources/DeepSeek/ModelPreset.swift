import Foundation

/// Named shapes for `dsa make-model` (design §7), as config.json dictionaries.
public enum ModelPreset {
    nonisolated(unsafe) static let common: [String: Any] = [
        "model_type": "deepseek_v32", "architectures": ["DeepseekV32ForCausalLM"], "attention_bias": false,
        "bos_token_id": 0, "eos_token_id": 1, "hidden_act": "silu", "tie_word_embeddings": false,
        "max_position_embeddings": 163840, "moe_layer_freq": 1, "norm_topk_prob": true,
        "rms_norm_eps": 1e-6, "rope_theta": 10000, "scoring_func": "sigmoid", "topk_method": "noaux_tc",
        "torch_dtype": "bfloat16", "num_nextn_predict_layers": 0, "routed_scaling_factor": 2.5,
        "rope_scaling": ["type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                         "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0] as [String: Any],
        "quantization_config": ["quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                "weight_block_size": [128, 128], "scale_fmt": "ue8m0"] as [String: Any],
    ]

    nonisolated(unsafe) static let shapes: [String: [String: Any]] = [
        "tiny": ["vocab_size": 1024, "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
                 "num_hidden_layers": 3, "first_k_dense_replace": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
                 "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2, "n_group": 4, "topk_group": 2,
                 "q_lora_rank": 48, "kv_lora_rank": 32, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16,
                 "index_n_heads": 4, "index_head_dim": 16, "index_topk": 8, "num_nextn_predict_layers": 1],
        "bench-mini": ["vocab_size": 129280, "hidden_size": 2048, "intermediate_size": 10944, "moe_intermediate_size": 1408,
                       "num_hidden_layers": 8, "first_k_dense_replace": 1, "num_attention_heads": 16, "num_key_value_heads": 16,
                       "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6, "n_group": 8, "topk_group": 4,
                       "q_lora_rank": 512, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                       "index_n_heads": 64, "index_head_dim": 128, "index_topk": 2048],
        "bench-longctx": ["vocab_size": 32768, "hidden_size": 7168, "intermediate_size": 4096, "moe_intermediate_size": 512,
                          "num_hidden_layers": 2, "first_k_dense_replace": 1, "num_attention_heads": 128, "num_key_value_heads": 128,
                          "n_routed_experts": 16, "n_shared_experts": 1, "num_experts_per_tok": 4, "n_group": 4, "topk_group": 2,
                          "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                          "index_n_heads": 64, "index_head_dim": 128, "index_topk": 2048],
    ]

    public static var names: [String] { shapes.keys.sorted() }

    /// The config.json dictionary of preset `name`.
    public static func named(_ name: String) throws -> [String: Any] {
        guard let shape = shapes[name] else {
            throw ModelError("unknown preset \"\(name)\" (choose one of \(names.joined(separator: ", ")))")
        }
        return common.merging(shape) { _, new in new }
    }
}
