#!/usr/bin/env bash
# Installs what is missing, builds, runs clang-tidy where it is cheap
# (scripts/tidy.sh), and runs the whole default test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/tidy.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
