#!/usr/bin/env bash
# Installs Citus 13.2.2 (distributed PostgreSQL) into the machine's PostgreSQL when it is missing,
# by building it from its source release. A no-op when citus.so is already installed.
#   scripts/install-citus.sh [TARBALL-PATH-OR-URL]
# The source tarball is, in this order: the argument, $CITUS_TARBALL, ../shared/citus/citus-13.2.2.tar.gz
# beside the repository (CI and machines without internet), else the GitHub release (needs internet).
# Needs root the first time (apt-get for the build dependencies, make install); about 8 minutes on 2 cores.
set -euo pipefail
version=13.2.2
repo="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"

major="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed 's#.*/postgresql/\([0-9]*\)/bin#\1#' | sort -n | tail -n 1)"
[ -n "$major" ] || { echo "citus: no PostgreSQL server under /usr/lib/postgresql (apt-get install -y postgresql)" >&2; exit 1; }
case "$major" in 15|16|17) ;; *) echo "citus: $version supports PostgreSQL 15-17, found $major" >&2; exit 1 ;; esac
libdir="/usr/lib/postgresql/$major/lib"
if [ -f "$libdir/citus.so" ] && [ -z "${CITUS_FORCE:-}" ]; then
  echo "citus: already installed for PostgreSQL $major"; exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "citus: not installed; run this script as root to build and install it" >&2; exit 1; }

source="${1:-${CITUS_TARBALL:-}}"
if [ -z "$source" ] && [ -f "$repo/../shared/citus/citus-$version.tar.gz" ]; then
  source="$repo/../shared/citus/citus-$version.tar.gz"
fi
source="${source:-https://github.com/citusdata/citus/archive/refs/tags/v$version.tar.gz}"

deps=(postgresql-server-dev-"$major" libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev
      libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev flex bison make gcc)
case "$source" in http://*|https://*) deps+=(curl ca-certificates) ;; esac
missing=()
for d in "${deps[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
case "$source" in
  http://*|https://*) curl -fsSL "$source" -o "$build/citus.tar.gz" ;;
  *) [ -f "$source" ] || { echo "citus: no tarball at $source" >&2; exit 1; }; cp "$source" "$build/citus.tar.gz" ;;
esac
mkdir "$build/src"
tar -xzf "$build/citus.tar.gz" -C "$build/src" --strip-components=1
cd "$build/src"
# Recent PostgreSQL 15 minor releases export have_createdb_privilege(), which Citus 13.2.2 still
# defines as a static compatibility helper for PostgreSQL 15: give Citus's copy its own name.
if [ "$major" = 15 ] && grep -q 'extern bool have_createdb_privilege' "/usr/include/postgresql/15/server/commands/dbcommands.h"; then
  sed -i '/^static inline bool$/{N;s/^static inline bool\nhave_createdb_privilege(void)$/#define have_createdb_privilege citus_have_createdb_privilege\nstatic inline bool\nhave_createdb_privilege(void)/}' \
    src/include/pg_version_compat.h
fi
echo "citus: building $version for PostgreSQL $major from $source (a few minutes)"
PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" ./configure --quiet >"$build/configure.log" 2>&1 \
  || { tail -n 20 "$build/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" >"$build/make.log" 2>&1 || { grep -m 5 -E 'error|Error' "$build/make.log" >&2; exit 1; }
make -s install >"$build/install.log" 2>&1 || { tail -n 20 "$build/install.log" >&2; exit 1; }
echo "citus: installed into $libdir (a cluster loads it with shared_preload_libraries=citus)"
