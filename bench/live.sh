#!/usr/bin/env bash
# Live sync and compression (issue 15): two API instances, commit-to-event latency, 10,000 idle
# event streams (open-file limit raised) and pull pages with and without compression; writes its section of bench/RESULTS.md.
#   bench/live.sh           (KANSO_BENCH_SECONDS=10 per load, KANSO_BENCH_USERS=300, KANSO_BENCH_STREAMS=10000)
set -euo pipefail
# Ten thousand streams are ten thousand sockets in the load generator and as many in the API: raise
# the open-file limit for this shell and its children (to the hard limit where 65536 is not allowed).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n)"
source "$(dirname "$0")/lib.sh"
bench_setup -c max_connections=300
export KANSO_BENCH_RESULTS="$root/bench/RESULTS.md"
export KANSO_BENCH_SECONDS="${KANSO_BENCH_SECONDS:-10}" KANSO_BENCH_USERS="${KANSO_BENCH_USERS:-300}"
dotnet "$work/bench/Kanso.Bench.dll" live
