#!/usr/bin/env bash
# The main job: install what is missing, build, then run the reference
# voice assistant (pipelines/assistant.toml) over the evaluation dialogues
# with tracing, print the quality summary, then find where the failed turns
# failed: the oracle (judged counterfactual replay against gold) and the
# rules isolator (the trace alone), scored against the oracle.
#
# Every request is synthesised from its text (speechsim, seeded), so the
# run regenerates from data/slurp alone. Outputs land in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bin=build/bin
data=build/data/assistant
mkdir -p out

echo "== plugins"
"$bin/cascade" plugins
echo
echo "== the reference pipeline"
"$bin/cascade" validate pipelines/assistant.toml
echo
echo "== running it over $(wc -l < "$data/eval_dialogues.jsonl") eval turns"
set +e
"$bin/cascade" run pipelines/assistant.toml -i "$data/eval_dialogues.jsonl" \
  -o out/assistant-results.jsonl --trace out/assistant.cas
rc=$?
set -e
# Exit 1 means some turn failed: that is data for the report, not a crash.
[ "$rc" -le 1 ] || exit "$rc"
echo
echo "== trace"
"$bin/cascade" trace verify out/assistant.cas
"$bin/cascade" trace stats out/assistant.cas
echo
echo "== quality vs gold"
"$bin/cascade" eval report out/assistant.cas
echo
echo "== failure points: the oracle (gold + counterfactual replays)"
"$bin/cascade" isolate out/assistant.cas --oracle -p pipelines/assistant.toml -q -o out/assistant.oracle.jsonl
echo
echo "== failure points: the rules isolator (no gold), scored against the oracle"
"$bin/cascade" isolate out/assistant.cas --isolator rules --against out/assistant.oracle.jsonl -q \
  -o out/assistant.rules.jsonl --report out/isolate-report.html
