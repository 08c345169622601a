# Helpers of the end-to-end checks: counted checks, expected failures, the closing summary.
DSA=${DSA:-.build/release/dsa}
WORK=$(mktemp -d /tmp/dsa-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0; failed=0
check() {  # check NAME COMMAND...: runs the command, counts and reports it
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then passed=$((passed + 1)); echo "PASS $name ${out##*$'\n'}"
  else failed=$((failed + 1)); echo "FAIL $name"; echo "$out" | tail -20 | sed 's/^/    /'; fi
}
fails_with() {  # fails_with TEXT COMMAND...: the command must exit non-zero and print TEXT
  local text=$1; shift
  local out
  if out=$("$@" 2>&1); then echo "unexpected success: $out"; return 1; fi
  grep -qF -- "$text" <<<"$out" || { echo "message lacks '$text': $out"; return 1; }
  grep -F -- "$text" <<<"$out" | head -1
}
same_npy() {  # same_npy A B TOL: max |A - B| <= TOL
  python3 -c "import numpy as np, sys; d = float(np.abs(np.load('$1') - np.load('$2')).max()); print(f'max|Δ|={d:.3g}'); sys.exit(d > $3)"
}
memories() {  # memories REPORT: the distinct memory ids in a --verbose rank report, one per line
  awk '$1 ~ /^[0-9]+$/ && $3 ~ /\.\.</ { print $4 }' "$1" | sort -u
}
summary() {  # summary LABEL: the closing line, and the exit status
  echo "$1: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}
