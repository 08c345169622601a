#!/usr/bin/env python3
"""Independent float64 NumPy reference for DeepSeek-V3.2-Exp (and DeepSeek-V3) inference.

Written from shared/spec/deepseek-v32.md. Reads a Hugging Face checkpoint directory
(config.json + model.safetensors or shards listed in model.safetensors.index.json), dequantises
FP8 block-scaled weights, and runs a teacher-forced full prefill from position 0 in float64:
MLA with YaRN RoPE, the DSA lightning indexer (exact or FP8-emulated scores, top-k mask),
dense SwiGLU MLPs and the group-limited sigmoid MoE. No reduced-precision rounding anywhere.

  python3 deepseek_ref.py --model DIR --tokens 1,2,3 [--indexer exact|fp8]
                          [--attention sparse|dense] --out logits.npy
  python3 deepseek_ref.py --model DIR --tokens 1,2,3 --greedy N [--out step_logits.npy]

Prefill writes float32 logits [T, vocab] (row t = next-token logits after tokens[0..t]).
Greedy mode appends N argmax tokens (full recomputation each step), prints
{"generated": [...]} and, with --out, writes each step's logits [N, vocab].
"""
import argparse
import json
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

# ----------------------------------------------------------------------------- checkpoint


def e4m3_table():
    """float64 value of each of the 256 float8_e4m3fn codes (no infinities; 0x7F/0xFF are NaN)."""
    code = np.arange(256)
    sign = np.where(code & 0x80, -1.0, 1.0)
    exp, man = (code >> 3) & 0xF, code & 0x7
    mag = np.where(exp == 0, man / 8.0 * 2.0 ** -6, (1.0 + man / 8.0) * 2.0 ** (exp - 7.0))
    mag[(code & 0x7F) == 0x7F] = np.nan
    return sign * mag


E4M3 = e4m3_table()


def decode(raw, dtype, shape):
    """Raw little-endian safetensors bytes -> float64 array."""
    if dtype == "F8_E4M3":
        values = E4M3[np.frombuffer(raw, dtype=np.uint8)]
    elif dtype == "BF16":  # bf16 is the top half of a float32
        values = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype in ("F16", "F32", "F64"):
        values = np.frombuffer(raw, dtype={"F16": "<f2", "F32": "<f4", "F64": "<f8"}[dtype])
    else:
        raise ValueError(f"unsupported safetensors dtype {dtype}")
    return values.astype(np.float64).reshape(shape)


class Checkpoint:
    """Lazy reader: headers are parsed up front, tensor bytes are read on demand."""

    def __init__(self, model_dir, block_size=(128, 128)):
        index = os.path.join(model_dir, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        else:
            files = ["model.safetensors"]
        self.block_size = tuple(block_size)
        self.entries = {}  # name -> (path, absolute byte offset, dtype, shape, nbytes)
        for file in files:
            path = os.path.join(model_dir, file)
            with open(path, "rb") as f:
                (header_len,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(header_len))
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                begin, end = info["data_offsets"]
                self.entries[name] = (path, 8 + header_len + begin, info["dtype"], info["shape"], end - begin)

    def __contains__(self, name):
        return name in self.entries

    def raw(self, name):
        """The stored tensor, decoded to float64 but not dequantised."""
        path, offset, dtype, shape, nbytes = self.entries[name]
        with open(path, "rb") as f:
            f.seek(offset)
            raw = f.read(nbytes)
        return decode(raw, dtype, shape)

    def get(self, name):
        """The tensor as the model uses it: FP8 weights times their per-block weight_scale_inv."""
        w = self.raw(name)
        scale_name = name[: -len("weight")] + "weight_scale_inv"
        if self.entries[name][2] != "F8_E4M3" or scale_name not in self:
            return w
        (bo, bi), scale = self.block_size, self.raw(scale_name)
        assert scale.shape == (-(-w.shape[0] // bo), -(-w.shape[1] // bi)), f"bad scale shape for {name}"
        return w * np.repeat(np.repeat(scale, bo, axis=0), bi, axis=1)[: w.shape[0], : w.shape[1]]


# ----------------------------------------------------------------------------- config


@dataclass
class ModelArgs:
    """The config fields the forward pass needs (names as in DeepSeek's model.py);
    every tensor size is taken from the checkpoint itself."""
    n_layers: int
    n_dense_layers: int
    n_heads: int
    n_shared_experts: int
    n_activated_experts: int
    n_expert_groups: int
    n_limited_groups: int
    route_scale: float
    norm_topk_prob: bool
    q_lora_rank: int  # 0: no q-LoRA, q_proj maps the hidden state directly
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    rope_theta: float
    rope_scaling: dict
    eps: float
    has_indexer: bool
    index_n_heads: int
    index_head_dim: int
    index_topk: int
    block_size: tuple

    @staticmethod
    def from_config(cfg):
        if cfg.get("scoring_func", "sigmoid") != "sigmoid":
            raise NotImplementedError("only the sigmoid (noaux_tc) router is implemented")
        if cfg["model_type"] == "deepseek_v32" and not cfg.get("q_lora_rank"):
            raise ValueError("the DSA indexer reads the q-LoRA latent: deepseek_v32 needs q_lora_rank")
        return ModelArgs(
            n_layers=cfg["num_hidden_layers"], n_dense_layers=cfg.get("first_k_dense_replace", 0),
            n_heads=cfg["num_attention_heads"], n_shared_experts=cfg.get("n_shared_experts") or 0,
            n_activated_experts=cfg["num_experts_per_tok"], n_expert_groups=cfg.get("n_group") or 1,
            n_limited_groups=cfg.get("topk_group") or 1, route_scale=cfg.get("routed_scaling_factor", 1.0),
            norm_topk_prob=cfg.get("norm_topk_prob", True), q_lora_rank=cfg.get("q_lora_rank") or 0,
            kv_lora_rank=cfg["kv_lora_rank"], qk_nope_head_dim=cfg["qk_nope_head_dim"],
            qk_rope_head_dim=cfg["qk_rope_head_dim"], v_head_dim=cfg["v_head_dim"],
            rope_theta=cfg.get("rope_theta", 10000.0), rope_scaling=cfg.get("rope_scaling") or {},
            eps=cfg.get("rms_norm_eps", 1e-6), has_indexer=cfg["model_type"] == "deepseek_v32",
            index_n_heads=cfg.get("index_n_heads", 0), index_head_dim=cfg.get("index_head_dim", 0),
            index_topk=cfg.get("index_topk", 0),
            block_size=tuple((cfg.get("quantization_config") or {}).get("weight_block_size", (128, 128))))


# ----------------------------------------------------------------------------- building blocks


def linear(x, w):
    return x @ w.T


def rms_norm(x, w, eps):
    return w * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def layer_norm(x, w, b, eps=1e-6):
    mu = x.mean(axis=-1, keepdims=True)
    return w * (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps) + b


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def yarn_factor(args):
    """YaRN scaling factor, or 1.0 when the config has no YaRN rope_scaling."""
    rs = args.rope_scaling
    kind = rs.get("type", rs.get("rope_type"))
    if kind not in (None, "yarn", "default"):
        raise NotImplementedError(f"rope_scaling type {kind}")
    return float(rs.get("factor", 1.0)) if kind == "yarn" else 1.0


def precompute_freqs(args):
    """Per-pair rotary frequencies f'_i (spec 6.1): YaRN blend between correction dims."""
    dim, base = args.qk_rope_head_dim, args.rope_theta
    freqs = 1.0 / base ** (np.arange(0, dim, 2) / dim)
    factor = yarn_factor(args)
    if factor > 1.0:
        rs = args.rope_scaling
        orig = rs["original_max_position_embeddings"]

        def correction_dim(rotations):
            return dim * math.log(orig / (rotations * 2 * math.pi)) / (2 * math.log(base))

        lo = max(math.floor(correction_dim(rs.get("beta_fast", 32))), 0)
        hi = min(math.ceil(correction_dim(rs.get("beta_slow", 1))), dim - 1)
        ramp = np.clip((np.arange(dim // 2) - lo) / ((hi - lo) or 0.001), 0.0, 1.0)
        freqs = freqs / factor * ramp + freqs * (1.0 - ramp)
    return freqs


def softmax_scale(args):
    scale = (args.qk_nope_head_dim + args.qk_rope_head_dim) ** -0.5
    factor = yarn_factor(args)
    if factor > 1.0:
        mscale = 0.1 * args.rope_scaling.get("mscale_all_dim", 0.0) * math.log(factor) + 1.0
        scale *= mscale * mscale
    return scale


def apply_rotary_emb(x, cos, sin, interleaved):
    """Rotate x[..., T?, rope_dim]; cos/sin are [T, rope_dim/2] and broadcast over head axes."""
    if interleaved:  # pairs (x[2i], x[2i+1]): MLA
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2], out[..., 1::2] = a * cos - b * sin, a * sin + b * cos
        return out
    half = x.shape[-1] // 2  # pairs (x[i], x[i+d/2]): indexer
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)


def hadamard(n):
    """Sylvester-order Hadamard matrix normalised by 1/sqrt(n)."""
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    assert h.shape[0] == n, "Hadamard size must be a power of two"
    return h / math.sqrt(n)


def e4m3_round(x):
    """Round values in [-448, 448] to the nearest float8_e4m3fn value, ties to even."""
    _, exp = np.frexp(np.abs(x))  # |x| = m * 2**exp with m in [0.5, 1)
    quantum = np.ldexp(1.0, np.maximum(exp - 1, -6) - 3)  # 3 mantissa bits; subnormals below 2**-6
    return np.round(x / quantum) * quantum


def fp8_roundtrip(v):
    """Per-vector (last axis) e4m3 quantise-dequantise with a power-of-two (ue8m0) scale."""
    amax = np.maximum(np.abs(v).max(axis=-1, keepdims=True), 1e-4)
    mant, exp = np.frexp(amax / 448.0)
    scale = np.ldexp(1.0, exp - (mant == 0.5))  # 2**ceil(log2(amax / 448))
    return e4m3_round(np.clip(v / scale, -448.0, 448.0)) * scale


# ----------------------------------------------------------------------------- model


def Indexer(w, args, x, qr, cos, sin, mode):
    """Lightning indexer scores I[t, s] for all query/key pairs (spec 4.2-4.5), shape [T, T]."""
    T, nh, hd, dr = x.shape[0], args.index_n_heads, args.index_head_dim, args.qk_rope_head_dim
    q = linear(qr, w("indexer.wq_b.weight")).reshape(T, nh, hd).transpose(1, 0, 2)  # [nh, T, hd]
    q = np.concatenate([apply_rotary_emb(q[..., :dr], cos, sin, False), q[..., dr:]], axis=-1)
    k = layer_norm(linear(x, w("indexer.wk.weight")), w("indexer.k_norm.weight"), w("indexer.k_norm.bias"))
    k = np.concatenate([apply_rotary_emb(k[:, :dr], cos, sin, False), k[:, dr:]], axis=-1)
    if mode == "fp8":
        had = hadamard(hd)
        q, k = fp8_roundtrip(q @ had), fp8_roundtrip(k @ had)
    weights = linear(x, w("indexer.weights_proj.weight")) * nh ** -0.5  # [T, nh]
    relu = np.maximum(np.einsum("jtd,sd->jts", q, k), 0.0)
    return np.einsum("jts,tj->ts", relu, weights) * hd ** -0.5


def topk_mask(scores, k):
    """0 for the top-min(k, t+1) keys among 0..t of each query row, -inf elsewhere.
    Exact ties go to the lower position (stable sort)."""
    T = scores.shape[0]
    mask = np.full((T, T), -np.inf)
    for t in range(T):
        mask[t, np.argsort(-scores[t, : t + 1], kind="stable")[:k]] = 0.0
    return mask


def MLA(w, args, x, cos, sin, scale, indexer_mode):
    """Multi-head latent attention, naive (MHA) form, prefill from position 0 (spec 3)."""
    T, H = x.shape[0], args.n_heads
    dn, dr, dv, rkv = args.qk_nope_head_dim, args.qk_rope_head_dim, args.v_head_dim, args.kv_lora_rank
    if args.q_lora_rank:
        qr = rms_norm(linear(x, w("q_a_proj.weight")), w("q_a_layernorm.weight"), args.eps)
        q = linear(qr, w("q_b_proj.weight"))
    else:
        qr, q = None, linear(x, w("q_proj.weight"))
    q = q.reshape(T, H, dn + dr).transpose(1, 0, 2)  # [H, T, dn+dr]
    q_nope, q_pe = q[..., :dn], apply_rotary_emb(q[..., dn:], cos, sin, True)
    kv = linear(x, w("kv_a_proj_with_mqa.weight"))
    c_kv = rms_norm(kv[:, :rkv], w("kv_a_layernorm.weight"), args.eps)
    k_pe = apply_rotary_emb(kv[:, rkv:], cos, sin, True)  # [T, dr], shared by all heads
    wkv_b = w("kv_b_proj.weight").reshape(H, dn + dv, rkv)
    k_nope = np.einsum("hdr,sr->hsd", wkv_b[:, :dn], c_kv)
    v = np.einsum("hdr,sr->hsd", wkv_b[:, dn:], c_kv)
    scores = (np.einsum("htd,hsd->hts", q_nope, k_nope) + np.einsum("htd,sd->hts", q_pe, k_pe)) * scale
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    if indexer_mode is not None:
        mask = mask + topk_mask(Indexer(w, args, x, qr, cos, sin, indexer_mode), args.index_topk)
    o = np.einsum("hts,hsd->thd", softmax(scores + mask), v).reshape(T, H * dv)
    return linear(o, w("o_proj.weight"))


def MLP(w, prefix, x):
    """SwiGLU: down(silu(gate(x)) * up(x)); used for dense layers, shared and routed experts."""
    gate, up = linear(x, w(prefix + "gate_proj.weight")), linear(x, w(prefix + "up_proj.weight"))
    return linear(silu(gate) * up, w(prefix + "down_proj.weight"))


def Gate(w, args, x):
    """noaux_tc router (spec 5.2): returns expert ids [T, k] and combine weights [T, k]."""
    scores = 1.0 / (1.0 + np.exp(-linear(x, w("gate.weight"))))
    bias_name = "gate.e_score_correction_bias"
    biased = scores + (w(bias_name) if w.has(bias_name) else 0.0)
    T, G = x.shape[0], args.n_expert_groups
    if G > 1:
        grouped = biased.reshape(T, G, -1)
        group_scores = np.sort(grouped, axis=-1)[..., -2:].sum(axis=-1)
        keep = np.argsort(-group_scores, axis=-1, kind="stable")[:, : args.n_limited_groups]
        group_mask = np.full((T, G), -np.inf)
        np.put_along_axis(group_mask, keep, 0.0, axis=-1)
        biased = (grouped + group_mask[..., None]).reshape(T, -1)
    ids = np.argsort(-biased, axis=-1, kind="stable")[:, : args.n_activated_experts]
    weights = np.take_along_axis(scores, ids, axis=-1)
    if args.norm_topk_prob:
        weights = weights / (weights.sum(axis=-1, keepdims=True) + 1e-20)
    return ids, weights * args.route_scale


def MoE(w, args, x):
    ids, weights = Gate(w, args, x)
    y = MLP(w, "shared_experts.", x) if args.n_shared_experts else np.zeros_like(x)
    for e in np.unique(ids):
        rows, slot = np.nonzero(ids == e)
        y[rows] += weights[rows, slot, None] * MLP(w, f"experts.{e}.", x[rows])
    return y


class LayerWeights:
    """Name-scoped access to one layer's tensors, e.g. w("q_a_proj.weight")."""

    def __init__(self, ckpt, prefix):
        self.ckpt, self.prefix = ckpt, prefix

    def __call__(self, name):
        return self.ckpt.get(self.prefix + name)

    def has(self, name):
        return self.prefix + name in self.ckpt

    def scoped(self, sub):
        return LayerWeights(self.ckpt, self.prefix + sub)


def Block(ckpt, args, layer, h, cos, sin, scale, indexer_mode):
    w = LayerWeights(ckpt, f"model.layers.{layer}.")
    a = rms_norm(h, w("input_layernorm.weight"), args.eps)
    h = h + MLA(w.scoped("self_attn."), args, a, cos, sin, scale, indexer_mode)
    f = rms_norm(h, w("post_attention_layernorm.weight"), args.eps)
    if layer < args.n_dense_layers:
        return h + MLP(w.scoped("mlp."), "", f)
    return h + MoE(w.scoped("mlp."), args, f)


def Transformer(ckpt, args, tokens, indexer="exact", attention="sparse"):
    """Full-prefill logits [T, vocab] (float64) for tokens at positions 0..T-1."""
    indexer_mode = indexer if args.has_indexer and attention == "sparse" else None
    angles = np.outer(np.arange(len(tokens)), precompute_freqs(args))
    cos, sin, scale = np.cos(angles), np.sin(angles), softmax_scale(args)
    h = ckpt.get("model.embed_tokens.weight")[np.asarray(tokens)]
    for layer in range(args.n_layers):  # MTP layers (index >= n_layers) are never read
        h = Block(ckpt, args, layer, h, cos, sin, scale, indexer_mode)
    return linear(rms_norm(h, ckpt.get("model.norm.weight"), args.eps), ckpt.get("lm_head.weight"))


def load(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        args = ModelArgs.from_config(json.load(f))
    return Checkpoint(model_dir, args.block_size), args


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="checkpoint directory (HF layout)")
    p.add_argument("--tokens", required=True, help="comma-separated token ids")
    p.add_argument("--indexer", choices=["exact", "fp8"], default="exact")
    p.add_argument("--attention", choices=["sparse", "dense"], default="sparse")
    p.add_argument("--greedy", type=int, default=0, help="append N greedy tokens instead of prefill")
    p.add_argument("--out", help="write float32 logits here (.npy)")
    a = p.parse_args()
    if not (a.greedy or a.out):
        p.error("--out is required without --greedy")
    ckpt, args = load(a.model)
    tokens = [int(t) for t in a.tokens.split(",") if t.strip()]
    if a.greedy:
        generated, rows = [], []
        for _ in range(a.greedy):
            row = Transformer(ckpt, args, tokens + generated, a.indexer, a.attention)[-1]
            rows.append(row)
            generated.append(int(np.argmax(row)))
        logits = np.stack(rows)
        print(json.dumps({"generated": generated}))
    else:
        logits = Transformer(ckpt, args, tokens, a.indexer, a.attention)
    if a.out:
        np.save(a.out, logits.astype(np.float32))


if __name__ == "__main__":
    main()
