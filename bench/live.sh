#!/usr/bin/env bash
# Live sync and compression (issue 15): two API instances, commit-to-event latency, 10,000 idle
# event streams (open-file limit raised) and pull pages with and without compression; writes its section of bench/RESULTS.md.
#   bench/live.sh           (KANSO_BENCH_SECONDS=10 per load, KANSO_BENCH_USERS=300, KANSO_BENCH_STREAMS=10000)
set -euo pipefail
# Ten thousand streams are ten thousand sockets in the load generator and as many in the API: raise
# the open-file limit for this shell and its children (to the hard limit where 65536 is not allowed).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n)"
cd "$(dirname "$0")/.."
root="$(pwd)"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
find_pg_bin() { command -v "$1" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }

need=()
[ -n "$(find_pg_bin initdb)" ] || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"; fi
INITDB="$(find_pg_bin initdb)"; PG_CTL="$(dirname "$INITDB")/pg_ctl"

work="$(mktemp -d /tmp/kanso-bench.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work"
pg_port=$(( 20000 + RANDOM % 20000 )); redis_port=$(( pg_port + 1 ))
cleanup() {
  as_pg "$PG_CTL" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "PostgreSQL on $pg_port, Redis on $redis_port, data in $work"
as_pg "$INITDB" -D "$work/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
as_pg "$PG_CTL" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 \
  -c shared_buffers=1GB -c effective_cache_size=4GB -c work_mem=16MB -c maintenance_work_mem=512MB \
  -c max_wal_size=4GB -c synchronous_commit=off -c max_connections=300" start >/dev/null
as_pg psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qc "CREATE DATABASE kanso" >/dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$work/redis.pid" --logfile "$work/redis.log"

dotnet publish Kanso.Api/Kanso.Api.csproj -c Release -o "$work/api" -v quiet -nologo
dotnet build bench/Kanso.Bench/Kanso.Bench.csproj -c Release -o "$work/bench" -v quiet -nologo

export KANSO_BENCH_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=kanso"
export KANSO_BENCH_REDIS="127.0.0.1:$redis_port"
export KANSO_BENCH_API_DLL="$work/api/Kanso.Api.dll"
export KANSO_BENCH_RESULTS="$root/bench/RESULTS.md"
export KANSO_BENCH_SECONDS="${KANSO_BENCH_SECONDS:-10}" KANSO_BENCH_USERS="${KANSO_BENCH_USERS:-300}"
dotnet "$work/bench/Kanso.Bench.dll" live
