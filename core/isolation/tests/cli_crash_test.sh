#!/usr/bin/env bash
# `cascade run` with a plugin that segfaults on some turns, in process
# isolation: the run ends normally with exit 1 (some turn failed), every
# turn has its result line, the crashing ones name the crash, the others
# are right, and the trace verifies and records the crashes.
set -euo pipefail
cascade=$1 fixtures=$2
work=$(mktemp -d)
trap "rm -rf $work" EXIT
cat > "$work/p.toml" <<'TOML'
[pipeline]
name = "crashy"
version = "1"
[[stages]]
id = "faulty"
plugin = "fixture_faulty"
inputs = { text = "input.text" }
params = { mode = "segfault", trigger = "boom", prefix = "ok:" }
isolation = "process"
[stages.process]
workers = 2
quarantine_after = 100
TOML
for i in $(seq 1 300); do
  word=turn; [ $((i % 50)) -eq 0 ] && word=boom
  printf '{"dialogue_id":"d%d","turn_index":0,"payload":{"text":"%s %d"}}\n' "$i" "$word" "$i"
done > "$work/turns.jsonl"

set +e
CASCADE_PLUGIN_PATH="$fixtures" "$cascade" run "$work/p.toml" -i "$work/turns.jsonl" -o "$work/results.jsonl" \
  --trace "$work/trace.cas" --set run.threads=2 -q 2> "$work/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "exit $rc, expected 1"; cat "$work/err"; exit 1; }
[ "$(wc -l < "$work/results.jsonl")" -eq 300 ] || { echo "not one line per turn"; exit 1; }
[ "$(grep -c '"status":"failed"' "$work/results.jsonl")" -eq 6 ] || { echo "not exactly the 6 boom turns failed"; exit 1; }
# Under AddressSanitizer (scripts/sanitize.sh) the worker's sanitizer
# catches the signal and exits with its own status.
ending='killed by signal 11 (SIGSEGV)'
[ -n "${ASAN_OPTIONS:-}" ] && ending='the worker process of'
grep '"status":"failed"' "$work/results.jsonl" | grep -q "$ending" \
  || { echo "a failed line does not name the crash"; exit 1; }
[ "$(grep -c '"result":"ok:turn' "$work/results.jsonl")" -eq 294 ] || { echo "a good turn came out wrong"; exit 1; }
grep -q "worker process" "$work/err" || { echo "the log does not say so"; exit 1; }
"$cascade" trace verify "$work/trace.cas" > /dev/null
[ "$("$cascade" trace cat "$work/trace.cas" | grep -c '"status":"crashed"')" -eq 6 ] \
  || { echo "the trace does not hold 6 crashed stage records"; exit 1; }
echo "ok: 294 turns right, 6 crashed turns recorded, exit 1"
