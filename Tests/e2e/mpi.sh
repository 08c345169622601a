#!/usr/bin/env bash
# Real mpirun runs of `dsa` (through launch/mpirun.sh): every rank count gives the single-process
# logits and tokens, in sparse and dense mode, with prompts longer than index_topk and spread over
# every rank's KV pages, including rank counts that do not divide the expert count; bad layouts
# are refused; a killed or stopped rank ends the job with a message within 30 s.
set -u
. Tests/e2e/lib.sh
RUN="launch/mpirun.sh"
export DSA

MODEL="$WORK/model"  # 16 experts (two shared, so cut over ranks), hidden 200, top-6 of up to 300 positions
$DSA make-model --preset tiny --seed 11 --out "$MODEL" --shards 2 --set hidden_size=200 --set n_routed_experts=16 \
  --set n_group=8 --set topk_group=3 --set num_experts_per_tok=3 --set index_topk=6 --set num_hidden_layers=4 --set first_k_dense_replace=2 \
  --set n_shared_experts=2 --set moe_intermediate_size=128 >/dev/null
TOKENS=$(python3 -c "print(','.join(str((i * 7919 + 13) % 1024) for i in range(300)))")

forward_matches() {  # forward_matches N OPTIONS...: N ranks equal one process
  local n=$1; shift
  $DSA forward --model "$MODEL" --tokens "$TOKENS" "$@" --out "$WORK/one.npy" 2>/dev/null &&
  $RUN -n "$n" forward --model "$MODEL" --tokens "$TOKENS" "$@" --out "$WORK/n$n.npy" 2>/dev/null &&
  same_npy "$WORK/one.npy" "$WORK/n$n.npy" 1e-4
}
generate_matches() {  # generate_matches N OPTIONS...: same greedy tokens
  local n=$1; shift
  local one many
  one=$($DSA generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 12 --ignore-eos "$@")
  many=$($RUN -n "$n" generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 12 --ignore-eos "$@")
  [ "$one" = "$many" ] && echo "tokens $many" || { echo "1 rank: $one; $n ranks: $many"; return 1; }
}
for n in 1 2 3 4; do check "mpirun -np $n forward (sparse, fp8 indexer, bf16 cache) = 1 process" forward_matches $n; done
check "mpirun -np 3 forward (dense) = 1 process" forward_matches 3 --attention dense
check "mpirun -np 2 forward (exact indexer, f32 cache) = 1 process" forward_matches 2 --indexer f32 --kv-cache f32
check "mpirun -np 3 chunked forward = 1 process" forward_matches 3 --chunk 70
for n in 2 3; do check "mpirun -np $n greedy generate = 1 process (sparse)" generate_matches $n; done
check "mpirun -np 3 greedy generate = 1 process (dense)" generate_matches 3 --attention dense
check "mpirun -np 2 sampled generate = 1 process (same seed)" generate_matches 2 --temperature 0.8 --seed 42
bench_counts_every_rank() {  # two ranks' roofline: the model's bytes per token once, plus the attention each rank reads
  $DSA bench --model "$MODEL" --prefill 8 --decode-batch 1 --decode-steps 2 --runs 1 --json >"$WORK/bench1.json" 2>/dev/null &&
  $RUN -n 2 bench --model "$MODEL" --prefill 8 --decode-batch 1 --decode-steps 2 --runs 1 --kernels --json >"$WORK/bench2.json" 2>/dev/null &&
  python3 - "$WORK/bench1.json" "$WORK/bench2.json" <<'EOF'
import json, sys
one, two = (json.load(open(f)) for f in sys.argv[1:])
model = one["decode_bytes_per_token"]
assert one["decode_bytes_per_token_one_process"] == model == two["decode_bytes_per_token_one_process"], (one, two)
assert two["decode_bytes_per_token"] > model, two
assert two["memory_bandwidth_gb_s"] > 0 and two["prefill"][0]["gflop_s"] > 0 and two["transport"] == "shared memory" and "transport" not in one, two
readings = two["memory_bandwidth_readings_gb_s"]
assert len(readings) == 2 and two["memory_bandwidth_gb_s"] == max(readings), readings
phases = two["decode"][0]["phases_ms_per_step"]  # per rank; the coordinator alone routes
assert len(phases) == 2 and all(p["projections"] > 0 and p["moe"] > 0 for p in phases) and phases[0]["routing"] > 0 and phases[1]["routing"] == 0, phases
loops = two["decode"][0]["parallel_loops_per_step"]  # per rank: the main thread's loops (none with one thread a rank), their time, its waits in them
assert len(loops) == 2 and all((l["loops"] > 0) == (two["threads"] > 1) and 0 <= l["waiting_ms"] <= l["in_loops_ms"] < 1e3 * max(two["decode"][0]["runs_step_s"]) for l in loops), (two["threads"], loops)
per_token = (two["decode"][0]["coordinator_bytes_sent_per_token"], two["decode"][0]["coordinator_bytes_received_per_token"])
assert all(b > 0 for b in per_token) and "coordinator_bytes_sent_per_token" in one["decode"][0], (per_token, one["decode"])
kernels = two["kernels"]
assert kernels["empty_loop_us"] > 0 and [k["format"] for k in kernels["matvec"]] == ["fp8"] * 6 + ["bf16"] and all(k["gb_s"] > 0 for k in kernels["matvec"]), kernels
assert [e["bytes"] for e in kernels["exchange"]] == [0, 8192, 65536, 262144] and all(e["us"] > 0 for e in kernels["exchange"]), kernels
assert [a["keys"] for a in kernels["attention"]] == [80, 2048] and 0 < kernels["attention"][0]["us"] < kernels["attention"][1]["us"], kernels
print(f"{model} B per token on one process, {two['decode_bytes_per_token']} B over 2 ranks; coordinator sent / received {per_token} B per token; {readings} GB/s read by both before and after;"
      f" empty loop {kernels['empty_loop_us']:.2f} us, matvec {[(k['format'], round(k['gb_s'], 1)) for k in kernels['matvec']]} GB/s, exchange {[round(e['us'], 1) for e in kernels['exchange']]} us")
EOF
}
check "mpirun -np 2 bench counts the model once and the attention per rank, reads the bandwidth twice, times the kernels and each rank's phases and loops" bench_counts_every_rank
mpi_alone() {  # DSA_SHARED_MEMORY=0: the exchanges stay on MPI, with the same logits
  DSA_SHARED_MEMORY=0 forward_matches 3 &&
  DSA_SHARED_MEMORY=0 $RUN -n 2 bench --model "$MODEL" --prefill "" --decode-batch 1 --decode-steps 2 --runs 1 --json 2>/dev/null |
    python3 -c 'import json, sys; r = json.load(sys.stdin); assert r["transport"] == "MPI", r; print("transport", r["transport"])'
}
check "mpirun -np 3 forward with DSA_SHARED_MEMORY=0 (exchanges over MPI) = 1 process" mpi_alone
one_memory() {  # ranks on one host and NUMA node report one memory (so they run each other's experts), over either transport
  local v ids
  for v in 1 0; do
    DSA_SHARED_MEMORY=$v $RUN -n 3 generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 2 --verbose 2>"$WORK/report" >/dev/null || { cat "$WORK/report"; return 1; }
    ids=$(memories "$WORK/report" | tr '\n' ' ')
    [ "$ids" = "0 " ] || { echo "memories: $ids"; cat "$WORK/report"; return 1; }
  done
  echo "3 ranks, memory 0, with and without shared-memory exchanges"
}
check "mpirun -np 3 on one host: one memory" one_memory
check "more ranks than experts is refused" fails_with "17 ranks but only 16 routed experts" $RUN -n 17 forward --model "$MODEL" --tokens 1,2 --out "$WORK/x.npy"

# A rank that dies or stops answering ends the job, with a message naming it, within 30 s.
fault() {  # fault SIGNAL EXPECTED-TEXT
  local signal=$1 text=$2 start victim rc
  start=$(date +%s)
  $RUN -n 3 generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 1000000 --max-context 200000 --ignore-eos --json \
    --rank-timeout 5 >"$WORK/fault.log" 2>&1 &
  local job=$!
  sleep 4
  victim=$(pgrep -f "$DSA generate --model $MODEL" | sort -n | tail -1)
  [ -n "$victim" ] || { echo "no rank to signal"; kill $job; return 1; }
  kill "-$signal" "$victim"
  local waited=0
  while kill -0 $job 2>/dev/null && [ $waited -lt 40 ]; do sleep 1; waited=$((waited + 1)); done
  if kill -0 $job 2>/dev/null; then echo "job still running after 40 s"; pkill -9 -f "$DSA generate --model $MODEL"; return 1; fi
  wait $job; rc=$?
  local elapsed=$(( $(date +%s) - start - 4 ))
  pkill -9 -f "$DSA generate --model $MODEL" && { echo "ranks left behind"; return 1; }
  grep -qF -- "$text" "$WORK/fault.log" || { echo "no '$text' in:"; cat "$WORK/fault.log"; return 1; }
  [ $rc -ne 0 ] && [ $elapsed -le 30 ] || { echo "rc $rc after $elapsed s"; return 1; }
  echo "ended in ${elapsed} s (rc $rc): $(grep -F -- "$text" "$WORK/fault.log" | head -1)"
}
check "a killed rank ends the job" fault KILL "exited on signal 9"
check "a stopped rank ends the job" fault STOP "stopped answering"
summary mpi
