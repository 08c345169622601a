#!/usr/bin/env bash
# Decode and prefill speed of dsa against llama.cpp on the same model and thread count: bench-mini
# (DeepSeek-V3.2 shapes, random weights) as our FP8 checkpoint and as a GGUF of llama.cpp's
# `deepseek32` architecture (MLA + DSA lightning indexer) in Q8_0.
# llama.cpp's source comes from the llama-cpp-python sdist on PyPI (vendor/llama.cpp), built in
# .build-llamacpp/ (CPU backend, -march=native) with the GGUF kept beside it; each step is skipped
# when its output exists. Needs the release dsa (launch/build.sh).
# THREADS=N (default: nproc), RUNS=N (default 3), LLAMA_CPP_PYTHON=version; offline: LLAMA_CPP_SRC=a
# llama.cpp source tree (skips the download), DSA=binary, LLAMA_BENCH_ARGS (e.g. "--repack 0" where
# llama.cpp's AMX repacking aborts), LOAD_WAIT=seconds to wait for a quiet machine (default 300).
# dsa runs twice: with the checkpoint's bf16 LM head, and with --lm-head-fp8 (8-bit like the GGUF's
# Q8_0 output tensor). Prints a table; writes bench-results/compare-llamacpp.json.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${LLAMA_CPP_PYTHON:-0.3.36} threads=${THREADS:-$(nproc)} runs=${RUNS:-3}
dsa=${DSA:-.build/release/dsa} work=.build-llamacpp
src=${LLAMA_CPP_SRC:-$work/llama-cpp-python-$version/vendor/llama.cpp} bench=$work/build-$version/bin/llama-bench
model=${DSA_HOME:-$HOME/.cache/swiftdsa}/models/preset-bench-mini gguf=$work/models/bench-mini-q8_0.gguf
[ -x $dsa ] || { echo "no $dsa: run launch/build.sh first"; exit 1; }
mkdir -p $work bench-results

# 1. llama.cpp: source from PyPI, then llama-bench alone
if [ ! -d "$src" ]; then  # the sdist itself, from PyPI's simple index (`pip download` would first build its metadata)
  python3 - "$version" "$work" <<'EOF'
import json, sys, urllib.request
version, work = sys.argv[1:]
index = urllib.request.Request("https://pypi.org/simple/llama-cpp-python/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
name = f"llama_cpp_python-{version}.tar.gz"
url = next((f["url"] for f in json.load(urllib.request.urlopen(index))["files"] if f["filename"] == name), None)
if url is None: sys.exit(f"launch/compare-llamacpp.sh: PyPI has no {name} (set LLAMA_CPP_PYTHON to a published version)")
urllib.request.urlretrieve(url, f"{work}/{name}")
EOF
  tar xzf "$work/llama_cpp_python-$version.tar.gz" -C $work
  mv "$work/llama_cpp_python-$version" "$work/llama-cpp-python-$version"
fi
if [ ! -x "$bench" ]; then
  command -v cmake >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null; }
  cmake -S "$src" -B "$work/build-$version" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF >/dev/null
  nice -n 19 cmake --build "$work/build-$version" --target llama-bench -j"$(nproc)"
fi

# 2. the model: our checkpoint (shared with `dsa bench --preset bench-mini`), then its GGUF
if [ ! -f "$model/config.json" ]; then
  nice -n 19 $dsa make-model --preset bench-mini --out "$model.partial-$$" && mv "$model.partial-$$" "$model"
fi
if [ ! -f "$gguf" ]; then
  python3 -c "import numpy, yaml, tqdm, requests" 2>/dev/null || python3 -m pip install -q numpy pyyaml tqdm requests
  tokenizer=$model; [ -f "$model/tokenizer.json" ] || tokenizer=Sources/Tokenizer/Resources/deepseek-v3
  mkdir -p "$(dirname "$gguf")"
  nice -n 19 env PYTHONPATH="$src/gguf-py" python3 Tests/reference/dsa_to_gguf.py "$model" "$gguf" --tokenizer "$tokenizer" >/dev/null
fi

# 3. both benchmarks, one after the other (other work on the machine skews them: the load averages are kept)
for _ in $(seq $(( ${LOAD_WAIT:-300} / 5 ))); do awk '{exit !($1 < 0.5)}' /proc/loadavg && break; sleep 5; done  # a quiet machine
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "dsa bench ($threads threads)…" >&2
$dsa bench --model "$model" --prefill 512 --decode-batch 1 --decode-steps 32 --runs "$runs" --threads "$threads" --json \
  > bench-results/dsa-bench-mini.json
$dsa bench --model "$model" --prefill "" --decode-batch 1 --decode-steps 32 --runs "$runs" --threads "$threads" --lm-head-fp8 --json \
  > bench-results/dsa-bench-mini-fp8head.json
echo "llama-bench ($threads threads)…" >&2
"$bench" -m "$gguf" -t "$threads" -p 512 -n 32 -r "$runs" ${LLAMA_BENCH_ARGS:-} -o json > bench-results/llamacpp-bench-mini.json

python3 - "$version" "$threads" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, statistics, sys
dsa = json.load(open("bench-results/dsa-bench-mini.json"))
fp8head = json.load(open("bench-results/dsa-bench-mini-fp8head.json"))
llama = json.load(open("bench-results/llamacpp-bench-mini.json"))
def llama_median(prompt, gen):  # median over llama-bench's runs of one test
    return next(statistics.median(t["samples_ts"]) for t in llama if t["n_prompt"] == prompt and t["n_gen"] == gen)
rows = {"decode tok/s (batch 1)": (dsa["decode_tokens_per_s"], llama_median(0, 32)),
        "  with --lm-head-fp8": (fp8head["decode_tokens_per_s"], llama_median(0, 32)),
        "prefill-512 tok/s": (dsa["prefill_tokens_per_s"], llama_median(512, 0))}
print(f"bench-mini, {sys.argv[2]} threads; llama.cpp {llama[0]['build_commit']} (llama-cpp-python {sys.argv[1]}), Q8_0 GGUF; "
      f"load average {sys.argv[3]} before, {sys.argv[4]} after")
print(f"{'':24}{'dsa':>10}{'llama.cpp':>12}{'dsa/llama.cpp':>15}")
for name, (ours, theirs) in rows.items():
    print(f"{name:24}{ours:10.2f}{theirs:12.2f}{ours / theirs:15.2f}")
out = {"model": "bench-mini", "threads": int(sys.argv[2]), "llama_cpp_python": sys.argv[1],
       "llama_cpp_commit": llama[0]["build_commit"], "gguf_type": "Q8_0", "arch": "deepseek32",
       "loadavg_before": sys.argv[3], "loadavg_after": sys.argv[4],
       **{key: {"dsa": ours, "llama_cpp": theirs, "ratio": ours / theirs} for key, (ours, theirs) in
          zip(["decode_tokens_per_s", "decode_lm_head_fp8_tokens_per_s", "prefill512_tokens_per_s"], rows.values())},
       "dsa_bench": dsa, "dsa_bench_lm_head_fp8": fp8head, "llama_bench": llama}
json.dump(out, open("bench-results/compare-llamacpp.json", "w"), indent=1)
EOF
