#!/usr/bin/env bash
# Starts `cascade run` on many turns, kills it with SIGKILL once some result
# lines are out, then checks that every reported turn is in the trace and
# that the reader reports (not hides) the damaged tail.
set -euo pipefail
cascade=$1 pipeline=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 200000); do
  printf '{"dialogue_id":"d%d","user_id":"u","turn_index":0,"payload":{"text":"Turn number %d, please"}}\n' "$i" "$i"
done > "$work/turns.jsonl"

"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o "$work/results.jsonl" --trace "$work/trace.cas" \
  --max-in-flight 64 --set run.default_timeout_ms=0 --set stages.shout.timeout_ms=0 -q &
pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/results.jsonl" ] && [ "$(wc -l < "$work/results.jsonl")" -ge 500 ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true

reported=$(wc -l < "$work/results.jsonl")
[ "$reported" -ge 500 ] || { echo "too few turns before the kill: $reported"; exit 1; }
[ "$reported" -lt 200000 ] || { echo "the run finished before the kill; nothing was tested"; exit 1; }
# Only complete result lines count as reported.
grep -o '"dialogue_id":"d[0-9]*"' "$work/results.jsonl" | sort -u > "$work/reported"
"$cascade" trace cat --by turn "$work/trace.cas" 2> "$work/cat.err" \
  | grep -o '"dialogue":"d[0-9]*"' | sed 's/"dialogue"/"dialogue_id"/' | sort -u > "$work/traced" || true
missing=$(comm -23 "$work/reported" "$work/traced" | wc -l)
echo "reported $(wc -l < "$work/reported") turns, traced $(wc -l < "$work/traced"), missing $missing"
[ "$missing" -eq 0 ]
