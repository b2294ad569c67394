#!/usr/bin/env bash
# `cascade run` whose result lines cannot be written (-o /dev/full, or
# stdout on /dev/full): R020 naming the file, exit 1, and the trace still
# holds every turn that ran, intact.
set -uo pipefail
cascade=$1 pipeline=$2
[ -w /dev/full ] || { echo "no writable /dev/full here"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 20); do
  printf '{"dialogue_id":"d%d","payload":{"text":"turn %d"}}\n' "$i" "$i"
done > "$work/turns.jsonl"

check() {  # $1: what was tried, $2: exit code, $3: the file R020 must name
  cat "$work/err"
  [ "$2" -eq 1 ] || { echo "$1: exit $2, want 1"; exit 1; }
  grep -q "^$3: error\[R020\]: cannot write the results" "$work/err" || { echo "$1: no R020 naming $3"; exit 1; }
  "$cascade" trace verify "$work/trace.cas" > "$work/verify" || { cat "$work/verify"; echo "$1: trace damaged"; exit 1; }
  turns=$("$cascade" trace cat --by turn "$work/trace.cas" | grep -c '"record":"turn"')
  [ "$turns" -eq 20 ] || { echo "$1: $turns turns in the trace, want 20"; exit 1; }
}

"$cascade" run "$pipeline" -i "$work/turns.jsonl" -o /dev/full --trace "$work/trace.cas" -q 2> "$work/err"
check "-o /dev/full" $? /dev/full
"$cascade" run "$pipeline" -i "$work/turns.jsonl" --trace "$work/trace.cas" -q > /dev/full 2> "$work/err"
check "stdout on /dev/full" $? "<stdout>"
echo ok
