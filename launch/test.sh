#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: the unit tests (swift test: kernels against their
# naive twins, golden logits against the reference fixtures, bad input), then the end-to-end
# checks of the built binary (Tests/e2e/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
launch/setup.sh
launch/build.sh --build-tests
swift test -c release --skip-build
bash Tests/e2e/run.sh
bash Tests/e2e/mpi.sh
bash Tests/e2e/text.sh
