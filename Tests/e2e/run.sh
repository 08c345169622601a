#!/usr/bin/env bash
# End-to-end checks of the built `dsa` binary: checkpoints of shapes the unit tests never saw,
# compared with the independent NumPy reference (Tests/reference/deepseek_ref.py); Python's
# safetensors reading our checkpoints; the CLI's errors; the bench-mini mmap/memory check.
# Prints "N passed, M failed" and exits non-zero on any failure.
set -u
. Tests/e2e/lib.sh
REF=Tests/reference/deepseek_ref.py
# compare_ref DIR TOKENS NAME DSA_OPTS REF_OPTS: dsa forward (f32 cache) against the reference, 1e-3.
compare_ref() {
  local dir=$1 tokens=$2 name=$3 dopts=$4 ropts=$5
  $DSA forward --model "$dir" --tokens "$tokens" --kv-cache f32 $dopts --out "$WORK/$name-dsa.npy" >/dev/null 2>&1 &&
  python3 $REF --model "$dir" --tokens "$tokens" $ropts --out "$WORK/$name-ref.npy" >/dev/null &&
  python3 Tests/e2e/compare.py "$WORK/$name-dsa.npy" "$WORK/$name-ref.npy" 1e-3
}
greedy_ref() {
  local dir=$1 tokens=$2 n=$3
  local ours theirs
  ours=$($DSA generate --model "$dir" --tokens "$tokens" --max-tokens "$n" --ignore-eos --kv-cache f32 --indexer f32 --json |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')
  theirs=$(python3 $REF --model "$dir" --tokens "$tokens" --greedy "$n" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')
  [ "$ours" = "$theirs" ] && echo "greedy $ours" || { echo "dsa $ours != reference $theirs"; return 1; }
}

TOKENS=$(seq -s, 3 41 1000 | cut -d, -f1-24)
# 1. Unseen shapes: hidden 200 (not a multiple of 128), 2 dense layers, 16 experts in 8 groups, 3 shards.
ODD="$WORK/odd"
$DSA make-model --preset tiny --seed 5 --out "$ODD" --shards 3 --set hidden_size=200 --set num_hidden_layers=4 \
  --set first_k_dense_replace=2 --set n_routed_experts=16 --set n_group=8 --set topk_group=3 --set num_experts_per_tok=3 \
  --set intermediate_size=300 --set moe_intermediate_size=72 --set index_topk=6 --set kv_lora_rank=40 >/dev/null
check "odd shapes, exact indexer vs reference" compare_ref "$ODD" "$TOKENS" odd-exact "--indexer f32" "--indexer exact"
check "odd shapes, fp8 indexer vs reference" compare_ref "$ODD" "$TOKENS" odd-fp8 "--indexer fp8" "--indexer fp8"
check "odd shapes, dense attention vs reference" compare_ref "$ODD" "$TOKENS" odd-dense "--attention dense" "--attention dense"
check "odd shapes, greedy tokens equal reference" greedy_ref "$ODD" "$TOKENS" 8
check "odd shapes, readable by Python safetensors" python3 Tests/reference/check_safetensors.py "$ODD"
# Attention shapes in whole 128-blocks (nope, v, kv_lora 128): the absorbed K/V up-projections stay FP8.
ALIGNED="$WORK/aligned"
$DSA make-model --preset tiny --seed 7 --out "$ALIGNED" --set hidden_size=128 --set num_attention_heads=2 --set num_key_value_heads=2 \
  --set qk_nope_head_dim=128 --set v_head_dim=128 --set kv_lora_rank=128 --set q_lora_rank=128 >/dev/null
check "128-aligned attention (FP8 K/V up-projections) vs reference" compare_ref "$ALIGNED" "$TOKENS" aligned "--indexer f32" "--indexer exact"
# 2. The real 129280 vocabulary, a DeepSeek-V3 (no indexer) checkpoint, 2 shards.
V3="$WORK/v3"
$DSA make-model --preset tiny --seed 9 --arch v3 --out "$V3" --shards 2 --set vocab_size=129280 --set hidden_size=96 >/dev/null
check "deepseek_v3, vocab 129280 vs reference" compare_ref "$V3" "0,129279,128803,77,5000,1" v3 "" ""
# 3. Errors: one clear message and a non-zero exit.
same_without_prefetch() {  # prefetching the next loops' weights never changes what they compute
  $DSA forward --model "$ODD" --tokens "$TOKENS" --chunk 1 --threads 2 --out "$WORK/prefetch.npy" &&
  $DSA forward --model "$ODD" --tokens "$TOKENS" --chunk 1 --threads 2 --prefetch-kb 0 --out "$WORK/no-prefetch.npy" &&
  same_npy "$WORK/prefetch.npy" "$WORK/no-prefetch.npy" 0
}
check "odd shapes, one token a step: logits with the prefetch = without" same_without_prefetch
check "negative --prefetch-kb" fails_with "--prefetch-kb must be 0" $DSA forward --model "$ODD" --tokens 1 --prefetch-kb=-1 --out "$WORK/x.npy"
check "missing model directory" fails_with "config.json" $DSA forward --model "$WORK/nope" --tokens 1 --out "$WORK/x.npy"
check "token id out of range" fails_with "token id 1024 at index 1" $DSA forward --model "$ODD" --tokens 1,1024 --out "$WORK/x.npy"
check "malformed --tokens" fails_with "comma-separated integers" $DSA generate --model "$ODD" --tokens 1,x
check "unknown preset" fails_with "unknown preset" $DSA make-model --preset huge --out "$WORK/huge"
# 4. bench-mini (about 5 GB): mmap start-up and resident memory within the checkpoint size.
if [ "${DSA_SKIP_BENCH_MINI:-0}" != 1 ]; then
  MINI="$WORK/bench-mini"
  $DSA make-model --preset bench-mini --out "$MINI" >/dev/null
  bench_mini_memory() {
    local size log rss load
    size=$(du -sk "$MINI" | cut -f1)
    log=$( { /usr/bin/time -f "RSS_KB=%M" $DSA forward --model "$MINI" --tokens 1,2,3,4,5,6,7,8 --out "$WORK/mini.npy"; } 2>&1)
    rss=$(grep -o 'RSS_KB=[0-9]*' <<<"$log" | cut -d= -f2)
    load=$(grep -o 'load_s=[0-9.]*' <<<"$log" | cut -d= -f2)
    echo "checkpoint $((size / 1024)) MiB, max RSS $((rss / 1024)) MiB, load ${load} s"
    python3 -c "import sys; sys.exit(0 if $rss <= $size + 300*1024 and $load < 10 else 1)"
  }
  check "bench-mini: load in seconds, RSS <= checkpoint + 300 MiB" bench_mini_memory
fi
summary e2e
