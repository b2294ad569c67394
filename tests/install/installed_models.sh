#!/usr/bin/env bash
# An installed Cascade runs the reference assistant on its OWN models:
# install everything to a temporary prefix, run the installed `cascade` on
# the installed text pipeline, and check that every "@models/..." default
# resolved inside the prefix (the plugins log what they loaded), not in the
# build tree the plugins were built in.
#   installed_models.sh <build dir> <dialogues.jsonl>
set -euo pipefail
build=$1 dialogues=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
models="$prefix/share/cascade/models"
for f in asr/domain.lm asr/domain.dict nlu/intent.bin slot_lexicon.json catalog.json; do
  test -s "$models/$f" || { echo "not installed: $models/$f"; exit 1; }
done

"$prefix/bin/cascade" inspect "$prefix/lib/cascade/plugins/cascade-nlu.so" | grep -q "model : string = @models/nlu/intent.bin"

# Runs an installed pipeline on a dialogue file; its log (the plugins say
# which models they resolved) goes to $work/<name>.log, its trace to
# $work/<name>.cas.
run_installed() {
  local pipeline=$1 input=$2 name=$3
  "$prefix/bin/cascade" run "$prefix/share/cascade/pipelines/$pipeline" --input "$input" \
    --output "$work/$name.jsonl" --trace "$work/$name.cas" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
  cat "$work/$name.log"
}

run_installed assistant-text.toml "$dialogues" text
grep -q "\[nlu\] models: $models/nlu/intent.bin, $models/slot_lexicon.json" "$work/text.log"
grep -q "\[er\] models: $models/catalog.json" "$work/text.log"
# One result line per turn, every turn ok.
turns=$(grep -c . "$work/text.jsonl")
[ "$turns" -gt 0 ] && grep -q ": $turns turns ($turns ok" "$work/text.log"

# The tools `cascade` dispatches to are installed beside it: the quality
# report of the installed run's trace needs nothing else.
"$prefix/bin/cascade" eval report "$work/text.cas" > "$work/report.txt" || { cat "$work/report.txt"; exit 1; }
grep -q "intent" "$work/report.txt"
for tool in rewrite simulate; do
  "$prefix/bin/cascade" "$tool" --help > /dev/null || { echo "cascade $tool: not installed"; exit 1; }
done

# The speech pipeline too (a few turns: real synthesis and recognition).
head -n 3 "$dialogues" > "$work/few.jsonl"
run_installed assistant.toml "$work/few.jsonl" speech
grep -q "\[asr\] models: hmm .*, lm $models/asr/domain.lm, dict $models/asr/domain.dict" "$work/speech.log"
if [ -d "$models/asr/hmm" ]; then  # the build adapted the acoustic model (sphinxtrain present)
  grep -q "\[asr\] models: hmm $models/asr/hmm," "$work/speech.log"
fi

if grep -q "models: .*$build" "$work/text.log" "$work/speech.log"; then echo "a model was read from the build tree"; exit 1; fi
echo "installed models: ok"
