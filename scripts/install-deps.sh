#!/usr/bin/env bash
# Installs what assoc needs to build and test, from Debian's packages only.
# Run as root on a fresh Debian bookworm machine; does nothing when
# everything is already there.
set -euo pipefail

packages=(cmake gcc make pkg-config lua5.4 liblua5.4-dev libsqlite3-dev
          libjansson-dev libpq-dev lua-busted)
if [ "${ASSOC_WITH_POSTGRES_SERVER:-1}" = 1 ]; then
  packages+=(postgresql)
fi
if [ "${ASSOC_WITH_VALGRIND:-0}" = 1 ]; then
  packages+=(valgrind)
fi
# The benchmark's hand-written Lua implementation (bench/luasql.lua).
if [ "${ASSOC_WITH_LUASQL:-0}" = 1 ]; then
  packages+=(lua-sql-sqlite3 lua-sql-postgres)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "assoc: missing packages: ${missing[*]}" >&2
  echo "assoc: run this script as root (or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "assoc: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
