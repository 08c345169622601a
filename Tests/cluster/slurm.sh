#!/usr/bin/env bash
# The batch scripts users copy, run by a real Slurm: a one-node slurmctld + slurmd on this
# machine (cluster/local-slurm.sh), `sbatch --wait` of cluster/generate.sbatch over 2 ranks
# (srun with PMIx, and mpirun inside the allocation) must give the completions of one process
# line by line; cluster/bench.sbatch must leave its JSON; a job without its prompts file fails
# with a message naming it.
set -u
. Tests/e2e/lib.sh
export DSA_SLURM_DIR=/tmp/dsa-slurm-test.$$ SLURM_CONF=/tmp/dsa-slurm-test.$$/slurm.conf
trap 'cluster/local-slurm.sh stop; rm -rf "$WORK" "$DSA_SLURM_DIR"' EXIT
cluster/local-slurm.sh start || exit 1

python3 - "$WORK/prompts.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(12):
        line = {"id": f"p{i}", "max_tokens": 6 + i % 4, "temperature": 0.0 if i % 2 else 0.7, "seed": i}
        if i % 3 == 0:
            line["messages"] = [{"role": "user", "content": f"What is {i} times {i}?"}]
        else:
            line["prompt"] = f"Item {i}: the cluster said"
        f.write(json.dumps(line) + "\n")
PY
$DSA generate --input "$WORK/prompts.jsonl" --output "$WORK/one.jsonl" 2>/dev/null

sbatch_generate() {  # sbatch_generate LAUNCHER: 2 ranks, completions equal one process
  local out="$WORK/$1.jsonl" log="$WORK/$1.log"
  DSA_LAUNCHER=$1 sbatch --wait --ntasks-per-node 2 --cpus-per-task 1 --output "$log" \
    cluster/generate.sbatch "$WORK/prompts.jsonl" "$out" --verbose >/dev/null || { echo "job failed:"; tail -20 "$log"; return 1; }
  grep -q "2 rank(s)" "$log" && grep -qE "^ +1  " "$log" || { echo "not 2 ranks:"; cat "$log"; return 1; }
  cmp -s "$out" "$WORK/one.jsonl" || { echo "completions differ from one process"; diff "$out" "$WORK/one.jsonl" | head; return 1; }
  echo "$(wc -l <"$out") completions over 2 ranks ($1) = one process"
}
check "sbatch generate.sbatch, srun --mpi=pmix, 2 ranks" sbatch_generate srun
check "sbatch generate.sbatch, mpirun in the allocation, 2 ranks" sbatch_generate mpirun

sbatch_bench() {
  local log="$WORK/bench.log" id
  id=$(sbatch --parsable --wait --ntasks-per-node 2 --cpus-per-task 1 --output "$log" \
    cluster/bench.sbatch --preset tiny --prefill 32 --decode-batch 1 --runs 1) || { tail -20 "$log"; return 1; }
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r['ranks'] == 2 and r['decode_tokens_per_s'] > 0, r; print('bench over', r['ranks'], 'ranks:', round(r['decode_tokens_per_s'], 1), 'decode tokens/s')" \
    "bench-results/bench-$id.json" && rm -f "bench-results/bench-$id.json"
}
check "sbatch bench.sbatch writes its JSON" sbatch_bench

missing_prompts() {
  sbatch --wait --output "$WORK/missing.log" cluster/generate.sbatch "$WORK/nope.jsonl" "$WORK/x.jsonl" >/dev/null && return 1
  grep -F "cannot read the prompts file $WORK/nope.jsonl" "$WORK/missing.log"
}
check "a job without its prompts file fails, naming it" missing_prompts
summary slurm
