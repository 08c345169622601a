#!/usr/bin/env bash
# The launch agent of the namespace tests, standing in for ssh (mpirun's plm_rsh_agent): it
# reaches host HOST over the network first, as ssh must, then runs the command inside the host's
# network namespace with the host's own hostname, a clean environment and, from
# $NETNS_TEST_DIR/HOST.mounts ("SOURCE TARGET" lines; SOURCE tmpfs hides TARGET), the host's own
# view of the filesystem. Like `ssh -o ServerAliveInterval=2 -o ServerAliveCountMax=3`, it gives up
# (exit 255) when the host stops answering for 6 s, which tells mpirun the daemon there is lost.
#
#   netns-agent.sh HOST COMMAND...
set -eu
host=$1; shift
answers() { ping -c 1 -W 1 "$host" >/dev/null 2>&1; }
answers || answers || answers || { echo "ssh: connect to host $host: No route to host" >&2; exit 255; }
mounts=${NETNS_TEST_DIR:-/nonexistent}/$host.mounts
ip netns exec "dsa-$host" unshare --uts --mount env -i PATH="$PATH" HOME="$HOME" bash -c '
  hostname "$0"
  if [ -r "$2" ]; then
    while read -r src dst; do
      if [ "$src" = tmpfs ]; then mount -t tmpfs none "$dst"; else mount --bind "$src" "$dst"; fi
    done <"$2"
  fi
  exec bash -c "$1"' "$host" "$*" "$mounts" &
command=$!
misses=0
while kill -0 $command 2>/dev/null; do
  sleep 2
  if answers; then misses=0; else misses=$((misses + 1)); fi
  [ $misses -lt 3 ] || { echo "Timeout, server $host not responding." >&2; exit 255; }
done
wait $command
