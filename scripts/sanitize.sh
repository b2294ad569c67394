#!/usr/bin/env bash
# Builds the framework with a sanitizer and runs under it the tests of the
# scheduler, the traces, the loader, the config, the run loop and its CLI
# tests, process isolation (its worker and the crashing fixture plugin,
# through the engine and `cascade run`; the host API conformance probe,
# also through a worker), the bad-input corpus, the fuzz
# drivers, and the analyzers (the
# analyzer host, `cascade isolate` and its report, the oracle and rules
# plugins over the text assistant, the SDK analyzer harness, the trace
# browser's index). Not part of the default test run: a separate build
# (build-tsan/ or build-asan/), about 20 min on 2 cores.
#
#   bash scripts/sanitize.sh            # ThreadSanitizer (build-tsan/)
#   bash scripts/sanitize.sh address,undefined   # ASan + UBSan (build-asan/)
#   bash scripts/sanitize.sh address,undefined cascade_analyze_test cascade_fpi_test
#                                       # only these test executables (and what they need)
#
# The analyzer tests replay the text assistant, so the language plugins
# (nlu, er, result) and their data are built; the speech plugins
# (pocketsphinx, espeak-ng) and their tests are not: only the targets below
# are built, and only the tests they make are run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
kind="${1:-thread}"
shift || true
dir=build-tsan
[ "$kind" = thread ] || dir=build-asan

# Test executables (gtest): every test they hold is run.
test_targets=(
  config_test graph_test cascade_traces_test cascade_engine_test cascade_loader_test cascade_basic_plugins_test
  cascade_isolation_test cascade_isolation_protocol_test cascade_host_api_conformance_test
  cascade_inputs_test cascade_outcome_test cascade_replay_test cascade_rewriting_chain_test
  cascade_rewriting_tools_test
  cascade_analyze_test cascade_fpi_test cascade_isolate_report_test cascade_analyzer_sdk_test cascade_ui_test
  cascade_feedback_test cascade_learned_test
  cascade_fuzz_config cascade_fuzz_trace cascade_fuzz_inputs cascade_fuzz_analysis cascade_fuzz_regressions_test
)
# Script tests (they run the `cascade` CLI and the plugins named here).
script_tests='^(Run\.|BadInputs\.|Isolate\.|Abi\.|Install\.OutOfTree|ProcessIsolation\.Cli)'
other_targets=(cascade cascade-eval cascade-stage-worker fixture_faulty normalize passthrough join noop nlu er result oracle
  rules assistant_data)
if [ $# -gt 0 ]; then  # a chosen few: their tests only, no script tests
  test_targets=("$@")
  other_targets=()
  script_tests='^$'
fi

# Warnings are not errors here: GCC 12 raises false -Wmaybe-uninitialized
# inside std::regex and std::function under -fsanitize (the default build
# keeps -Werror).
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASCADE_BUILD_VOICE=ON \
  -DCASCADE_BUILD_BENCH=OFF -DCASCADE_WERROR=OFF -DCASCADE_SANITIZE="$kind" > /dev/null
# Only targets this tree defines (a target another change has not landed
# yet is skipped, not an error).
targets=()
for t in "${test_targets[@]}" "${other_targets[@]}"; do
  if ninja -C "$dir" -t query "$t" > /dev/null 2>&1; then targets+=("$t"); else echo "sanitize: no target $t (skipped)"; fi
done
# Build-time tools (model training, data generation) run instrumented too;
# their leaks are not what this run is about.
ASAN_OPTIONS=detect_leaks=0 cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"

# The tests to run: those whose executable is one of the built test
# targets, and the script tests above. ctest -I takes their numbers.
built='^('"$(IFS='|'; echo "${test_targets[*]}")"')$'
numbers=$(ctest --test-dir "$dir" --show-only=json-v1 | jq -r --arg built "$built" --arg scripts "$script_tests" '
  .tests | to_entries[]
  | select(((((.value.command // [])[0] // "") | split("/") | last) // "" | test($built)) or (.value.name | test($scripts)))
  | .key + 1' | paste -sd, -)
[ -n "$numbers" ] || { echo "sanitize: no test selected" >&2; exit 2; }
echo "sanitize: $(tr ',' '\n' <<< "$numbers" | wc -l) tests under -fsanitize=$kind"

# oneTBB's own library is not instrumented: its internal hand-offs are
# invisible to TSan, so reports whose stack is entirely inside libtbb are
# suppressed; a race in Cascade's code still shows its own frames.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
ctest --test-dir "$dir" -j "$(nproc)" --output-on-failure -I "0,0,0,$numbers"
