#!/usr/bin/env bash
# The standard benchmark set, built in release mode: bench-mini prefill, decode, per-loop and kernel timings (1 rank, decode
# with the LM head re-encoded as FP8, then decode and exchange timings on 2 ranks) and bench-longctx long-context
# decode, sparse vs dense. Checkpoints are made once under $DSA_HOME/models; JSON results go to
# bench-results/ (RUNS=N for more runs).
set -euo pipefail
cd "$(dirname "$0")/.."
launch/build.sh
dsa=.build/release/dsa runs=${RUNS:-3}
mkdir -p bench-results
$dsa bench --preset bench-mini --prefill 128,512,2048 --decode-batch 1,8,32 --runs "$runs" --kernels --loops --json | tee bench-results/bench-mini.json
$dsa bench --preset bench-mini --prefill "" --decode-batch 1 --runs "$runs" --lm-head-fp8 --json | tee bench-results/bench-mini-lm-head-fp8.json
launch/mpirun.sh -n 2 bench --preset bench-mini --prefill "" --decode-batch 1,8 --runs "$runs" --kernels --json | tee bench-results/bench-mini-np2.json
$dsa bench --preset bench-longctx --prefill "" --decode-batch 1 --contexts 4096,16384,32768,65536,131072 --runs "$runs" --json \
  | tee bench-results/bench-longctx.json
