#!/usr/bin/env bash
# libFuzzer over the readers of outside bytes (tests/fuzz, docs/robustness.md):
# builds build-fuzz/ with clang, -fsanitize=fuzzer,address,undefined, and
# runs each target for SECONDS (default 600: the documented long run),
# seeded from tests/fuzz/corpus/<target>/ and the bad-input corpora. Prints
# per target the executions, exec/s, coverage (libFuzzer's cov: edges and
# ft: features) and the corpus it grew. Not part of the default tests (they
# run the same targets through a gcc-built standalone driver).
#
#   bash scripts/fuzz.sh                 # 600 s per target
#   bash scripts/fuzz.sh 60 trace inputs # 60 s, two targets
#   bash scripts/fuzz.sh build           # build only
#
# A crash leaves its input in build-fuzz/artifacts/<target>/ and the script
# exits 1: fix the reader, then keep the input as a regression seed in
# tests/fuzz/corpus/<target>/ (the default tests replay it from then on).
# The corpus libFuzzer grows stays in build-fuzz/corpus/<target>/ (not in
# git; later runs start from it).
set -euo pipefail
cd "$(dirname "$0")/.."
all_targets=(config trace inputs analysis)

build_only=false
seconds=600
if [ "${1:-}" = build ]; then build_only=true; shift
elif [ $# -gt 0 ]; then seconds=$1; shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# clang and its libFuzzer runtime (Debian: clang, libfuzzer-14-dev).
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a > /dev/null 2>&1 ||
   ! command -v clang++ > /dev/null; then
  if [ "$(id -u)" -ne 0 ]; then echo "fuzz: needs clang and libfuzzer-14-dev (apt-get install clang libfuzzer-14-dev)" >&2; exit 2; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libfuzzer-14-dev > /dev/null
fi

dir=build-fuzz
mkdir -p "$dir"
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASCADE_FUZZ=ON \
  -DCASCADE_SANITIZE=address,undefined -DCASCADE_BUILD_VOICE=OFF -DCASCADE_BUILD_BENCH=OFF -DCASCADE_WERROR=OFF \
  > "$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; exit 2; }
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/#/cascade_fuzz_}"
$build_only && exit 0

# UBSan reports abort (so libFuzzer keeps the input); leaks are reported.
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"
status=0
rows=()
for t in "${targets[@]}"; do
  corpus=$dir/corpus/$t artifacts=$dir/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  IFS=";" read -r -a seeds < "$dir/tests/fuzz/$t.seeds" || true  # one line, no newline
  log=$dir/fuzz-$t.log
  echo "fuzz: $t for $seconds s (log: $log)"
  touch "$dir/start-$t"  # crashes of this run: artifacts newer than this
  if ! "$dir/bin/cascade_fuzz_$t" "$corpus" "${seeds[@]}" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" > "$log" 2>&1; then
    status=1
    echo "fuzz: $t FOUND A CRASH: $(find "$artifacts" -type f -newer "$dir/start-$t" | tr '\n' ' ')"
    grep -m1 -A12 -E "ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error" "$log" || tail -20 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  units=$(find "$corpus" -type f | wc -l)
  rows+=("| $t | $seconds | ${runs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $units | $(find "$artifacts" -type f -newer "$dir/start-$t" | wc -l) |")
done
echo
echo "| target | seconds | executions | exec/s | cov (edges) | ft (features) | corpus grown | crashes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $status
