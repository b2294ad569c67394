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

"$prefix/bin/cascade" run "$prefix/share/cascade/pipelines/assistant-text.toml" --input "$dialogues" \
  --output "$work/out.jsonl" --no-trace > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
cat "$work/run.log"
grep -q "\[nlu\] models: $models/nlu/intent.bin, $models/slot_lexicon.json" "$work/run.log"
grep -q "\[er\] models: $models/catalog.json" "$work/run.log"
if grep -q "models: .*$build" "$work/run.log"; then echo "a model was read from the build tree"; exit 1; fi
# One result line per turn, every turn ok.
turns=$(grep -c . "$work/out.jsonl")
[ "$turns" -gt 0 ] && grep -q ": $turns turns ($turns ok" "$work/run.log"
# The speech pipeline too (a few turns: real synthesis and recognition).
head -n 3 "$dialogues" > "$work/few.jsonl"
"$prefix/bin/cascade" run "$prefix/share/cascade/pipelines/assistant.toml" --input "$work/few.jsonl" \
  --output "$work/speech.jsonl" --no-trace > "$work/speech.log" 2>&1 || { cat "$work/speech.log"; exit 1; }
cat "$work/speech.log"
grep -q "\[asr\] models: hmm .*, lm $models/asr/domain.lm, dict $models/asr/domain.dict" "$work/speech.log"
if [ -d "$models/asr/hmm" ]; then  # the build adapted the acoustic model (sphinxtrain present)
  grep -q "\[asr\] models: hmm $models/asr/hmm," "$work/speech.log"
fi
if grep -q "models: .*$build" "$work/speech.log"; then echo "a model was read from the build tree"; exit 1; fi
echo "installed models: ok"
