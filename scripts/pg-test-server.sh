#!/bin/sh
# pg-test-server.sh: a throwaway PostgreSQL server for the tests, listening
# only on a Unix socket in a fresh temporary directory.
#   eval "$(scripts/pg-test-server.sh start)"   # sets ASSOC_PG_URL, ASSOC_PG_DIR
#   scripts/pg-test-server.sh stop "$ASSOC_PG_DIR"
set -eu

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

# The highest installed server version wins; pg_config may belong to a
# client-only package, so its bindir must actually hold initdb.
find_bindir() {
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  fi
  best='' bestv=-1
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] || continue
    v=${d#/usr/lib/postgresql/}
    v=${v%%[!0-9]*}
    [ -n "$v" ] || continue
    if [ "$v" -gt "$bestv" ]; then best=$d bestv=$v; fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

# PostgreSQL refuses to run as root, so root runs it as the postgres user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A fresh directory under $1 that the server user owns and can reach, with
# a path short enough for a socket name (108 bytes); fails otherwise.
make_dir() {
  d=$(mktemp -d "$1/assoc-pg.XXXXXX" 2>/dev/null) || return 1
  # mktemp makes it 0700; clients running as another user must reach the
  # socket, so open it up like /tmp itself would be.
  chmod 755 "$d"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$d"; fi
  if [ ${#d} -gt 80 ] || ! as_owner test -w "$d" -a -x "$d"; then
    rm -rf "$d"
    return 1
  fi
  echo "$d"
}

start() {
  bindir=$(find_bindir) || die "no PostgreSQL server binaries found"
  dir=$(make_dir "${TMPDIR:-/tmp}") || dir=$(make_dir /tmp) ||
    die "cannot make a temporary directory the server user can use"
  owner=$(as_owner id -un)
  data="$dir/data"
  log="$dir/server.log"
  port=$((54000 + $$ % 1000))

  if ! as_owner "$bindir/initdb" -D "$data" -A trust -U postgres \
      --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed (data directory owned by $owner)"
  fi

  # pg_ctl -w would also wait, but pg_isready below gives a bounded,
  # explicit check with the log printed on failure.
  if ! as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -s \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' \
-p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
    [ -f "$log" ] && cat "$log" >&2
    as_owner "$bindir/pg_ctl" -D "$data" -s -m immediate stop \
      >/dev/null 2>&1 || true
    rm -rf "$dir"
    die "pg_ctl start failed"
  fi

  i=0
  until "$bindir/pg_isready" -q -h "$dir" -p "$port" -U postgres; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then
      [ -f "$log" ] && cat "$log" >&2
      as_owner "$bindir/pg_ctl" -D "$data" -s -m immediate stop \
        >/dev/null 2>&1 || true
      rm -rf "$dir"
      die "server did not accept connections within 30 s"
    fi
    sleep 0.5
  done

  echo "export ASSOC_PG_URL='postgres:host=$dir port=$port dbname=postgres user=postgres'"
  echo "export ASSOC_PG_DIR='$dir'"
}

stop() {
  dir=${1:-}
  [ -n "$dir" ] || die "usage: $0 stop <dir>"
  [ -d "$dir" ] || die "no such directory: $dir"
  [ -f "$dir/data/PG_VERSION" ] || die "$dir holds no server data directory"
  bindir=$(find_bindir) || die "no PostgreSQL server binaries found"
  if [ -f "$dir/data/postmaster.pid" ]; then
    # -w waits until the postmaster and every backend have exited.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -s -w -t 30 -m fast stop \
      >/dev/null 2>&1 ||
    as_owner "$bindir/pg_ctl" -D "$dir/data" -s -w -m immediate stop \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: $0 start | stop <dir>" ;;
esac
