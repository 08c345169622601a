#!/usr/bin/env bash
# Runs `dsa` over N MPI ranks on this machine or across a hostfile, with threads per rank from
# the cores available and ranks bound sensibly; N = 1 runs dsa directly (no launcher at all).
#
#   launch/mpirun.sh [-n N] [--hostfile FILE] [--] DSA-ARGS...
#   e.g. launch/mpirun.sh -n 4 generate --model /models/bench-mini --tokens 1,2,3
#
# Environment: DSA (binary, default .build/release/dsa), DSA_MPI_ARGS (extra mpirun options,
# e.g. "--mca btl_tcp_if_include eth0").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dsa=${DSA:-$here/.build/release/dsa}
ranks=1; hostfile=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--ranks) ranks=$2; shift 2 ;;
    --hostfile) hostfile=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[ -x "$dsa" ] || { echo "launch/mpirun.sh: no dsa binary at $dsa (run launch/build.sh)" >&2; exit 1; }
cores=$(nproc)
if [ "$ranks" = 1 ] && [ -z "$hostfile" ]; then exec "$dsa" "$@"; fi

args=(-np "$ranks")
[ "$(id -u)" = 0 ] && args+=(--allow-run-as-root)
if [ -n "$hostfile" ]; then
  [ -r "$hostfile" ] || { echo "launch/mpirun.sh: cannot read hostfile $hostfile" >&2; exit 1; }
  args+=(--hostfile "$hostfile" --map-by ppr:1:numa --bind-to numa)
  threads=0  # each rank uses the cores of its NUMA domain
elif [ "$ranks" -le "$cores" ]; then
  per=$((cores / ranks))
  args+=(--map-by "slot:PE=$per" --bind-to core)
  threads=$per
else
  args+=(--oversubscribe --bind-to none)
  threads=1
fi
[ "$threads" -gt 0 ] && args+=(-x "DSA_THREADS=$threads")
# shellcheck disable=SC2086
exec mpirun "${args[@]}" ${DSA_MPI_ARGS:-} "$dsa" "$@"
