#!/usr/bin/env bash
# Keeps docs/guide.md honest: runs every ```sh block of the guide, in
# order, as one script (set -euo pipefail), in a fresh directory that
# looks like the project root (examples/ and pipelines/ from the sources,
# build/ the build tree), then checks what the guide says came out. A
# block right after a line `<!-- guide-test: skip ... -->` is not run (the
# one-time build). The guide's C++ listing must be the example file.
#   guide_test.sh <source dir> <build dir>
set -euo pipefail
src=$1 build=$2
guide="$src/docs/guide.md"
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# The ```cpp listing is examples/hello_stage/hello_stage.cpp, verbatim.
awk '/^```cpp$/ {on = 1; next} on && /^```$/ {exit} on {print}' "$guide" > "$work/listing.cpp"
diff -u "$src/examples/hello_stage/hello_stage.cpp" "$work/listing.cpp" ||
  { echo "docs/guide.md: the C++ listing differs from examples/hello_stage/hello_stage.cpp"; exit 1; }

# The sh blocks, in order.
awk '
  /^<!-- guide-test: skip/ {skip = 1; next}
  /^```sh$/ {on = 1; if (skip) {on = 2}; skip = 0; next}
  on && /^```$/ {on = 0; next}
  on == 1 {print}
  !on && NF {skip = 0}
' "$guide" > "$work/guide.sh"
grep -q "cascade run greet.toml" "$work/guide.sh" || { echo "no commands found in $guide"; exit 1; }

mkdir "$work/root"
ln -s "$src/examples" "$work/root/examples"
ln -s "$src/pipelines" "$work/root/pipelines"
ln -s "$build" "$work/root/build"
(cd "$work/root" && bash -euo pipefail "$work/guide.sh") > "$work/out.log" 2>&1 ||
  { cat "$work/out.log"; echo "docs/guide.md: a command failed (output above)"; exit 1; }

# What the guide says the commands give.
cd "$work/root"
for r in "hello, world" "hello, plugin teams" "hello, cascade"; do
  grep -q "\"result\":\"$r\",\"status\":\"ok\"" results.jsonl || { cat results.jsonl; echo "no '$r' in results.jsonl"; exit 1; }
done
grep -q '"result":"hi, world"' results-hi.jsonl || { cat results-hi.jsonl; echo "the replay did not use word=hi"; exit 1; }
grep -q '"greet"' diff.json || { cat diff.json; echo "the diff does not name stage greet"; exit 1; }
test -s greet.perfetto.json
# The guide's `cascade inspect` listing is what inspect prints (but for
# the path, and the ABI minor, which grows).
normalise() { grep -v '^  path: ' | sed -E 's/ABI 1\.[0-9]+/ABI 1.x/'; }
awk '/^```text$/ {on = 1; n = 0; next} on && /^```$/ {on = 0; if (hello) exit; next}
     on && n++ == 0 && /^hello 1\.0\.0 / {hello = 1} on && hello {print}' "$guide" | normalise > "$work/inspect.guide"
PATH="$build/bin:$PATH" cascade inspect build-my-stage/cascade-hello.so | normalise > "$work/inspect.real"
diff -u "$work/inspect.guide" "$work/inspect.real" ||
  { echo "docs/guide.md: the cascade inspect listing is not what inspect prints"; exit 1; }
[ "$(grep -c . assistant.jsonl)" -eq "$(grep -c . build/data/assistant/eval_dialogues_small.jsonl)" ]
# isolate: one labelled line per turn, a report with its charts.
[ "$(tail -n +2 oracle.jsonl | grep -c '"label":"')" -eq "$(grep -c . build/data/assistant/eval_dialogues_small.jsonl)" ] ||
  { echo "the oracle did not label every turn"; exit 1; }
grep -q "<svg" isolate.html || { echo "isolate.html has no chart"; exit 1; }
# learned: a model trained by the guide's command labels every turn.
[ -s learned.json ] || { echo "cascade isolate train wrote no model"; exit 1; }
[ "$(tail -n +2 learned.jsonl | grep -c '"label":"')" -eq "$(grep -c . build/data/assistant/eval_dialogues_small.jsonl)" ] ||
  { echo "learned did not label every turn"; exit 1; }

# The lead fills the last section; it must stay last.
tail -n 3 "$guide" | grep -q '^## Find where turns fail$' || { echo "docs/guide.md must end with '## Find where turns fail'"; exit 1; }
echo "guide: $(grep -c . "$work/guide.sh") command lines ran"
