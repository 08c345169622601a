#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying cluster/*.sbatch without a real cluster
# (and for the test suite): installs Debian's Slurm and MUNGE packages if missing, then starts
# munged, slurmctld and slurmd with a configuration in $DSA_SLURM_DIR (default /tmp/dsa-slurm).
# Needs root. Afterwards: export SLURM_CONF=$DSA_SLURM_DIR/slurm.conf, then sbatch as usual.
#
#   cluster/local-slurm.sh start | stop
set -euo pipefail
dir=${DSA_SLURM_DIR:-/tmp/dsa-slurm}
export SLURM_CONF=$dir/slurm.conf
[ "$(id -u)" = 0 ] || { echo "cluster/local-slurm.sh: needs root (it starts slurmd and munged)" >&2; exit 1; }

stop() {  # and wait (up to 10 s) until the daemons have saved their state and exited
  local pids=() alive
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid; do [ -r "$pidfile" ] && pids+=("$(cat "$pidfile")"); done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -f "munged --socket $dir/munge.socket" 2>/dev/null || true
  for _ in $(seq 50); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.2
  done
}
[ "${1:-start}" = stop ] && { stop; exit 0; }

missing=()
for p in slurmctld slurmd slurm-client munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "local-slurm: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
stop
mkdir -p "$dir/state" "$dir/spool" && chmod 755 "$dir"
host=$(hostname -s) cpus=$(nproc) memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat >"$SLURM_CONF" <<CONF
ClusterName=dsa-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
[ -r /etc/munge/munge.key ] || mungekey --create --keyfile /etc/munge/munge.key
install -d -o munge -g munge "$dir/munge"
chown munge:munge "$dir"
runuser -u munge -- /usr/sbin/munged --socket "$dir/munge.socket" --pid-file "$dir/munge/munged.pid" \
  --log-file "$dir/munge/munged.log" --seed-file "$dir/munge/munged.seed"
slurmctld
slurmd
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && { echo "local-slurm: node $host up ($cpus CPUs); export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 1
done
echo "cluster/local-slurm.sh: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
