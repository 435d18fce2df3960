# Shared by bench/run.sh and bench/live.sh (sourced, not run): installs what is missing, starts a
# throwaway PostgreSQL (or Citus cluster) and Redis on random ports under one work folder, publishes
# the API and builds the bench, and cleans everything up on exit.
#   bench_setup [--citus] [extra postgres -c options...]
# Sets: root, work, pg_port, redis_port, and exports KANSO_BENCH_POSTGRES, KANSO_BENCH_REDIS,
# KANSO_BENCH_REDIS_PID, KANSO_BENCH_API_DLL, KANSO_BENCH_COMMIT, KANSO_BENCH_PGBENCH, KANSO_BENCH_WRK.

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
find_pg_bin() { command -v "$1" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }

bench_cleanup() {
  if [ -n "${bench_citus:-}" ]; then "$root/scripts/citus-cluster.sh" stop "$work/citus" || true; fi
  as_pg "$PG_CTL" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
  rm -rf "$work"
}

bench_setup() {
  bench_citus=""
  if [ "${1:-}" = "--citus" ]; then bench_citus=1; shift; fi
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$root"

  local need=()
  [ -n "$(find_pg_bin initdb)" ] || need+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
  if [ ${#need[@]} -gt 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"; fi
  INITDB="$(find_pg_bin initdb)"; PG_CTL="$(dirname "$INITDB")/pg_ctl"

  work="$(mktemp -d /tmp/kanso-bench.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$work"; fi
  pg_port=$(( 20000 + RANDOM % 20000 )); redis_port=$(( pg_port + 1 ))
  trap bench_cleanup EXIT INT TERM

  local tuning="-c shared_buffers=1GB -c effective_cache_size=4GB -c work_mem=16MB -c maintenance_work_mem=512MB -c max_wal_size=4GB -c synchronous_commit=off"
  if [ -n "$bench_citus" ]; then
    redis_port=$(( pg_port + 5 ))
    echo "Citus coordinator on $pg_port (workers on the next ports), Redis on $redis_port, data in $work"
    KANSO_PG_OPTIONS="$tuning $*" "$root/scripts/citus-cluster.sh" start "$work/citus" "$pg_port" 2
  else
    echo "PostgreSQL on $pg_port, Redis on $redis_port, data in $work"
    as_pg "$INITDB" -D "$work/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
    as_pg "$PG_CTL" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 $tuning $*" start >/dev/null
    as_pg psql -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qc "CREATE DATABASE kanso" >/dev/null
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" --logfile "$work/redis.log"

  dotnet publish Kanso.Api/Kanso.Api.csproj -c Release -o "$work/api" -v quiet -nologo
  dotnet build bench/Kanso.Bench/Kanso.Bench.csproj -c Release -o "$work/bench" -v quiet -nologo

  for _ in $(seq 1 50); do [ -f "$work/redis.pid" ] && break; sleep 0.1; done
  export KANSO_BENCH_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=kanso"
  export KANSO_BENCH_REDIS="127.0.0.1:$redis_port"
  export KANSO_BENCH_REDIS_PID="$(cat "$work/redis.pid")"
  export KANSO_BENCH_API_DLL="$work/api/Kanso.Api.dll"
  KANSO_BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Kanso.Api bench migrations 2>/dev/null || echo '+uncommitted')"
  export KANSO_BENCH_COMMIT
  # The ceilings run pgbench against the plain server; on Citus only the API's figures are measured.
  if [ -z "$bench_citus" ]; then KANSO_BENCH_PGBENCH="$(find_pg_bin pgbench)"; export KANSO_BENCH_PGBENCH; fi
  KANSO_BENCH_WRK="$(command -v wrk || true)"; export KANSO_BENCH_WRK
}
