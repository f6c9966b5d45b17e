#!/usr/bin/env bash
# Runs a benchmark suite and prints, last, one JSON object per line per metric:
#   {"suite","metric","value","unit","baseline","baseline_value","ratio"}
# ratio > 1 means Banyan is better than the baseline (ours/baseline for throughputs,
# baseline/ours for latencies).
#
#   ./scripts/bench.sh pool     pool acquire+release vs ODB's connection_pool_factory
#   ./scripts/bench.sh store    insert, get by id, filtered page vs raw sqlite3/libmariadb
#   ./scripts/bench.sh messaging  durable end-to-end msg/s and commit-to-handler latency
#                                 vs raw ZeroMQ PUSH/PULL
set -euo pipefail
suite=${1:-}
case "$suite" in
  pool|store|messaging) ;;
  *) echo "usage: $0 pool|store|messaging" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" --test
source "$here/lib/common.sh"
source "$here/lib/mariadb.sh"
BANYAN_BUILD=${BANYAN_BENCH_BUILD:-$BANYAN_ROOT/build-bench}
build -DCMAKE_BUILD_TYPE=Release -DBANYAN_BUILD_BENCH=ON -DBANYAN_BUILD_TESTS=OFF
mariadb_start
json=$(mktemp)
reps=5
[[ $suite == messaging ]] && reps=3  # each repetition is a whole 20,000-message run
"$BANYAN_BUILD/bench/bench_$suite" --benchmark_repetitions=$reps \
  --benchmark_report_aggregates_only=true --benchmark_out="$json" --benchmark_out_format=json \
  >&2
python3 "$BANYAN_ROOT/bench/report.py" "$suite" "$json"
rm -f "$json"
