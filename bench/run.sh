#!/usr/bin/env bash
# One command: seeds 2,000 users × 10 habits × 200 entries, starts the API in Release with Redis,
# drives every workload on loopback, and writes bench/RESULTS.md.
#   bench/run.sh            (KANSO_BENCH_SECONDS=15 per workload, KANSO_BENCH_USERS=2000)
#   bench/run.sh --citus    the same against a Citus cluster (coordinator + 2 workers on these cores),
#                           results in bench/RESULTS-citus.md (KANSO_BENCH_RESULTS overrides either)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
citus=""
[ "${1:-}" = "--citus" ] && citus=1

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
find_pg_bin() { command -v "$1" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }

need=()
[ -n "$(find_pg_bin initdb)" ] || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"; fi
INITDB="$(find_pg_bin initdb)"; PG_CTL="$(dirname "$INITDB")/pg_ctl"

work="$(mktemp -d /tmp/kanso-bench.XXXXXX)"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$work"
pg_port=$(( 20000 + RANDOM % 20000 )); redis_port=$(( pg_port + 1 ))
cleanup() {
  if [ -n "$citus" ]; then "$root/scripts/citus-cluster.sh" stop "$work/citus" || true; fi
  as_pg "$PG_CTL" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

tuning="-c shared_buffers=1GB -c effective_cache_size=4GB -c work_mem=16MB -c maintenance_work_mem=512MB -c max_wal_size=4GB -c synchronous_commit=off"
if [ -n "$citus" ]; then
  redis_port=$(( pg_port + 5 ))
  echo "Citus coordinator on $pg_port (workers on the next ports), Redis on $redis_port, data in $work"
  KANSO_PG_OPTIONS="$tuning" "$root/scripts/citus-cluster.sh" start "$work/citus" "$pg_port" 2
  export KANSO_BENCH_DATABASE="a Citus 13.2 cluster (coordinator + 2 workers, PostgreSQL 15)"
  export KANSO_BENCH_RESULTS="${KANSO_BENCH_RESULTS:-$root/bench/RESULTS-citus.md}"
else
  echo "PostgreSQL on $pg_port, Redis on $redis_port, data in $work"
  as_pg "$INITDB" -D "$work/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  # pg_stat_statements: statements per request, for the API's run and its ceiling alike.
  as_pg "$PG_CTL" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 \
    $tuning -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" start >/dev/null
  as_pg psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qc "CREATE DATABASE kanso" >/dev/null
fi
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$work/redis.pid" --logfile "$work/redis.log"

dotnet publish Kanso.Api/Kanso.Api.csproj -c Release -o "$work/api" -v quiet -nologo
dotnet build bench/Kanso.Bench/Kanso.Bench.csproj -c Release -o "$work/bench" -v quiet -nologo

export KANSO_BENCH_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=kanso"
export KANSO_BENCH_REDIS="127.0.0.1:$redis_port"
export KANSO_BENCH_API_DLL="$work/api/Kanso.Api.dll"
export KANSO_BENCH_RESULTS="${KANSO_BENCH_RESULTS:-$root/bench/RESULTS.md}"
export KANSO_BENCH_REDIS_PID="$(cat "$work/redis.pid")"
export KANSO_BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Kanso.Api bench migrations 2>/dev/null || echo '+changes')"
# The ceilings run pgbench on the plain server; on Citus, only the API's figures are measured.
[ -z "$citus" ] && export KANSO_BENCH_PGBENCH="$(find_pg_bin pgbench)"
export KANSO_BENCH_WRK="$(command -v wrk || true)"
dotnet "$work/bench/Kanso.Bench.dll"
