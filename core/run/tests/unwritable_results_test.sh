#!/usr/bin/env bash
# `cascade run -o` into a directory that does not exist: exit 1 with R020,
# no crash.
set -uo pipefail
cascade=$1 pipeline=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo '{"dialogue_id":"d1","payload":{"text":"hi"}}' > "$work/turns.jsonl"
"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o "$work/no/such/dir/out.jsonl" --no-trace -q 2> "$work/err"
rc=$?
cat "$work/err"
[ "$rc" -eq 1 ] && grep -q "error\[R020\]" "$work/err"
