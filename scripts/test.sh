#!/usr/bin/env bash
# Every test: C unit tests, the busted specs on SQLite, and the same specs
# on a throwaway PostgreSQL server started here and stopped at the end,
# each also under valgrind; then the whole suite once more under
# AddressSanitizer + UBSan.
# ASSOC_PG_URL=... uses your own server instead of starting one.
# ASSOC_SKIP_SANITIZE=1 skips the sanitizer pass, ASSOC_SKIP_VALGRIND=1
# the valgrind runs.
set -euo pipefail
cd "$(dirname "$0")/.."
valgrind=ON
[ "${ASSOC_SKIP_VALGRIND:-0}" = 1 ] && valgrind=OFF
ASSOC_WITH_VALGRIND=$([ $valgrind = ON ] && echo 1 || echo 0) scripts/install-deps.sh

pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/pg-test-server.sh stop "$pg_dir" || true; fi
}
trap cleanup EXIT
if [ -z "${ASSOC_PG_URL:-}" ]; then
  eval "$(scripts/pg-test-server.sh start)"
  pg_dir=$ASSOC_PG_DIR
fi
export ASSOC_PG_URL

status=0
ASSOC_BUILD_DIR=build scripts/build.sh -DASSOC_WERROR=ON -DASSOC_VALGRIND=$valgrind
(cd build && ctest --output-on-failure -j"$(nproc)") || status=1

if [ "${ASSOC_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== the same suite under AddressSanitizer + UBSan"
  ASSOC_BUILD_DIR=build-asan ASSOC_BUILD_TYPE=Debug scripts/build.sh \
    -DASSOC_SANITIZE=ON -DASSOC_WERROR=ON
  # The Lua interpreter is not built with ASan: preload the runtime for the
  # specs, and leave leak checking to the C tests (lua5.4 itself never
  # frees its state on exit).
  asan_lib=$(gcc -print-file-name=libasan.so)
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure \
     -E '^spec_') || status=1
  (cd build-asan && LD_PRELOAD="$asan_lib" ASAN_OPTIONS=detect_leaks=0 \
     ctest --output-on-failure -R '^spec_') || status=1
fi
exit $status
