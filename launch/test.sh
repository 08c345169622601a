#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: the unit tests (swift test: kernels against their
# naive twins, golden logits against the reference fixtures, bad input), the end-to-end checks of
# the built binary (Tests/e2e), and the cluster tests (Tests/cluster: multi-host MPI over network
# namespaces, a real local Slurm), which need root; `--no-cluster` leaves those out.
#
#   launch/test.sh [--no-cluster]
set -euo pipefail
cd "$(dirname "$0")/.."
cluster=1
[ "${1:-}" != --no-cluster ] || cluster=0
if [ $cluster = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "launch/test.sh: the cluster tests need root (network namespaces, slurmd); run as root or pass --no-cluster" >&2
  exit 1
fi
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
launch/setup.sh
launch/build.sh --build-tests
swift test -c release --skip-build
bash Tests/e2e/run.sh
bash Tests/e2e/mpi.sh
bash Tests/e2e/text.sh
if [ $cluster = 1 ]; then
  bash Tests/cluster/netns.sh
  bash Tests/cluster/slurm.sh
fi
