#!/usr/bin/env python3
"""Convert a SwiftDSA checkpoint (DeepSeek-V3.2 layout, FP8 e4m3 + 128x128 weight_scale_inv) to a
llama.cpp GGUF of architecture `deepseek32` (MLA + DSA lightning indexer), Q8_0.

  PYTHONPATH=LLAMA_CPP/gguf-py python3 dsa_to_gguf.py CHECKPOINT_DIR OUT.gguf [--tokenizer DIR]

It does what llama.cpp's convert_hf_to_gguf.py (DeepseekV32Model, --outtype q8_0) does, without
torch: FP8 weights are dequantised (value x scale of its block) to float32 and quantised to Q8_0 by
gguf-py; norms, biases, the router and indexer.proj stay F32; routed experts are stacked into one
tensor per projection; kv_b_proj is split into attn_k_b (transposed) and attn_v_b for MLA
absorption. Tensors are streamed, one at a time. MTP layers (past num_hidden_layers) are dropped.
"""
import argparse
import json
import os

import numpy as np

import deepseek_ref
import gguf

Q = gguf.GGMLQuantizationType


class Checkpoint(deepseek_ref.Checkpoint):
    """The reference's lazy safetensors reader, tensors as float32 (what gguf-py quantises)."""

    def get(self, name):
        return super().get(name).astype(np.float32)


def plan(cfg, ck):
    """[(gguf name, shape, qtype, producer)] in file order; producer() returns the float32 array."""
    arch = gguf.MODEL_ARCH.DEEPSEEK32
    tmap = gguf.get_tensor_name_map(arch, cfg["num_hidden_layers"])
    H, nope, v = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
    out = []

    def add(name, shape, producer):
        f32 = len(shape) == 1 or name.endswith("_norm.weight") or not name.endswith(".weight") \
            or ".ffn_gate_inp." in name or ".indexer.proj." in name
        out.append((name, tuple(shape), Q.F32 if f32 else Q.Q8_0, producer))

    done = set()
    for hf, (_, _, _, shape, _) in ck.entries.items():
        if hf.endswith("weight_scale_inv") or hf in done:
            continue
        layer = int(hf.split(".")[2]) if hf.startswith("model.layers.") else None
        if layer is not None and layer >= cfg["num_hidden_layers"]:
            continue  # multi-token prediction
        if ".mlp.experts." in hf:
            if ".experts.0." not in hf:
                continue
            proj = hf.split(".")[-2]
            names = [f"model.layers.{layer}.mlp.experts.{e}.{proj}.weight" for e in range(cfg["n_routed_experts"])]
            done.update(names)
            gname = tmap.get_name(f"model.layers.{layer}.mlp.experts.{proj}.weight", try_suffixes=(".weight",))
            add(gname, [len(names)] + shape, lambda names=names: np.stack([ck.get(n) for n in names]))
        elif hf.endswith("kv_b_proj.weight"):
            r = shape[1]
            kv = lambda hf=hf: ck.get(hf).reshape(H, nope + v, r)
            add(f"blk.{layer}.attn_k_b.weight", [H, r, nope], lambda kv=kv: np.ascontiguousarray(kv()[:, :nope, :].transpose(0, 2, 1)))
            add(f"blk.{layer}.attn_v_b.weight", [H, v, r], lambda kv=kv: np.ascontiguousarray(kv()[:, nope:, :]))
        else:
            name = hf.replace("e_score_correction_bias", "e_score_correction.bias")
            gname = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
            assert gname is not None, f"no GGUF name for {hf}"
            add(gname, shape, lambda hf=hf: ck.get(hf))
    return out


def write_metadata(w, cfg, tok_dir):
    rope = cfg["rope_scaling"]
    w.add_name("swiftdsa-" + os.path.basename(os.path.normpath(cfg["_dir"])))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(1)  # MLA runs as MQA over the latent
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    w.add_rope_scaling_factor(rope["factor"])
    w.add_rope_scaling_orig_ctx_len(rope["original_max_position_embeddings"])
    w.add_rope_scaling_yarn_beta_fast(rope["beta_fast"])
    w.add_rope_scaling_yarn_beta_slow(rope["beta_slow"])
    w.add_rope_scaling_yarn_log_mul(0.1 * rope["mscale_all_dim"])  # as the converter writes it
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_expert_count(cfg["n_routed_experts"])
    w.add_expert_used_count(cfg["num_experts_per_tok"])
    w.add_expert_group_count(cfg["n_group"])
    w.add_expert_group_used_count(cfg["topk_group"])
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    w.add_leading_dense_block_count(cfg["first_k_dense_replace"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_q_lora_rank(cfg["q_lora_rank"])
    w.add_kv_lora_rank(cfg["kv_lora_rank"])
    w.add_key_length(cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"])
    w.add_value_length(cfg["kv_lora_rank"])
    w.add_key_length_mla(cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"])
    w.add_value_length_mla(cfg["v_head_dim"])
    w.add_expert_feed_forward_length(cfg["moe_intermediate_size"])
    w.add_expert_shared_count(cfg["n_shared_experts"])
    w.add_expert_weights_scale(cfg["routed_scaling_factor"])
    w.add_expert_weights_norm(cfg["norm_topk_prob"])
    w.add_rope_dimension_count(cfg["qk_rope_head_dim"])
    w.add_nextn_predict_layers(0)
    w.add_indexer_head_count(cfg["index_n_heads"])
    w.add_indexer_key_length(cfg["index_head_dim"])
    w.add_indexer_top_k(cfg["index_topk"])

    # DeepSeek-V3's byte-level BPE vocabulary, ids past the tokenizer's padded as in get_vocab_base()
    tok = json.load(open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8"))
    id_to_tok = {i: t for t, i in tok["model"]["vocab"].items()}
    added = {a["id"]: a for a in tok["added_tokens"]}
    tokens, types = [], []
    for i in range(cfg["vocab_size"]):
        if i in added:
            tokens.append(added[i]["content"])
            t = added[i]["content"]
            special = added[i]["special"] or (t.startswith("<｜") and t.endswith("｜>")) or (t.startswith("<|") and t.endswith("|>"))
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        elif i in id_to_tok:
            tokens.append(id_to_tok[i])
            types.append(gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("deepseek-v3")
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(tok_dir, load_merges=True).add_to_gguf(w)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--tokenizer", help="directory with tokenizer.json (default: the checkpoint's)")
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    cfg["_dir"] = a.model
    assert cfg.get("index_topk"), "expects a DeepSeek-V3.2 checkpoint (with the DSA indexer)"
    ck = Checkpoint(a.model)
    tensors = plan(cfg, ck)

    w = gguf.GGUFWriter(a.out + ".partial", gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.DEEPSEEK32])
    write_metadata(w, cfg, a.tokenizer or a.model)
    for name, shape, qtype, _ in tensors:  # Q8_0 tensors are declared by their byte shape, as uint8
        if qtype == Q.Q8_0:
            shape = gguf.quant_shape_to_byte_shape(shape, qtype)
        w.add_tensor_info(name, shape, np.dtype(np.uint8 if qtype == Q.Q8_0 else np.float32),
                          int(np.prod(shape)) * (1 if qtype == Q.Q8_0 else 4), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for i, (name, shape, qtype, produce) in enumerate(tensors):
        data = produce().astype(np.float32, copy=False)
        assert data.shape == shape, (name, data.shape, shape)
        w.write_tensor_data(gguf.quants.quantize(data, qtype) if qtype == Q.Q8_0 else data)
        print(f"[{i + 1}/{len(tensors)}] {name} {list(reversed(shape))} {qtype.name}", flush=True)
    w.close()
    os.replace(a.out + ".partial", a.out)


if __name__ == "__main__":
    main()
