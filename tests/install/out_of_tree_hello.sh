#!/usr/bin/env bash
# The SDK contract, end to end: install the SDK alone to a temporary
# prefix, build examples/hello_stage OUT OF TREE with only
# find_package(CascadeSDK), then make the host load and inspect it (and,
# when a pipeline file is given, run a pipeline with it).
#   out_of_tree_hello.sh <build dir> <source dir> <cascade exe>
set -euo pipefail
build=$1 src=$2 cascade=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/cascade/abi/cascade_abi.h"
cmake -S "$src/examples/hello_stage" -B "$work/hello" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/hello" > "$work/build.log"
so="$work/hello/cascade-hello.so"
test -f "$so"

# Exactly one exported symbol: the versioned entry point.
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
[ "$exported" = "cascade_plugin_entry_v1" ] || { echo "unexpected exports: $exported"; exit 1; }

out=$("$cascade" inspect "$so")
echo "$out"
grep -q "^hello 1.0.0 (stage, ABI 1\.[0-9]" <<< "$out"
grep -q "text : text" <<< "$out"
grep -q "word : string = hello" <<< "$out"

json=$("$cascade" inspect --json "$so")
grep -q '"name": "word"' <<< "$json"

# The plugin directory on CASCADE_PLUGIN_PATH is searched by name too.
CASCADE_PLUGIN_PATH="$work/hello" "$cascade" inspect hello > /dev/null

if [ -n "${4:-}" ]; then
  # A pipeline that uses the out-of-tree plugin (from the scheduler issue).
  CASCADE_PLUGIN_PATH="$work/hello" "$cascade" run "$4" --input "$5" --output "$work/out.jsonl" --no-trace --quiet
  grep -q "\"result\":\"hello, world\"" "$work/out.jsonl"
  grep -q "\"result\":\"hello, plugin teams\"" "$work/out.jsonl"
fi
echo "out-of-tree hello: ok"
