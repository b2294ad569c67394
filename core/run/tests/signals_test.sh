#!/usr/bin/env bash
# What ends a run, and what it leaves behind (README, "The CLI": exit codes).
#   signals_test.sh CASCADE FIXTURE_PLUGIN_DIR CASE
# CASE:
#   INT | TERM   a stage hangs forever without deadline; the watchdog
#                reports it (R040, naming the stage), then the signal ends
#                the run within the grace: exit 130, the finished turns'
#                lines out, each in the trace, `cascade trace verify` OK.
#   pipe         `cascade run ... | head -1`: no death by SIGPIPE; R020,
#                exit 1, the trace verifies.
#   segfault | abort | exit   a stage takes the process down in process:
#                the message names the stage (R042/R043), the exit status
#                is the signal's or the plugin's exit code, and every turn
#                that finished (before the crash, or cancelled by it) has
#                its line and its trace record; the trace verifies.
set -euo pipefail
cascade=$1 plugins=$2 case=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; cat "$work/err" 2>/dev/null || true; exit 1; }

mode=$case
case "$case" in INT|TERM) mode=hang ;; pipe) mode=ok ;; esac
cat > "$work/p.toml" <<TOML
[pipeline]
name = "faulty"
version = "1.0.0"
[run]
threads = 2
default_timeout_ms = 0
[[stages]]
id = "norm"
plugin = "normalize"
inputs = { text = "input.text" }
[[stages]]
id = "stuck"
plugin = "fixture_faulty"
inputs = { text = "norm.text" }
params = { mode = "$mode", trigger = "freeze", exit_code = 7 }
TOML
turns=100
[ "$case" = pipe ] && turns=20000
for i in $(seq 0 $((turns - 1))); do
  word=hello
  [ "$i" = 20 ] && word=freeze
  printf '{"dialogue_id":"d%d","payload":{"text":"%s %d"}}\n' "$i" "$word" "$i"
done > "$work/turns.jsonl"
run=("$cascade" --plugin-path "$plugins" run "$work/p.toml" -i "$work/turns.jsonl" --trace "$work/t.cas" -q)

# Every result line's turn is in the trace, and the trace verifies.
check_trace() {
  "$cascade" trace verify "$work/t.cas" > "$work/verify" 2>&1 || { cat "$work/verify"; fail "trace verify"; }
  grep -o '"dialogue_id":"d[0-9]*"' "$work/results" | sort -u > "$work/reported"
  "$cascade" trace cat --by turn "$work/t.cas" | grep -o '"dialogue":"d[0-9]*"' | sed 's/"dialogue"/"dialogue_id"/' |
    sort -u > "$work/traced"
  [ "$(comm -23 "$work/reported" "$work/traced" | wc -l)" -eq 0 ] || fail "reported turns missing from the trace"
}

case "$case" in
  INT|TERM)
    start=$(date +%s)
    "${run[@]}" -o "$work/results" --stall-report-ms 300 --shutdown-grace-ms 2000 2> "$work/err" &
    pid=$!
    # The watchdog's report is the sign that the stage hangs.
    for _ in $(seq 1 600); do grep -q 'R040' "$work/err" && break; sleep 0.1; done
    grep -q "error\[R040\]" "$work/err" || fail "no watchdog report"
    grep -q "dialogue 'd20' turn 0: in stage 'stuck' (plugin fixture_faulty)" "$work/err" || fail "the report does not name the stage"
    kill -"$case" "$pid"
    rc=0
    wait "$pid" || rc=$?
    elapsed=$(($(date +%s) - start))
    [ "$rc" -eq 130 ] || fail "exit $rc, want 130"
    # A generous bound for a 2 s grace: the run ends, it does not hang.
    [ "$elapsed" -lt 30 ] || fail "took ${elapsed}s"
    grep -q "error\[R041\]" "$work/err" || fail "no word of the abandoned turn"
    lines=$(wc -l < "$work/results")
    [ "$lines" -gt 0 ] || fail "no finished turn reported"
    grep -q '"dialogue_id":"d20"' "$work/results" && fail "the hung turn has a result line"
    check_trace
    echo "exit 130 after ${elapsed}s, $lines finished turns reported and traced" ;;
  pipe)
    set +e
    "${run[@]}" --max-in-flight 64 2> "$work/err" | head -1 > "$work/results"
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -ne 141 ] || fail "killed by SIGPIPE"
    [ "$rc" -eq 1 ] || fail "exit $rc, want 1"
    grep -q "error\[R020\]" "$work/err" || fail "no R020"
    check_trace
    echo "exit 1 with R020, the trace verifies" ;;
  segfault|abort|exit)
    rc=0
    "${run[@]}" -o "$work/results" 2> "$work/err" || rc=$?
    want_code=R042 want_rc=139
    [ "$case" = abort ] && want_rc=134
    [ "$case" = exit ] && want_code=R043 want_rc=7
    [ "$rc" -eq "$want_rc" ] || fail "exit $rc, want $want_rc"
    grep -q "error\[$want_code\]: stage 'stuck' (plugin fixture_faulty)" "$work/err" || fail "the message does not name the stage"
    grep -q 'isolation = "process"' "$work/err" || fail "no word of process isolation"
    grep -q '"dialogue_id":"d20"' "$work/results" && fail "the crashed turn has a result line"
    lines=$(wc -l < "$work/results")
    # Turns queued behind the crashed call never start: they are abandoned
    # (R041 lists them); every turn that finished is reported.
    done=$(grep -o '[0-9]* done (of 100 in this batch)' "$work/err" | cut -d' ' -f1)
    [ -n "$done" ] || fail "no count of the finished turns"
    [ "$lines" -gt 0 ] && [ "$lines" -eq "$done" ] || fail "$lines result lines, want the $done finished turns"
    check_trace
    echo "exit $rc, $lines other turns reported and traced, $(grep -o "error\[$want_code\][^.]*" "$work/err")" ;;
  *) fail "unknown case $case" ;;
esac
