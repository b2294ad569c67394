#!/usr/bin/env bash
# `cascade isolate` end to end on a real trace of the text assistant:
# the oracle labels every turn and writes a versioned analysis file; the
# rules isolator is scored against it (--against, and -p running the oracle
# beside it), --json is one object on stdout; usage errors are coded.
# Usage: isolate_cli_test.sh CASCADE PIPELINE TURNS
set -euo pipefail
cascade=$1 pipeline=$2 turns=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cascade" run "$pipeline" -i "$turns" -o "$dir/results.jsonl" --trace "$dir/t.cas" -q || [ $? -eq 1 ]
n=$(wc -l < "$turns")

# The oracle: one labelled line per turn after the header.
"$cascade" isolate "$dir/t.cas" --oracle -p "$pipeline" -q -o "$dir/oracle.jsonl" > "$dir/oracle.txt"
head -1 "$dir/oracle.jsonl" | python3 -c 'import json,sys; h=json.load(sys.stdin); assert h["cascade_analysis"]==1 and h["analyzer"]=="oracle", h'
[ "$(tail -n +2 "$dir/oracle.jsonl" | wc -l)" -eq "$n" ] || fail "oracle lines != $n turns"
python3 - "$dir/oracle.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])][1:]
labels = {l["label"] for l in lines}
assert None not in labels, "a turn without a label"
assert labels <= {"false_wake", "asr", "nlu", "er", "result", "correct"}, labels
assert "false_wake" in labels, "the text pipeline acts on background speech: false_wake expected"
assert "correct" in labels
PY
grep -q "^oracle: $n of $n turns labelled" "$dir/oracle.txt" || fail "summary: $(head -1 "$dir/oracle.txt")"

# An isolator against the oracle's file, as JSON on stdout alone.
"$cascade" isolate "$dir/t.cas" --isolator rules --against "$dir/oracle.jsonl" -q --json -o "$dir/rules.jsonl" > "$dir/rules.json"
python3 - "$dir/rules.json" "$n" "$dir/rules.jsonl" "$dir/oracle.jsonl" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert j["analyzer"] == "rules" and j["turns"] == n, j
for k in ("accuracy", "macro_f1", "scores", "baselines", "cost"):
    assert k in j, k
assert sum(sum(r) for r in j["scores"]["confusion"]) == n
assert set(j["baselines"]) == {"majority", "lowest_confidence"}
# The labels above a score: all first, then fewer and surer; each point
# is what keeping the analysis file's labels with that score or more gives.
c = j["coverage"]
assert c[0]["turns"] == n and c[0]["accuracy"] == j["accuracy"], c[0]
lines = [json.loads(l) for l in open(sys.argv[3])][1:]
ref = {(l["trace"], l["turn_seq"]): l["label"] for l in [json.loads(x) for x in open(sys.argv[4])][1:]}
for p in c[1:]:
    kept = [l for l in lines if l.get("score", -1) >= p["min_score"]]
    assert len(kept) == p["turns"], (p, len(kept))
    right = sum(1 for l in kept if ref[(l["trace"], l["turn_seq"])] == l["label"])
    assert abs(right / len(kept) - p["accuracy"]) < 1e-9, (p, right)
assert all(a["turns"] > b["turns"] for a, b in zip(c, c[1:])), c
PY
# -p runs the oracle beside the isolator: the same scores as --against.
"$cascade" isolate "$dir/t.cas" --isolator rules -p "$pipeline" -q --json -o "$dir/rules2.jsonl" > "$dir/rules2.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a["scores"]==b["scores"], "scores differ"' "$dir/rules.json" "$dir/rules2.json"

# --dialogues: one side of the split by dialogue id; the two sides hold
# every turn between them, each dialogue whole on one side.
for side in train test; do
  "$cascade" isolate "$dir/t.cas" --isolator rules --against "$dir/oracle.jsonl" --dialogues $side -q --json \
    -o "$dir/rules-$side.jsonl" > "$dir/rules-$side.json"
done
python3 - "$dir/rules-train.jsonl" "$dir/rules-test.jsonl" "$dir/rules-train.json" "$n" <<'PY'
import json, sys
train = [json.loads(l) for l in open(sys.argv[1])][1:]
test = [json.loads(l) for l in open(sys.argv[2])][1:]
assert train and test, (len(train), len(test))
assert len(train) + len(test) == int(sys.argv[4]), (len(train), len(test))
assert not {l["dialogue_id"] for l in train} & {l["dialogue_id"] for l in test}
assert json.load(open(sys.argv[3]))["scores"]["turns"] == len(train)
PY
set +e
"$cascade" isolate "$dir/t.cas" --dialogues odd -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] || fail "--dialogues odd: rc $rc"

# Usage errors: coded, exit 2; an unknown analyzer: N001, exit 1.
set +e
"$cascade" isolate "$dir/t.cas" --oracle -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "error\[N003\]" "$dir/err" || fail "--oracle without -p: rc $rc, $(cat "$dir/err")"
set +e
"$cascade" isolate "$dir/t.cas" --isolator no_such_analyzer -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "error\[N001\]" "$dir/err" || fail "unknown analyzer: rc $rc, $(cat "$dir/err")"
set +e
"$cascade" isolate "$dir/t.cas" --isolator rules --param asr_mn=1 -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "error\[N002\]" "$dir/err" || fail "unknown parameter: rc $rc, $(cat "$dir/err")"
# A stage plugin is no analyzer.
set +e
"$cascade" isolate "$dir/t.cas" --isolator normalize -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "error\[N001\]" "$dir/err" || fail "a stage as analyzer: rc $rc, $(cat "$dir/err")"
# A damaged analysis file given to --against: N012 with its line.
head -3 "$dir/oracle.jsonl" > "$dir/bad.jsonl"
echo '{"trace":"x","turn_seq":"seven"}' >> "$dir/bad.jsonl"
set +e
"$cascade" isolate "$dir/t.cas" --isolator rules --against "$dir/bad.jsonl" -q 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "bad.jsonl:4: error\[N012\]" "$dir/err" || fail "bad --against: rc $rc, $(cat "$dir/err")"

# `cascade isolate train`: per-trace plugin parameters reach the plugin
# (a requests file that does not exist stops it: N002), and a bad line of
# --trace-params is a usage error with its file and line (N022).
printf '{"trace": "%s", "params": {"requests": "%s"}}\n' "$dir/t.cas" "$dir/no-such-requests.txt" > "$dir/tp.jsonl"
set +e
"$cascade" isolate train "$dir/t.cas" --against "$dir/oracle.jsonl" --out "$dir/m.json" --trace-params "$dir/tp.jsonl" 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "error\[N002\].*no-such-requests.txt" "$dir/err" || fail "--trace-params not used: rc $rc, $(cat "$dir/err")"
printf '{"trace": "%s", "params": {"requests": 7}}\n' "$dir/t.cas" > "$dir/tp.jsonl"
set +e
"$cascade" isolate train "$dir/t.cas" --against "$dir/oracle.jsonl" --out "$dir/m.json" --trace-params "$dir/tp.jsonl" 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "tp.jsonl:1: error\[N022\]" "$dir/err" || fail "bad --trace-params: rc $rc, $(cat "$dir/err")"
set +e
"$cascade" isolate train "$dir/t.cas" --against "$dir/oracle.jsonl" --out "$dir/m.json" --param requests 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "error\[N022\]" "$dir/err" || fail "--param without =: rc $rc, $(cat "$dir/err")"
# "auxiliary" must be a boolean (N022 with file and line); --auxiliary-weight
# auto or a number >= 0 (the option parser refuses the rest: exit 2).
printf '{"trace": "%s", "params": {}, "auxiliary": "yes"}\n' "$dir/t.cas" > "$dir/tp.jsonl"
set +e
"$cascade" isolate train "$dir/t.cas" --against "$dir/oracle.jsonl" --out "$dir/m.json" --trace-params "$dir/tp.jsonl" 2> "$dir/err" > /dev/null; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "tp.jsonl:1: error\[N022\].*auxiliary" "$dir/err" || fail "bad auxiliary: rc $rc, $(cat "$dir/err")"
for w in -1 half 1e999; do
  set +e
  "$cascade" isolate train "$dir/t.cas" --against "$dir/oracle.jsonl" --out "$dir/m.json" --auxiliary-weight "$w" 2> "$dir/err" > /dev/null; rc=$?
  set -e
  [ $rc -eq 2 ] && grep -q "auxiliary-weight" "$dir/err" || fail "--auxiliary-weight $w: rc $rc, $(cat "$dir/err")"
done
echo "isolate CLI: ok"
