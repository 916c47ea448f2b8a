#!/usr/bin/env bash
# Runs every fuzz target of the hub for a while, one after the other, and
# prints the executions each one made. CI runs it with a few seconds each;
# for a real run give it minutes: scripts/fuzz.sh 5m
#
#   scripts/fuzz.sh [FUZZTIME] [PARALLEL]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-5s}
parallel=${2:-1}

# package:target, every fuzz target in the repository.
targets=$(grep -rho --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sort -u | sed 's/^func //')
fail=0
for target in $targets; do
  pkg=$(dirname "$(grep -rl --include="*_test.go" "^func $target(" . | sort | sed -n 1p)")
  out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime=2s \
    -parallel="$parallel" "$pkg" 2>&1) || { echo "$out"; fail=1; }
  execs=$(printf "%s\n" "$out" | { grep -o "execs: [0-9]*" || true; } | tail -1 | cut -d" " -f2)
  printf '%-36s %-12s %10s execs in %s\n' "$target" "$pkg" "${execs:-?}" "$fuzztime"
done
exit $fail
