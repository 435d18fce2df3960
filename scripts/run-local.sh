#!/usr/bin/env bash
# Runs the Kanso API on http://localhost:8080 with a local PostgreSQL (and Redis when redis-server
# is installed), with a signing key generated for the data folder. No Docker needed. Ctrl+C stops everything.
#   scripts/run-local.sh           one PostgreSQL
#   scripts/run-local.sh --citus   a Citus cluster instead: coordinator on KANSO_PG_PORT, two workers on the
#                                  next ports (Citus is built and installed first when missing, see
#                                  scripts/install-citus.sh); Kanso distributes its tables at start-up
set -euo pipefail
cd "$(dirname "$0")/.."
CITUS=""
for arg in "$@"; do
  case "$arg" in
    --citus) CITUS=1 ;;
    *) echo "usage: $0 [--citus]" >&2; exit 2 ;;
  esac
done

PG_PORT="${KANSO_PG_PORT:-55432}"
REDIS_PORT="${KANSO_REDIS_PORT:-56379}"
API_URL="${KANSO_URL:-http://localhost:8080}"
DATA="${KANSO_DATA:-/tmp/kanso-dev}"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

find_pg_bin() {
  command -v "$1" 2>/dev/null && return
  ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_pg_bin initdb)" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
  else
    echo "PostgreSQL binaries are missing: sudo apt-get install -y postgresql" >&2; exit 1
  fi
fi
INITDB="$(find_pg_bin initdb)"; PG_CTL="$(dirname "$INITDB")/pg_ctl"; PSQL="$(command -v psql || echo "$(dirname "$INITDB")/psql")"

mkdir -p "$DATA"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATA"
if [ -n "$CITUS" ]; then
  scripts/citus-cluster.sh start "$DATA/citus" "$PG_PORT" 2
elif [ ! -f "$DATA/pg/PG_VERSION" ]; then
  as_pg "$INITDB" -D "$DATA/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
fi
if [ -z "$CITUS" ]; then
  if ! as_pg "$PG_CTL" -D "$DATA/pg" status >/dev/null 2>&1; then
    as_pg "$PG_CTL" -D "$DATA/pg" -l "$DATA/pg.log" -w \
      -o "-p $PG_PORT -k $DATA -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  as_pg "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'kanso'" | grep -q 1 \
    || as_pg "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE kanso" >/dev/null
fi

REDIS_CONFIG=""
if command -v redis-server >/dev/null 2>&1; then
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$DATA/redis.pid" --logfile "$DATA/redis.log" >/dev/null
  fi
  REDIS_CONFIG="127.0.0.1:$REDIS_PORT"
fi

cleanup() {
  if [ -n "$CITUS" ]; then scripts/citus-cluster.sh stop "$DATA/citus"; else as_pg "$PG_CTL" -D "$DATA/pg" -m fast stop >/dev/null 2>&1 || true; fi
  [ -f "$DATA/redis.pid" ] && kill "$(cat "$DATA/redis.pid")" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=kanso"
export Redis__Configuration="$REDIS_CONFIG"
# A random signing key per data folder, kept there, so tokens survive a restart and no key is shared.
if [ -z "${Jwt__SigningKey:-}" ]; then
  if [ ! -s "$DATA/jwt-signing-key" ]; then
    (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > "$DATA/jwt-signing-key")
  fi
  Jwt__SigningKey="$(cat "$DATA/jwt-signing-key")"
fi
export Jwt__SigningKey
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
# Plain text logs for a terminal; without this the API writes one JSON object per line (appsettings.json).
export Logging__Console__FormatterName="${Logging__Console__FormatterName:-simple}"

if [ -n "$CITUS" ]; then echo "Citus:      coordinator 127.0.0.1:$PG_PORT, workers :$((PG_PORT + 1)) :$((PG_PORT + 2)) (data in $DATA/citus)"
else echo "PostgreSQL: 127.0.0.1:$PG_PORT (data in $DATA/pg)"; fi
echo "Redis:      ${REDIS_CONFIG:-not installed (in-process rate limiting)}"
echo "API:        $API_URL/api/v1   docs: $API_URL/scalar   OpenAPI: $API_URL/openapi/v1.json   health: $API_URL/health"
dotnet run --project Kanso.Api -c Release --urls "$API_URL"
