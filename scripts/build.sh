#!/usr/bin/env bash
# Configures and builds assoc into ${ASSOC_BUILD_DIR:-build}.  Extra
# arguments go to cmake's configure step (e.g. -DASSOC_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ASSOC_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${ASSOC_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
