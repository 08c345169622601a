#!/usr/bin/env bash
# Multi-host MPI on one machine: three "hosts" h1..h3, each a network namespace with its own
# hostname and address, joined by veth links to a bridge; mpirun runs on h1 and reaches h2 and h3
# over TCP through Tests/cluster/netns-agent.sh instead of ssh. A generate spread over the hosts
# must equal one process; a cut link or a killed host must end the job with a message within
# 30 s; an unreachable host, a host without the model or with another dsa build must be refused
# before the job starts, naming the host.
set -u
. Tests/e2e/lib.sh
export DSA=$PWD/$DSA NETNS_TEST_DIR=$WORK DSA_LAUNCH_AGENT=$PWD/Tests/cluster/netns-agent.sh
export DSA_MPI_ARGS="--mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24"
HOSTS="h1 h2 h3"

teardown() {
  for h in $HOSTS; do ip netns pids "dsa-$h" 2>/dev/null | xargs -r kill -9; ip netns del "dsa-$h" 2>/dev/null; rm -rf "/etc/netns/dsa-$h"; done
  ip netns del dsa-switch 2>/dev/null
  rm -rf "$WORK"
}
trap teardown EXIT
teardown 2>/dev/null; WORK=$NETNS_TEST_DIR; mkdir -p "$WORK"
ip netns add dsa-switch
ip -n dsa-switch link add br0 type bridge && ip -n dsa-switch link set br0 up
i=0
for h in $HOSTS; do
  i=$((i + 1))
  ip netns add "dsa-$h"
  ip link add "dsa-$h" type veth peer name "port-$h"
  ip link set "dsa-$h" netns "dsa-$h"
  ip link set "port-$h" netns dsa-switch
  ip -n dsa-switch link set "port-$h" master br0 up
  ip -n "dsa-$h" link set "dsa-$h" name eth0
  ip -n "dsa-$h" addr add "10.77.0.$i/24" dev eth0
  ip -n "dsa-$h" link set eth0 up && ip -n "dsa-$h" link set lo up
done
for h in $HOSTS; do
  mkdir -p "/etc/netns/dsa-$h"
  { echo "127.0.0.1 localhost"; echo "10.77.0.1 h1"; echo "10.77.0.2 h2"; echo "10.77.0.3 h3"; echo "10.77.0.4 h4"; } >"/etc/netns/dsa-$h/hosts"
done
printf 'h1\nh2\nh3\n' >"$WORK/hosts"

on_h1() {  # on_h1 COMMAND...: runs a command on host h1 (where mpirun starts)
  ip netns exec dsa-h1 unshare --uts bash -c 'hostname h1; exec "$@"' on_h1 "$@"
}

MODEL="$WORK/model"  # 16 experts, a 300-token prompt over index_topk 6
$DSA make-model --preset tiny --seed 11 --out "$MODEL" --set hidden_size=200 --set n_routed_experts=16 \
  --set n_group=8 --set topk_group=3 --set num_experts_per_tok=3 --set index_topk=6 >/dev/null
TOKENS=$(python3 -c "print(','.join(str((i * 7919 + 13) % 1024) for i in range(300)))")

spread_equals_one() {  # greedy tokens and logits across the 3 hosts equal one process
  local one many
  one=$($DSA generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 12 --ignore-eos)
  many=$(on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 12 --ignore-eos --verbose 2>"$WORK/report")
  [ "$one" = "$many" ] || { echo "1 process: $one; 3 hosts: $many"; return 1; }
  for h in $HOSTS; do grep -q "^ *[0-9]  $h " "$WORK/report" || { echo "no rank on $h:"; cat "$WORK/report"; return 1; }; done
  [ "$(memories "$WORK/report" | wc -l)" = 3 ] || { echo "not three memories:"; cat "$WORK/report"; return 1; }
  $DSA forward --model "$MODEL" --tokens "$TOKENS" --out "$WORK/one.npy" 2>/dev/null &&
    on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" forward --model "$MODEL" --tokens "$TOKENS" --out "$WORK/hosts.npy" 2>/dev/null &&
    same_npy "$WORK/one.npy" "$WORK/hosts.npy" 0 >/dev/null || { echo "logits differ"; return 1; }
  echo "3 ranks on h1, h2, h3 (three memories): tokens $many, logits bit-identical"
}
check "generate across 3 hosts over TCP = 1 process" spread_equals_one

fault() {  # fault ACTION EXPECTED-TEXT: ACTION on h3 mid-run ends the job with the text within 30 s
  local action=$1 text=$2 start rc waited=0
  on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" generate --model "$MODEL" --tokens "$TOKENS" --max-tokens 1000000 \
    --max-context 200000 --ignore-eos --json --rank-timeout 5 >"$WORK/fault.log" 2>&1 &
  local job=$! h
  for h in $HOSTS; do  # until every host runs its rank
    until ip netns pids "dsa-$h" | xargs -r ps -o comm= -p | grep -q '^dsa$'; do sleep 0.5; kill -0 $job || { cat "$WORK/fault.log"; return 1; }; done
  done
  sleep 2
  start=$(date +%s)
  eval "$action"
  while kill -0 $job 2>/dev/null && [ $waited -lt 45 ]; do sleep 1; waited=$((waited + 1)); done
  local elapsed=$(( $(date +%s) - start ))
  if kill -0 $job 2>/dev/null; then echo "job still running after 45 s"; ps -ef --forest | grep -E "dsa|mpirun|orted" | grep -v grep; tail -5 "$WORK/fault.log"; return 1; fi
  wait $job; rc=$?
  echo "rc $rc after $elapsed s" >>"$WORK/fault.log"
  grep -qF -- "$text" "$WORK/fault.log" || { echo "no '$text' in:"; head -12 "$WORK/fault.log"; return 1; }
  [ $rc -ne 0 ] && [ $elapsed -le 30 ] || { echo "rc $rc after $elapsed s"; return 1; }
  echo "ended in $elapsed s (rc $rc): $(grep -F -- "$text" "$WORK/fault.log" | head -1)"
}
check "a cut link to h3 ends the job" fault "ip -n dsa-h3 link set eth0 down" "rank 2 stopped answering"
ip -n dsa-h3 link set eth0 up; ip netns pids dsa-h3 | xargs -r kill -9
check "killing h3's processes ends the job" fault "ip netns pids dsa-h3 | xargs -r kill -9" "lost communication with a remote daemon"

printf 'h1\nh2\nh4\n' >"$WORK/unreachable"
check "an unreachable host is refused" fails_with "host h4 ($WORK/unreachable line 3) did not answer" \
  on_h1 launch/mpirun.sh --hostfile "$WORK/unreachable" generate --model "$MODEL" --tokens 1,2 --max-tokens 2
echo "tmpfs $MODEL" >"$WORK/h3.mounts"
check "a host without the model is refused" fails_with "rank 2 on host h3: no checkpoint at $MODEL" \
  on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" generate --model "$MODEL" --tokens 1,2 --max-tokens 2
cp "$DSA" "$WORK/other-dsa" && printf 'x' >>"$WORK/other-dsa"
echo "$WORK/other-dsa $DSA" >"$WORK/h3.mounts"
check "a host with another dsa build is refused" fails_with "rank 2 on host h3 runs a different dsa binary" \
  on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" generate --model "$MODEL" --tokens 1,2 --max-tokens 2
echo "tmpfs $(dirname "$DSA")" >"$WORK/h3.mounts"
check "a host without the dsa binary is refused" fails_with "host h3 ($WORK/hosts line 3) has no dsa binary at $DSA" \
  on_h1 launch/mpirun.sh --hostfile "$WORK/hosts" generate --model "$MODEL" --tokens 1,2 --max-tokens 2
rm -f "$WORK/h3.mounts"
summary netns
