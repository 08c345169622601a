#!/usr/bin/env bash
# Checks a hostfile before a job starts: every host answers through the launch agent (ssh by
# default, DSA_LAUNCH_AGENT otherwise) within 10 s and has the dsa binary at the same path.
# Prints the number of hosts; on a problem, names the host, the hostfile line and what to do.
#
#   launch/hosts.sh HOSTFILE DSA-BINARY
set -euo pipefail
hostfile=$1 dsa=$2
agent=${DSA_LAUNCH_AGENT:-ssh -o BatchMode=yes -o ConnectTimeout=8}
fail() { echo "launch/mpirun.sh: $*" >&2; exit 1; }
[ -r "$hostfile" ] || fail "cannot read hostfile $hostfile"
count=0 line=0
while read -r host _ || [ -n "${host:-}" ]; do
  line=$((line + 1))
  case "$host" in ''|'#'*) continue ;; esac
  count=$((count + 1))
  case "$host" in localhost|127.*|"$(hostname)"|"$(hostname -s)") continue ;; esac
  # shellcheck disable=SC2086
  if ! out=$(timeout 10 $agent "$host" true 2>&1 </dev/null); then
    fail "host $host ($hostfile line $line) did not answer through '$agent' within 10 s${out:+: $out}. Check the name, the network and that the agent (passwordless ssh) reaches it, or remove it from the hostfile."
  fi
  # shellcheck disable=SC2086
  timeout 10 $agent "$host" test -x "$dsa" </dev/null ||
    fail "host $host ($hostfile line $line) has no dsa binary at $dsa: install the same build at this path on every node (or use a shared filesystem)."
done <"$hostfile"
[ "$count" -gt 0 ] || fail "hostfile $hostfile names no hosts"
echo "$count"
