#!/usr/bin/env python3
"""Cross-check deepseek_ref.py's own safetensors reader against the official `safetensors` library.

  pip install safetensors ml_dtypes
  python3 check_safetensors.py CHECKPOINT_DIR

Every tensor of every file (MTP layers included) is loaded with `safetensors.safe_open(...,
framework="numpy")` and compared with deepseek_ref.Checkpoint: same names, dtype and shape,
bit-identical values (NaN == NaN), and each FP8 weight dequantised block by block here
(fp8 value x weight_scale_inv of its block, edge blocks partial) must equal Checkpoint.get().
Exits 1 with a message on the first kind of mismatch found.

safetensors' numpy backend resolves the dtypes BF16 and F8_E4M3 as the attributes
numpy.bfloat16 and numpy.float8_e4m3fn, which numpy does not have (get_tensor raises
"data type 'bfloat16' not understood" / "module 'numpy' has no attribute 'float8_e4m3fn'").
ml_dtypes provides both types; registering them under those names makes safe_open return
ml_dtypes arrays, which widen exactly to float64.
"""
import json
import os
import sys

import ml_dtypes
import numpy as np
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_ref  # noqa: E402

np.bfloat16 = ml_dtypes.bfloat16
np.float8_e4m3fn = ml_dtypes.float8_e4m3fn


def checkpoint_files(model_dir):
    """{file: [tensor names the index assigns to it] or None when there is no index}."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if not os.path.exists(index):
        return {"model.safetensors": None}
    with open(index) as f:
        weight_map = json.load(f)["weight_map"]
    files = {}
    for name, file in weight_map.items():
        files.setdefault(file, []).append(name)
    return files


def dequant_blockwise(w, scale, block):
    out = np.empty(w.shape, dtype=np.float64)
    bo, bi = block
    for i in range(scale.shape[0]):
        for j in range(scale.shape[1]):
            rows, cols = slice(i * bo, (i + 1) * bo), slice(j * bi, (j + 1) * bi)
            out[rows, cols] = w[rows, cols].astype(np.float64) * np.float64(scale[i, j])
    return out


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    model_dir = sys.argv[1]
    ckpt, args = deepseek_ref.load(model_dir)
    errors = []

    lut = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    if not np.array_equal(lut, deepseek_ref.E4M3, equal_nan=True):
        errors.append("e4m3 lookup table differs from ml_dtypes.float8_e4m3fn")

    seen, n_fp8 = set(), 0
    for file, indexed in checkpoint_files(model_dir).items():
        with safe_open(os.path.join(model_dir, file), framework="numpy") as f:
            names = list(f.keys())
            if indexed is not None and set(indexed) - set(names):
                errors.append(f"{file}: index lists tensors missing from the file: {sorted(set(indexed) - set(names))[:5]}")
            tensors = {name: f.get_tensor(name) for name in names}
            dtypes = {name: f.get_slice(name).get_dtype() for name in names}
        for name, t in tensors.items():
            seen.add(name)
            if name not in ckpt:
                errors.append(f"{name}: not found by deepseek_ref")
                continue
            _, _, dtype, shape, _ = ckpt.entries[name]
            if dtype != dtypes[name] or list(shape) != list(t.shape):
                errors.append(f"{name}: deepseek_ref sees {dtype}{shape}, safetensors {dtypes[name]}{list(t.shape)}")
                continue
            if not np.array_equal(ckpt.raw(name), t.astype(np.float64), equal_nan=True):
                errors.append(f"{name}: raw values differ")
            scale_name = name[: -len("weight")] + "weight_scale_inv"
            if dtype == "F8_E4M3" and scale_name in ckpt:
                n_fp8 += 1
                with safe_open(ckpt.entries[scale_name][0], framework="numpy") as f:
                    scale = f.get_tensor(scale_name)
                if not np.array_equal(ckpt.get(name), dequant_blockwise(t, scale, ckpt.block_size), equal_nan=True):
                    errors.append(f"{name}: dequantised values differ")
            elif dtype == "F8_E4M3":
                errors.append(f"{name}: FP8 tensor without {scale_name}")
    if set(ckpt.entries) - seen:
        errors.append(f"deepseek_ref lists tensors safetensors did not: {sorted(set(ckpt.entries) - seen)[:5]}")

    if errors:
        print("\n".join(f"MISMATCH {e}" for e in errors), file=sys.stderr)
        raise SystemExit(1)
    print(f"ok: {len(seen)} tensors in {model_dir} load identically, {n_fp8} FP8 weights dequantise identically "
          f"(block {ckpt.block_size[0]}x{ckpt.block_size[1]}, {args.n_layers} model layers)")


if __name__ == "__main__":
    main()
