#!/usr/bin/env bash
# Runs `cascade inspect` on every bad plugin of this corpus (expected.txt):
# each gets its coded error and a non-crashing exit.
#   run_plugins.sh CASCADE CORPUS_DIR
set -uo pipefail
cascade=$1 corpus=$2
failures=0 cases=0
declare -A listed
while read -r file code; do
  case "$file" in ''|'#'*) continue ;; esac
  listed[$file]=1
  cases=$((cases + 1))
  err=$(timeout 60 "$cascade" inspect "$corpus/$file" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 1 ]; then echo "FAIL $file: exit $rc, want 1: $err"; failures=$((failures + 1)); continue; fi
  grep -q "error\[$code\]" <<< "$err" || { echo "FAIL $file: want $code, got: $err"; failures=$((failures + 1)); }
done < "$corpus/expected.txt"
for f in "$corpus"/*.so; do
  [ -n "${listed[$(basename "$f")]:-}" ] || { echo "FAIL $(basename "$f"): not in expected.txt"; failures=$((failures + 1)); }
done
echo "$cases cases, $failures failure(s)"
[ "$failures" -eq 0 ]
