#!/usr/bin/env bash
# The main job: install what is missing, build, and run the reference
# pipeline over the evaluation dialogues with tracing, then summarise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bin=build/bin/cascade
mkdir -p out
echo "== plugins"
"$bin" plugins
if [ -x scripts/main-job.sh ]; then
  exec bash scripts/main-job.sh
fi
