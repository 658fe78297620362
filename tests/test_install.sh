#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR: install into a temporary prefix,
# then use only that install: build examples/host.c with pkg-config and
# with find_package(assoc) and run both, run examples/quickstart.lua with
# the installed module, and drive the installed `assoc` command.
# Environment (set by CTest): CMAKE, CC, ASSOC_SANITIZE=1 for a sanitizer
# build (whose libraries need the sanitizer runtime in every program).
set -euo pipefail

build=$(cd "${1:?usage: test_install.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: test_install.sh BUILD_DIR SOURCE_DIR}" && pwd)
cmake=${CMAKE:-cmake}
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/assoc-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failures=0

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# expect FILE TEXT: FILE holds a line with TEXT.  A file is shown once,
# at its first failed check.
shown=" "
expect() {
  if ! grep -qF -- "$2" "$1"; then
    fail "expected '$2' in $(basename "$1")"
    case $shown in
      *" $1 "*) ;;
      *) sed 's/^/  | /' "$1" >&2; shown="$shown$1 " ;;
    esac
  fi
}

san_flags=()
lua_env=()
if [ "${ASSOC_SANITIZE:-0}" = 1 ]; then
  san_flags=(-fsanitize=address,undefined -fno-omit-frame-pointer)
  # lua5.4 itself is not instrumented: preload the runtime, no leak check
  # (the interpreter's own allocations are not ours to judge).
  lua_env=(LD_PRELOAD="$("$cc" -print-file-name=libasan.so)"
           ASAN_OPTIONS=detect_leaks=0)
fi

step "cmake --install $build --prefix $prefix"
unset DESTDIR
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
lib=$(dirname "$(find "$prefix" -name libassoc.so -print | head -n 1)")
for f in include/assoc.h include/assoc_lua.h lib/lua/5.4/assoc.so bin/assoc; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
for f in libassoc.so libassoc.a libassoc_lua.a pkgconfig/assoc.pc \
         pkgconfig/assoc-lua.pc cmake/assoc/assocConfig.cmake \
         cmake/assoc/assocConfigVersion.cmake cmake/assoc/assocTargets.cmake; do
  [ -e "$lib/$f" ] || fail "not installed: ${lib#"$prefix"/}/$f"
done
if [ "$failures" -ne 0 ]; then
  sed 's/^/  | /' "$tmp/install.log" >&2
  exit 1
fi

# host.c's output when its summary() ran and the rows are in its file.
check_host() {
  local titles="A Wizard of Earthsea; The Left Hand of Darkness"
  expect "$1" "summary: 3 books; before 1970: $titles"
  expect "$1" "in the file: Ursula K. Le Guin wrote 3 books"
  expect "$1" "host: connection was still open after Lua; closed it"
}

step "host.c with pkg-config --cflags --libs assoc-lua (assoc, lua5.4)"
export PKG_CONFIG_PATH="$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --cflags --libs assoc >"$tmp/pc-assoc.txt"
expect "$tmp/pc-assoc.txt" "-I$prefix/include"
expect "$tmp/pc-assoc.txt" "-L$lib -lassoc"
"$cc" "${san_flags[@]}" -o "$tmp/host-pc" "$src/examples/host.c" \
  -DASSOC_HOST_MODELS="\"$src/examples/models.lua\"" \
  $(pkg-config --cflags --libs assoc-lua sqlite3)
(cd "$tmp" && LD_LIBRARY_PATH="$lib" ./host-pc "$tmp/pc.db") \
  >"$tmp/host-pc.out" 2>&1 || fail "host (pkg-config) exited with $?"
check_host "$tmp/host-pc.out"

step "host.c with find_package(assoc) (examples/CMakeLists.txt)"
cmake_flags=()
if [ ${#san_flags[@]} -gt 0 ]; then
  cmake_flags=(-DCMAKE_C_FLAGS="${san_flags[*]}"
               -DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}")
fi
if "$cmake" -S "$src/examples" -B "$tmp/host-cmake" -DCMAKE_C_COMPILER="$cc" \
     -DCMAKE_PREFIX_PATH="$prefix" "${cmake_flags[@]}" >"$tmp/cmake.log" 2>&1 &&
   "$cmake" --build "$tmp/host-cmake" >>"$tmp/cmake.log" 2>&1; then
  grep -q "^assoc_DIR:PATH=$lib/cmake/assoc\$" "$tmp/host-cmake/CMakeCache.txt" ||
    fail "find_package(assoc) did not use the temporary install"
  LD_LIBRARY_PATH="$lib" "$tmp/host-cmake/host" "$tmp/cmake.db" \
    >"$tmp/host-cmake.out" 2>&1 || fail "host (find_package) exited with $?"
  check_host "$tmp/host-cmake.out"
else
  fail "examples/CMakeLists.txt did not build against the install:"
  sed 's/^/  | /' "$tmp/cmake.log" >&2
fi

step "lua5.4 examples/quickstart.lua with the installed module"
cpath="$prefix/lib/lua/5.4/?.so"
(cd "$tmp" && env "${lua_env[@]}" lua5.4 -e "
  package.cpath = '$cpath;' .. package.cpath
  assert(package.searchpath('assoc', package.cpath)
         == '$prefix/lib/lua/5.4/assoc.so')
" "$src/examples/quickstart.lua") >"$tmp/quickstart.out" 2>&1 ||
  fail "quickstart.lua exited with $?"
expect "$tmp/quickstart.out" "Ada is lead on Apollo"
expect "$tmp/quickstart.out" "bad user refused:	true"

step "the installed assoc command"
assoc_bin=$prefix/bin/assoc
"$assoc_bin" -v >"$tmp/cli-v.out" 2>&1 || fail "assoc -v exited with $?"
expect "$tmp/cli-v.out" "assoc 0.1.0"
cat >"$tmp/script.lua" <<'EOF'
local assoc = require("assoc")
local Note = db:define("Note", { body = assoc.TEXT })
db:sync{ force = true }
for i = 1, select("#", ...) do Note:create{ body = select(i, ...) } end
print(("dialect %s, notes %d, arg[0] %s"):format(db.dialect, Note:count(),
                                                 arg[0]))
EOF
(cd "$tmp" && "$assoc_bin" -d sqlite:cli.db script.lua one two) \
  >"$tmp/cli-script.out" 2>&1 || fail "assoc -d URL script.lua exited with $?"
expect "$tmp/cli-script.out" "dialect sqlite, notes 2, arg[0] script.lua"
printf '%s\n' 'db.dialect' '=#db:query("SELECT * FROM \"Notes\"")' \
  'n = 0' 'for i = 1, 3 do' '  n = n + i' 'end print("sum", n)' \
  'error("boom")' 'print("after the error")' |
  (cd "$tmp" && "$assoc_bin" -d sqlite:cli.db) >"$tmp/cli-repl.out" 2>&1 ||
  fail "assoc -d URL (prompt) exited with $?"
expect "$tmp/cli-repl.out" "sqlite"
expect "$tmp/cli-repl.out" "2"
expect "$tmp/cli-repl.out" "sum	6"
expect "$tmp/cli-repl.out" "boom"
expect "$tmp/cli-repl.out" "after the error"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "install, host (pkg-config and find_package), quickstart, assoc: ok"
