#!/usr/bin/env bash
# bench.sh: the benchmark of issue 7 in one command: builds a Release tree,
# runs raw C, LuaSQL and assoc on fresh SQLite and PostgreSQL databases for
# several rounds and prints the table (medians, ratios to raw C, checksums,
# W5 peak memory).  Knobs, all optional:
#   BENCH_ROUNDS=3  BENCH_SCALE=1 (0.1 for a quick run)
#   BENCH_DIALECTS="sqlite postgres"  BENCH_IMPLS="raw_c luasql assoc assoc_raw"
#   BENCH_BUILD_DIR=build-bench  BENCH_TIMEOUT=1800 (seconds per run)
#   BENCH_RESULTS=file (keep the raw RESULT lines there)
#   BENCH_PG_RANDOM_PAGE_COST=1.1 (set on each fresh database; empty: stock)
# Exits 1 if any checksum disagrees with raw C's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=${BENCH_ROUNDS:-3}
scale=${BENCH_SCALE:-1}
dialects=${BENCH_DIALECTS:-sqlite postgres}
impls=${BENCH_IMPLS:-raw_c luasql assoc assoc_raw}
build=${BENCH_BUILD_DIR:-build-bench}
run_timeout=${BENCH_TIMEOUT:-1800}

say() { echo "bench: $*" >&2; }

# ------------------------------------------------------------------ sizes
# The issue's sizes times the scale, with floors that keep every workload
# meaningful (W4 draws 25 projects outside a user's 50).
sizes=$(awk -v s="$scale" 'BEGIN {
  if (s + 0 <= 0) exit 1
  n = int(2000 * s + 0.5); if (n < 10) n = 10; printf "%d ", n
  n = int(5000 * s + 0.5); if (n < 100) n = 100; printf "%d ", n
  n = int(10000 * s + 0.5); if (n < 10) n = 10; printf "%d ", n
  n = int(10000 * s + 0.5); if (n < 10) n = 10; printf "%d ", n
  n = int(1000 * s + 0.5); if (n < 10) n = 10; printf "%d\n", n
}') || { say "BENCH_SCALE must be a positive number"; exit 2; }
read -r nu np n2 n3 n4 <<<"$sizes"

# ------------------------------------------------------------------ build
ASSOC_WITH_LUASQL=$(case " $impls " in *" luasql "*) echo 1 ;; *) echo 0 ;; esac) \
  scripts/install-deps.sh
say "building $build (Release)"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  >"$build/bench-configure.log" 2>&1 ||
  { cat "$build/bench-configure.log" >&2; say "configure failed"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target raw_sqlite benchutil >/dev/null ||
  { say "building the raw C benchmark failed"; exit 1; }
have_pg=0
if cmake --build "$build" -j"$(nproc)" --target raw_pg >/dev/null 2>&1; then
  have_pg=1
fi
have_assoc=0
case " $impls " in
  *" assoc "*|*" assoc_raw "*)
    if cmake --build "$build" -j"$(nproc)" --target assoc_lua \
        >"$build/bench-assoc-build.log" 2>&1; then
      have_assoc=1
    else
      say "the assoc Lua module does not build yet" \
          "(see $build/bench-assoc-build.log): assoc is left out"
    fi ;;
esac
export LUA_CPATH="$root/$build/bench/?.so;$root/$build/lua/?.so;;"
if [ "$have_assoc" -eq 1 ] &&
    ! err=$(cd / && lua5.4 -e 'require "assoc"' 2>&1); then
  say "the assoc module does not load yet: assoc is left out"
  say "${err%%$'\n'*}"
  have_assoc=0
fi

# ------------------------------------------------------------- databases
work=$(mktemp -d "${TMPDIR:-/tmp}/assoc-bench.XXXXXX")
pg_dir=''
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/pg-test-server.sh stop "$pg_dir" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_base=''
case " $dialects " in
  *" postgres "*)
    if [ "$have_pg" -eq 0 ]; then
      say "raw_pg did not build (no libpq?): PostgreSQL is left out"
      dialects=${dialects//postgres/}
    elif env_lines=$(scripts/pg-test-server.sh start); then
      eval "$env_lines"
      pg_dir=$ASSOC_PG_DIR
      pg_base=${ASSOC_PG_URL#postgres:}
    else
      say "no PostgreSQL test server: PostgreSQL is left out"
      dialects=${dialects//postgres/}
    fi ;;
esac

psql_bin=$(command -v psql || true)
# Everything the workload touches sits in shared buffers, so random reads
# cost what sequential ones do; with the stock 4 the planner picks a hash
# join over a scan of all projects for W2 (1.4 ms instead of 0.4 ms per
# call, for every implementation alike), which hides the client's cost.
pg_rpc=${BENCH_PG_RANDOM_PAGE_COST-1.1}
[ -n "$psql_bin" ] || pg_rpc=''
case "$pg_rpc" in ''|*[!0-9.]*) pg_rpc='' ;; esac
pg_sql() {
  "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$pg_base" -c "$1" >/dev/null
}

# A fresh database for one run: a new file, or a new PostgreSQL database
# (the programs also drop and recreate their tables, should psql be absent).
fresh_target() { # dialect name
  if [ "$1" = sqlite ]; then
    echo "$work/$2.db"
  elif [ -n "$psql_bin" ]; then
    pg_sql "CREATE DATABASE \"$2\""
    if [ -n "$pg_rpc" ]; then
      pg_sql "ALTER DATABASE \"$2\" SET random_page_cost = $pg_rpc"
    fi
    echo "${pg_base/dbname=postgres/dbname=$2}"
  else
    echo "$pg_base"
  fi
}
drop_target() { # dialect name
  if [ "$1" = sqlite ]; then
    rm -f "$work/$2.db" "$work/$2.db-wal" "$work/$2.db-shm"
  elif [ -n "$psql_bin" ]; then
    pg_sql "DROP DATABASE IF EXISTS \"$2\"" || true
  fi
}

set_command() { # impl dialect: the program in the array cmd
  case "$1" in
    raw_c) if [ "$2" = sqlite ]; then cmd=("$root/$build/bench/raw_sqlite")
           else cmd=("$root/$build/bench/raw_pg"); fi ;;
    luasql) cmd=(lua5.4 "$root/bench/luasql.lua" "$2") ;;
    assoc) cmd=(lua5.4 "$root/bench/assoc.lua" "$2") ;;
    assoc_raw) cmd=(env BENCH_ASSOC_RAW=1 lua5.4 "$root/bench/assoc.lua" "$2") ;;
  esac
}

# ------------------------------------------------------------------ runs
results=${BENCH_RESULTS:-$work/results.txt}
: >"$results"
say "scale $scale: $nu users, $np projects, W2 $n2, W3 $n3, W4 $n4;" \
    "$rounds rounds"
for round in $(seq 1 "$rounds"); do
  for dialect in $dialects; do
    for impl in $impls; do
      case "$impl" in
        assoc|assoc_raw) [ "$have_assoc" -eq 1 ] || continue ;;
      esac
      name="bench_${impl}_${dialect}_$round"
      log="$work/$name.log"
      target=$(fresh_target "$dialect" "$name")
      set_command "$impl" "$dialect"
      say "round $round: $impl on $dialect"
      status=0
      # W5 runs in a process of its own so that its peak RSS is its own.
      for phase in main w5; do
        if ! timeout "$run_timeout" "${cmd[@]}" "$target" "$phase" \
            "$nu" "$np" "$n2" "$n3" "$n4" >"$work/out" 2>>"$log"; then
          status=1
        fi
        sed "s/\$/ round=$round/" "$work/out" | grep '^RESULT' \
          >>"$results" || true
        [ "$status" -eq 0 ] || break
      done
      if [ "$status" -ne 0 ]; then
        echo "RESULT impl=$impl dialect=$dialect w=run error=exit status" \
             "round=$round" >>"$results"
        say "$impl on $dialect failed; its stderr:"
        tail -n 20 "$log" >&2 || true
      fi
      drop_target "$dialect" "$name"
    done
  done
done

lua5.4 "$root/bench/report.lua" "$results" "$scale" "$rounds" \
  "$nu" "$np" "$n2" "$n3" "$n4" "random_page_cost=${pg_rpc:-4 (stock)}"
