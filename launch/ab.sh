#!/usr/bin/env bash
# Two dsa binaries on the same benchmark, interleaved (A, B, A, B, …) so that a noisy machine
# drifts on both alike; prints each round and the medians of B / A. RANKS=N runs each under
# launch/mpirun.sh -n N.
#
#   launch/ab.sh OLD-DSA NEW-DSA [ROUNDS] -- BENCH-ARGS...
#   e.g. launch/ab.sh /tmp/dsa-old .build/release/dsa 4 -- --preset bench-mini --prefill 512 --decode-batch 1
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: launch/ab.sh OLD-DSA NEW-DSA [ROUNDS] -- BENCH-ARGS..." >&2; exit 2; }
a=$1 b=$2; shift 2
rounds=3; [ "$1" = "--" ] || { rounds=$1; shift; }
[ "${1:-}" = "--" ] && shift
for dsa in "$a" "$b"; do [ -x "$dsa" ] || { echo "launch/ab.sh: no executable $dsa" >&2; exit 1; }; done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  for side in A B; do
    dsa=$a; [ $side = B ] && dsa=$b
    if [ -n "${RANKS:-}" ]; then DSA=$dsa launch/mpirun.sh -n "$RANKS" bench "$@" --json > "$out/$side$round.json"
    else "$dsa" bench "$@" --json > "$out/$side$round.json"; fi
  done
done
python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def figures(side, r):
    d = json.load(open(f"{out}/{side}{r}.json"))
    f = {f"prefill {p['tokens']}": p["tokens_per_s"] for p in d["prefill"]}
    f.update({f"decode batch {x['batch']}": x["tokens_per_s"] for x in d["decode"]})
    return f
runs = {side: [figures(side, r) for r in range(1, rounds + 1)] for side in "AB"}
for name in runs["A"][0]:
    a = [f[name] for f in runs["A"]]; b = [f[name] for f in runs["B"]]
    print(f"{name:16} A {' '.join(f'{x:8.2f}' for x in a)}   B {' '.join(f'{x:8.2f}' for x in b)}   "
          f"median B/A {statistics.median(b) / statistics.median(a):.3f}  (rounds {min(y / x for x, y in zip(a, b)):.3f}–{max(y / x for x, y in zip(a, b)):.3f})")
EOF
