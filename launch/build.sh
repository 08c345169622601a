#!/usr/bin/env bash
# Builds the release `dsa` (kernels tuned to this machine's vector units; DSA_TARGET_CPU overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release "$@"
