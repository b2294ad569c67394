#!/usr/bin/env bash
# Runs every file of the bad-input corpus (expected.txt says what each must
# get) and checks, for each: the coded error it must get, an exit that is
# not a crash (no signal, no hang), and every good turn before and after it
# still in the results and the trace.
#   run_corpus.sh CASCADE SOURCE_DIR
set -uo pipefail
cascade=$1 src=$2
corpus=$src/tests/bad_inputs
text_pipeline=$src/pipelines/text-minimal.toml
audio_pipeline=$corpus/audio-passthrough.toml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# Runs `cascade ARGS...` with a time bound; sets rc. 124 is a hang, >= 128 a signal.
run() {
  timeout 120 "$cascade" "$@"
  rc=$?
}
crashed() { [ "$rc" -ge 124 ]; }

# $1 case, $2 pipeline, $3 good line, $4 bad turns file, $5 expected code (or ok)
check_turn() {
  local name=$1 pipeline=$2 good=$3 bad=$4 want=$5
  { printf '%s\n' "${good/@ID@/before}"; cat "$bad"; printf '%s\n' "${good/@ID@/after}"; } > "$work/turns.jsonl"
  rm -f "$work/results.jsonl" "$work/trace.cas"
  run run "$pipeline" -i "$work/turns.jsonl" -o "$work/results.jsonl" --trace "$work/trace.cas" -q 2> "$work/err"
  if crashed; then fail "$name: exit $rc (crash or hang)"; cat "$work/err"; return; fi
  local want_rc=1
  [ "$want" = ok ] && want_rc=0
  [ "$rc" -eq "$want_rc" ] || fail "$name: exit $rc, want $want_rc"
  [ "$(wc -l < "$work/results.jsonl")" -eq 3 ] || { fail "$name: $(wc -l < "$work/results.jsonl") result lines, want 3"; return; }
  sed -n 1p "$work/results.jsonl" | grep -q '^{"dialogue_id":"before".*"status":"ok"' || fail "$name: the turn before is not ok"
  sed -n 3p "$work/results.jsonl" | grep -q '^{"dialogue_id":"after".*"status":"ok"' || fail "$name: the turn after is not ok"
  if [ "$want" = ok ]; then
    sed -n 2p "$work/results.jsonl" | grep -q '"status":"ok"' || fail "$name: not ok: $(sed -n 2p "$work/results.jsonl")"
  else
    sed -n 2p "$work/results.jsonl" | grep -q "\"status\":\"failed\"" || fail "$name: the bad turn did not fail"
    sed -n 2p "$work/results.jsonl" | grep -q "\"error\":{\"code\":\"$want\"" ||
      fail "$name: want $want, got $(sed -n 2p "$work/results.jsonl" | cut -c1-300)"
  fi
  run trace verify --json "$work/trace.cas" > "$work/verify" 2>&1
  [ "$rc" -eq 0 ] && grep -Eq '"turn_records": ?3([^0-9]|$)' "$work/verify" || fail "$name: the trace does not hold the 3 turns intact"
}

text_good='{"dialogue_id":"@ID@","payload":{"text":"Alexa play some jazz"}}'
audio_good="{\"dialogue_id\":\"@ID@\",\"payload\":{\"audio\":\"$corpus/wav/good_16k.wav\"}}"
cases=0
declare -A listed
while read -r path code turns; do
  case "$path" in ''|'#'*) continue ;; esac
  listed[$path]=1
  cases=$((cases + 1))
  file=$corpus/$path
  [ -e "$file" ] || { fail "$path: listed but missing"; continue; }
  case "$path" in
    dialogues/*) check_turn "$path" "$text_pipeline" "$text_good" "$file" "$code" ;;
    wav/*)
      printf '{"dialogue_id":"bad","payload":{"audio":"%s"}}\n' "$file" > "$work/bad.jsonl"
      check_turn "$path" "$audio_pipeline" "$audio_good" "$work/bad.jsonl" "$code" ;;
    traces/*)
      run trace verify --json "$file" > "$work/verify" 2> "$work/err"
      if crashed; then fail "$path: verify exit $rc (crash or hang)"; continue; fi
      if [ "$code" = ok ]; then
        [ "$rc" -eq 0 ] || fail "$path: verify exit $rc, want 0"
      else
        [ "$rc" -eq 1 ] || fail "$path: verify exit $rc, want 1"
        grep -Eq "\"code\": ?\"$code\"|error\[$code\]" "$work/verify" "$work/err" || fail "$path: no $code: $(cat "$work/err" "$work/verify" | cut -c1-300)"
      fi
      if [ "$turns" -gt 0 ]; then
        grep -Eq "\"turn_records\": ?$turns([^0-9]|$)" "$work/verify" || fail "$path: want $turns turns read: $(cut -c1-300 "$work/verify")"
      fi
      run trace cat --by turn "$file" > "$work/cat" 2> /dev/null
      crashed && fail "$path: cat exit $rc (crash or hang)"
      run trace stats "$file" > /dev/null 2>&1
      crashed && fail "$path: stats exit $rc (crash or hang)" ;;
    *) fail "$path: not under dialogues/, wav/ or traces/" ;;
  esac
done < "$corpus/expected.txt"

# Nothing in the corpus goes unchecked.
for file in "$corpus"/dialogues/* "$corpus"/wav/* "$corpus"/traces/*.cas; do
  path=${file#"$corpus"/}
  [ -n "${listed[$path]:-}" ] || fail "$path: in the corpus but not in expected.txt"
done

# Too big for git: made here.
{ printf '{"dialogue_id":"bad","payload":{"text":"'; head -c 100000000 /dev/zero | tr '\0' x; printf '"}}\n'; } > "$work/long.jsonl"
check_turn "100 MB line" "$text_pipeline" "$text_good" "$work/long.jsonl" A013
{ printf '{"dialogue_id":"bad","gold":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'
  printf ',"payload":{"text":"a"}}\n'; } > "$work/deep.jsonl"
check_turn "100000 nested brackets" "$text_pipeline" "$text_good" "$work/deep.jsonl" A006
cases=$((cases + 2))

echo "$cases cases, $failures failure(s)"
[ "$failures" -eq 0 ]
