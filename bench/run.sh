#!/usr/bin/env bash
# One command: seeds 2,000 users × 10 habits × 200 entries (plus accounts of 1,000 / 20,000 / 200,000
# rows), starts the API in Release with Redis, drives every workload on loopback, runs each workload's
# pgbench ceiling right after it, and writes bench/RESULTS.md (ratio = Kanso ÷ ceiling).
#   bench/run.sh            KANSO_BENCH_SECONDS=6 per workload and round, KANSO_BENCH_ROUNDS=6, KANSO_BENCH_USERS=2000,
#                           KANSO_BENCH_CEILING_SECONDS=4 per client count, KANSO_BENCH_CURVE_SECONDS=6,
#                           KANSO_BENCH_ONLY=pull,stats,update,create,push,curves (a subset), KANSO_BENCH_SCALING=0,
#                           KANSO_BENCH_BASELINE=<commit>: that commit's API runs pull/update/create/push too
#   bench/run.sh --citus    the same against a Citus cluster (coordinator + 2 workers on these cores), without
#                           ceilings; results in bench/RESULTS-citus.md (KANSO_BENCH_RESULTS overrides either)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if [ "${1:-}" = "--citus" ]; then
  bench_setup --citus
  export KANSO_BENCH_DATABASE="a Citus 13.2 cluster (coordinator + 2 workers, PostgreSQL 15)"
  export KANSO_BENCH_RESULTS="${KANSO_BENCH_RESULTS:-$root/bench/RESULTS-citus.md}"
else
  # pg_stat_statements: statements per request, for the API's run and its ceiling alike.
  bench_setup -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all
  export KANSO_BENCH_RESULTS="${KANSO_BENCH_RESULTS:-$root/bench/RESULTS.md}"
fi
# KANSO_BENCH_BASELINE=<commit>: that commit's API runs the same workloads too (before/after in one run).
if [ -n "${KANSO_BENCH_BASELINE:-}" ]; then
  mkdir -p "$work/baseline-src"
  git -C "$root" archive "$KANSO_BENCH_BASELINE" Kanso.Api migrations Directory.Build.props | tar -x -C "$work/baseline-src"
  dotnet publish "$work/baseline-src/Kanso.Api/Kanso.Api.csproj" -c Release -o "$work/baseline" -v quiet -nologo
  export KANSO_BENCH_BASELINE_DLL="$work/baseline/Kanso.Api.dll"
fi
dotnet "$work/bench/Kanso.Bench.dll"
