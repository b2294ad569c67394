#!/usr/bin/env bash
# A pipeline whose result is text records it in the trace's turn record as
# a JSON string (it was null).
set -euo pipefail
cascade=$1 pipeline=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo '{"dialogue_id":"d1","payload":{"text":"Alexa say hi"}}' > "$work/turns.jsonl"
"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o "$work/results.jsonl" --trace "$work/trace.cas" -q
"$cascade" trace cat --by turn "$work/trace.cas" > "$work/turns.out"
grep -q '"result":"say hi"' "$work/turns.out" || { cat "$work/turns.out"; echo "turn record result is not the text"; exit 1; }
grep -q '"result":"say hi"' "$work/results.jsonl"
