#!/usr/bin/env bash
# The analyzer SDK contract, end to end: install the SDK alone to a
# temporary prefix, build examples/lowest_confidence OUT OF TREE with only
# find_package(CascadeSDK 1.3), record a real trace of the text assistant,
# and label every turn of it with `cascade isolate --isolator <the .so>`.
#   out_of_tree_analyzer.sh <build dir> <source dir> <cascade exe> <dialogues.jsonl>
set -euo pipefail
build=$1 src=$2 cascade=$3 dialogues=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/cascade/abi/cascade_analyzer.h"
test -f "$work/prefix/include/cascade/sdk/analyzer_testing.hpp"
cmake -S "$src/examples/lowest_confidence" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" > "$work/configure.log"
cmake --build "$work/example" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
so="$work/example/cascade-lowest_confidence.so"
test -f "$so"

# Exactly one exported symbol: the versioned entry point.
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
[ "$exported" = "cascade_plugin_entry_v1" ] || { echo "unexpected exports: $exported"; exit 1; }
"$cascade" inspect "$so" | grep -q "^lowest_confidence 1.0.0 (analyzer, ABI 1\.[0-9]"

# A real trace of the text assistant, then the analysis of every turn.
cd "$src"
"$cascade" run pipelines/assistant-text.toml -i "$dialogues" --trace "$work/t.cas" -q -o "$work/results.jsonl"
"$cascade" isolate "$work/t.cas" --isolator "$so" -o "$work/analysis.jsonl" -q > "$work/summary.txt"
cat "$work/summary.txt"
turns=$(grep -c . "$dialogues")
[ "$(grep -c . "$work/results.jsonl")" -eq "$turns" ] || { echo "the run did not answer every turn"; exit 1; }
head -n 1 "$work/analysis.jsonl" | grep -q '"analyzer":"lowest_confidence"' || { head -n 1 "$work/analysis.jsonl"; exit 1; }
# After the header, one line per turn, each with one of the declared labels.
lines=$(tail -n +2 "$work/analysis.jsonl" | grep -c .)
labelled=$(tail -n +2 "$work/analysis.jsonl" | grep -cE '"label":"(false_wake|asr|nlu|er|result|correct)"')
[ "$lines" -eq "$turns" ] && [ "$labelled" -eq "$turns" ] ||
  { cat "$work/analysis.jsonl"; echo "expected $turns labelled lines, got $labelled of $lines"; exit 1; }
# A failed turn is blamed on a stage with evidence; not every turn is correct.
grep -q '"evidence":{"confidence":[0-9.e-]*,"stage":"[a-z]*"}' "$work/analysis.jsonl" ||
  { cat "$work/analysis.jsonl"; echo "no turn was blamed on a stage"; exit 1; }
grep -q '"label":"correct"' "$work/analysis.jsonl" || { echo "no turn is correct"; exit 1; }
echo "out-of-tree analyzer: ok ($turns turns labelled)"
