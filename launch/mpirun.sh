#!/usr/bin/env bash
# Runs `dsa` on this machine or across the hosts of a hostfile: by default one rank per NUMA node
# of each host, bound to that node's cores and memory, with that node's cores as worker threads
# (`dsa topology` shows the plan). One rank and no hostfile runs dsa directly: no MPI at all.
#
#   launch/mpirun.sh [-n RANKS] [--hostfile FILE] [--threads T] [--] DSA-ARGS...
#   e.g. launch/mpirun.sh generate --model /models/bench-mini --prompt "Hello"
#        launch/mpirun.sh -n 4 --hostfile cluster/hosts.example bench --preset bench-mini
#
# Settings come from the environment or from a file named by DSA_SETTINGS (see
# cluster/settings/example.env): DSA (binary, default .build/release/dsa), DSA_MPI_ARGS (extra
# mpirun options, e.g. the transport: "--mca btl tcp,self --mca btl_tcp_if_include eth0"),
# DSA_LAUNCH_AGENT (how mpirun reaches other hosts; default ssh that gives up on a host silent for
# 15 s, so a cut link ends the job instead of hanging it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ -z "${DSA_SETTINGS:-}" ] || . "$DSA_SETTINGS"
dsa=${DSA:-$here/.build/release/dsa}
ranks=""; hostfile=""; threads=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--ranks) ranks=$2; shift 2 ;;
    --hostfile) hostfile=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
ssh="ssh -o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3"
fail() { echo "launch/mpirun.sh: $*" >&2; exit 1; }
[ -x "$dsa" ] || fail "no dsa binary at $dsa (run launch/build.sh, or set DSA)"
[ -z "$ranks" ] || [ "$ranks" -ge 1 ] 2>/dev/null || fail "-n needs a positive number of ranks (got '$ranks')"
eval "$("$dsa" topology --plan)"  # sets ranks_per_host (one rank per NUMA node) and threads_per_rank
per_host=$ranks_per_host cores=$(nproc)

hosts=1
if [ -n "$hostfile" ]; then
  hosts=$("$here/launch/hosts.sh" "$hostfile" "$dsa")  # every host answers and has the binary
fi
ranks=${ranks:-$((per_host * hosts))}
if [ "$ranks" = 1 ] && [ -z "$hostfile" ]; then
  [ -z "$threads" ] || export DSA_THREADS=$threads
  exec "$dsa" "$@"
fi

args=(-np "$ranks")
[ "$(id -u)" != 0 ] || args+=(--allow-run-as-root)
[ -z "$hostfile" ] || args+=(--hostfile "$hostfile" --mca plm_rsh_agent "${DSA_LAUNCH_AGENT:-$ssh}")
on_host=$(( (ranks + hosts - 1) / hosts ))
if [ "$per_host" -gt 1 ] && [ "$on_host" = "$per_host" ]; then
  args+=(--map-by "ppr:1:numa" --bind-to numa)            # one rank per NUMA node, its cores and memory
elif [ "$on_host" -le "$cores" ]; then
  args+=(--map-by "ppr:$on_host:node:PE=$((cores / on_host))" --bind-to core)
else
  args+=(--oversubscribe --bind-to none); threads=${threads:-1}
fi
[ -z "$threads" ] || args+=(-x "DSA_THREADS=$threads")

# mpirun can wait forever for a daemon on a host that fell off the network after a rank ended the
# job ("dsa: rank …" on stderr): 10 s after such a message, the job is stopped here.
ended=$(mktemp -u /tmp/dsa-ended.XXXXXX)
watch() { while IFS= read -r line; do printf '%s\n' "$line" >&2; [[ $line != "dsa: rank "* ]] || touch "$ended"; done; }
# shellcheck disable=SC2086
mpirun "${args[@]}" ${DSA_MPI_ARGS:-} "$dsa" "$@" <&0 2> >(watch) &
job=$!
trap 'kill -TERM $job 2>/dev/null' INT TERM
while kill -0 $job 2>/dev/null; do
  if [ -e "$ended" ] && [ $(( $(date +%s) - $(stat -c %Y "$ended") )) -ge 10 ]; then
    echo "launch/mpirun.sh: mpirun had not ended 10 s after a rank ended the job (a host may be unreachable); stopped it" >&2
    kill -9 $job
  fi
  sleep 1
done
rm -f "$ended"
wait $job
