#!/usr/bin/env bash
# clang-tidy (.clang-tidy's checks, warnings as errors) over the code where
# it is cheap: about a minute on 2 cores. The CLI front ends, the speech and
# language plugins and the tests are left out: each of their files pulls in
# CLI11, Boost or GoogleTest and costs up to a minute alone.
# Needs build/compile_commands.json (scripts/build.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
[ -f build/compile_commands.json ] || { echo "tidy: run scripts/build.sh first" >&2; exit 2; }
files=(
  core/graph/graph.cpp core/loader/loader.cpp
  core/run/inputs.cpp core/run/loop.cpp core/run/plan.cpp core/run/replay.cpp
  core/apps/cascade/crash_report.cpp core/apps/cascade/run_commands.cpp core/apps/cascade/isolate_train_model.cpp
  core/apps/cascade/isolate_train_probes.cpp core/apps/cascade/isolate_train_cv.cpp
  core/runtime/engine.cpp core/runtime/outcome.cpp core/runtime/stage_caller.cpp core/runtime/compiled_plan.cpp
  core/isolation/process_stage.cpp core/isolation/protocol.cpp core/isolation/worker_process.cpp
  core/isolation/worker_main.cpp
  core/analyze/analyzer_host.cpp core/analyze/analysis_file.cpp core/analyze/replay_service.cpp
  core/analyze/scoring.cpp core/analyze/scoring_json.cpp core/analyze/turn_views.cpp core/analyze/baselines.cpp
  plugins/analyzers/oracle/oracle.cpp plugins/analyzers/rules/rules.cpp
  plugins/analyzers/learned/json_tape.cpp plugins/analyzers/learned/readings.cpp plugins/analyzers/learned/features.cpp
  plugins/analyzers/learned/alternatives.cpp plugins/analyzers/learned/intent_prior.cpp
  plugins/analyzers/learned/score_accuracy.cpp
  plugins/basic/join/join.cpp plugins/basic/noop/noop.cpp
  plugins/basic/normalize/normalize.cpp plugins/basic/passthrough/passthrough.cpp
  plugins/models/model_path.cpp
  traces/src/reader.cpp traces/src/turns.cpp traces/src/writer.cpp
  traces/src/tools/cat.cpp traces/src/tools/diff.cpp traces/src/tools/export.cpp
  traces/src/tools/json.cpp traces/src/tools/stats.cpp traces/src/tools/verify.cpp
  traces/src/tools/where.cpp
  tools/eval/fpi_recorded.cpp tools/eval/fpi_train_folds.cpp tools/eval/fpi_fold_models.cpp tools/eval/fpi_live.cpp
  tools/simulate/trace_turns.cpp plugins/language/data/record_field.cpp plugins/language/text/spoken.cpp
)
# Headers of the source tree (the SDK's header-only layer included), not
# the build tree's generated ones or the system's.
filter="^${root}/(sdk|core|traces|plugins)/"
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p build --quiet --header-filter="$filter" 2> >(grep -v -E "warnings? generated|Suppressed|Use -header-filter|Use -system-headers" >&2)
echo "tidy: ${#files[@]} files clean"
