#!/usr/bin/env bash
# One command from a fresh machine: install, build, and generate with the embedded default model
# (created on first use under ~/.cache/swiftdsa). Extra arguments go to `dsa generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
launch/setup.sh
launch/build.sh
.build/release/dsa inspect
.build/release/dsa generate --tokens 0,128,256,384,512 --max-tokens 16 --json "$@"
