#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, and run the
# example model script on the embedded SQLite default.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSOC_WITH_POSTGRES_SERVER=0 scripts/install-deps.sh
echo "assoc: building (log in build/quickstart-build.log)"
mkdir -p build
scripts/build.sh > build/quickstart-build.log 2>&1 ||
  { cat build/quickstart-build.log; exit 1; }
LUA_CPATH="$PWD/build/lua/?.so;;" lua5.4 examples/quickstart.lua
