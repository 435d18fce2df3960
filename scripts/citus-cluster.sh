#!/usr/bin/env bash
# A local Citus cluster: one coordinator and N workers, each an ordinary PostgreSQL cluster on
# 127.0.0.1 with shared_preload_libraries=citus and wal_level=logical (so the shard rebalancer can
# move shards with logical replication while writes go on). Used by run-local.sh --citus and bench.
#   citus-cluster.sh start DIR PORT [WORKERS]   coordinator on PORT, workers on PORT+1..PORT+N, database kanso
#   citus-cluster.sh add-worker DIR PORT         starts one more worker on PORT and adds it (no shards moved)
#   citus-cluster.sh stop DIR                    stops every node under DIR
set -euo pipefail
here="$(dirname "$(readlink -f "$0")")"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
find_pg_bin() { command -v "$1" 2>/dev/null && return; ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }
INITDB="$(find_pg_bin initdb)"; PG_CTL="$(dirname "$INITDB")/pg_ctl"; PSQL="$(command -v psql || echo "$(dirname "$INITDB")/psql")"

"$here/install-citus.sh" >/dev/null

start_node() { # dir port
  local dir="$1" port="$2"
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    mkdir -p "$dir"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_pg "$INITDB" -D "$dir/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  fi
  if ! as_pg "$PG_CTL" -D "$dir/pg" status >/dev/null 2>&1; then
    as_pg "$PG_CTL" -D "$dir/pg" -l "$dir/pg.log" -w -t 120 -o "-p $port -k $dir -c listen_addresses=127.0.0.1 \
      -c shared_preload_libraries=citus -c wal_level=logical -c max_connections=300 -c max_wal_senders=20 \
      -c max_replication_slots=20 -c max_worker_processes=32 -c synchronous_commit=off ${KANSO_PG_OPTIONS:-}" start >/dev/null
  fi
  echo "$port" >"$dir/port"
  as_pg "$PSQL" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'kanso'" | grep -q 1 \
    || as_pg "$PSQL" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE kanso" >/dev/null
  as_pg "$PSQL" -h 127.0.0.1 -p "$port" -U postgres -d kanso -qc "CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
}

coordinator_sql() { as_pg "$PSQL" -h 127.0.0.1 -p "$(cat "$1/coordinator/port")" -U postgres -d kanso -qtAc "$2"; }

case "${1:-}" in
  start)
    dir="$2"; port="$3"; workers="${4:-2}"
    start_node "$dir/coordinator" "$port"
    coordinator_sql "$dir" "SELECT citus_set_coordinator_host('127.0.0.1', $port)" >/dev/null
    for i in $(seq 1 "$workers"); do
      start_node "$dir/worker$i" $((port + i))
      coordinator_sql "$dir" "SELECT citus_add_node('127.0.0.1', $((port + i)))" >/dev/null
    done
    echo "citus: coordinator 127.0.0.1:$port, workers $(coordinator_sql "$dir" "SELECT string_agg(nodeport::text, ',') FROM pg_dist_node WHERE groupid <> 0")"
    ;;
  add-worker)
    dir="$2"; port="$3"; n=1; while [ -d "$dir/worker$n" ]; do n=$((n + 1)); done
    start_node "$dir/worker$n" "$port"
    coordinator_sql "$dir" "SELECT citus_add_node('127.0.0.1', $port)" >/dev/null
    echo "citus: worker$n on 127.0.0.1:$port added"
    ;;
  stop)
    dir="$2"
    for node in "$dir"/coordinator "$dir"/worker*; do
      [ -d "$node/pg" ] && as_pg "$PG_CTL" -D "$node/pg" -m fast stop >/dev/null 2>&1 || true
    done
    ;;
  *) echo "usage: $0 start DIR PORT [WORKERS] | add-worker DIR PORT | stop DIR" >&2; exit 2 ;;
esac
