#!/usr/bin/env bash
# Installs what building and testing SwiftDSA needs on a fresh Debian/Ubuntu machine (as root):
# Open MPI and libnuma (apt), ip and ping for the multi-host tests; NumPy, safetensors, ml_dtypes
# and tokenizers for the reference checks. (cluster/local-slurm.sh installs Slurm when it runs.)
set -euo pipefail
missing=()
for p in libopenmpi-dev openmpi-bin libnuma-dev iproute2 iputils-ping; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c "import numpy, safetensors, ml_dtypes, tokenizers" 2>/dev/null; then
  echo "setup: installing numpy safetensors ml_dtypes tokenizers"
  python3 -m pip install -q numpy safetensors ml_dtypes tokenizers 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
command -v swift >/dev/null || { echo "setup: no swift on PATH (expected Swift 6 at /opt/swift/usr/bin)"; exit 1; }
