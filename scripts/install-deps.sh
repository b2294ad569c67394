#!/usr/bin/env bash
# Installs every Debian 12 package Cascade needs to build, run and test.
# Idempotent and quick when everything is present: it asks dpkg first and
# only calls apt-get for what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang-tidy python3 jq
  libboost-dev libboost-graph-dev
  libtbb-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libxxhash-dev
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us sphinxtrain
  libespeak-ng-dev espeak-ng-data flite1-dev
  libfasttext-dev libsndfile1-dev
  chromium chromium-driver libcpp-httplib-dev
  libeigen3-dev
  libxgboost-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or install them yourself)" >&2
  exit 2
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
