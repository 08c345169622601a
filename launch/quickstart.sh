#!/usr/bin/env bash
# One command from a fresh machine: install, build, and generate with the embedded default model
# (created on first use under ~/.cache/swiftdsa). Extra arguments go to `dsa generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH="/opt/swift/usr/bin:$PATH"
launch/setup.sh
launch/build.sh
.build/release/dsa inspect
# (The default model's weights are random until a trained one ships: the text is noise, the path is real.)
.build/release/dsa generate --prompt "Explain sparse attention in one sentence." --chat --max-tokens 32 --temperature 0.7 --seed 1 "$@"
