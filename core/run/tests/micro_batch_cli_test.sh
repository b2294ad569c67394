#!/usr/bin/env bash
# `cascade run --micro-batch N` writes the same result lines as one turn at
# a time (latencies aside), and `run.micro_batch = 0` is refused as C005.
set -euo pipefail
cascade=$1 pipeline=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 500); do echo "{\"dialogue_id\":\"d$i\",\"payload\":{\"text\":\"Turn  Number $i\"}}"; done > "$work/turns.jsonl"
strip() { sed -E 's/"latency_ms":[0-9.e+-]+,//' "$1"; }
"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o "$work/one.jsonl" --no-trace -q --threads 2
"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o "$work/mb.jsonl" --no-trace -q --threads 2 --micro-batch 32
[ "$(wc -l < "$work/mb.jsonl")" -eq 500 ]
grep -q '"result":"turn number 500","status":"ok"' "$work/mb.jsonl"
diff <(strip "$work/one.jsonl") <(strip "$work/mb.jsonl")
if "$cascade" run "$pipeline" -i "$work/turns.jsonl" --no-trace -q --set run.micro_batch=0 > /dev/null 2> "$work/err"; then
  echo "run.micro_batch=0 was accepted"; exit 1
fi
cat "$work/err"
grep -q "error\[C005\]: 'run.micro_batch' must be between 1" "$work/err"
