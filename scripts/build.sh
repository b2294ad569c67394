#!/usr/bin/env bash
# Configures and builds Cascade into ./build (Release with debug info,
# warnings as errors). Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASCADE_WERROR=ON "$@" > build/configure.log \
  || { cat build/configure.log; exit 2; }
cmake --build build -j "$(nproc)"
