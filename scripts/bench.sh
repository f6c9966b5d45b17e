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
#   ./scripts/bench.sh json     the request parser on the worst ~1 MiB bodies vs nlohmann's
#                               unchecked parser (ms per MiB)
#   ./scripts/bench.sh http     banyan-server under wrk (GET by id, list, create at 64 and
#                               1,000 connections) and 50,000 held connections, vs a
#                               minimal Beast server (bench/http_bench.py)
#   ./scripts/bench.sh python   the Python module: inserts one per transaction and in batches
#                               of 500, get by id, a filtered page, vs Python's sqlite3 running
#                               the same statements and SQLAlchemy's ORM (bench/python_bench.py)
#   ./scripts/bench.sh soak     1,000,000 events through the outbox, two queues and the
#                               dead letters with a 10 s retention window: each table's
#                               size late in the run against early (bench/soak.cpp; not a
#                               comparison, a check that retention keeps up)
set -euo pipefail
suite=${1:-}
case "$suite" in
  pool|store|messaging|json|http|soak|python) ;;
  *) echo "usage: $0 pool|store|messaging|json|http|soak|python" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh" --bench
source "$here/lib/common.sh"
source "$here/lib/mariadb.sh"
BANYAN_BUILD=${BANYAN_BENCH_BUILD:-$BANYAN_ROOT/build-bench}
[[ $suite == python ]] && export BANYAN_TARGETS="banyan_python banyan_python_stubs"
build -DCMAKE_BUILD_TYPE=Release -DBANYAN_BUILD_BENCH=ON -DBANYAN_BUILD_TESTS=OFF \
  -DBANYAN_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3
if [[ $suite == python ]]; then
  PYTHONPATH="$BANYAN_BUILD/python" /usr/bin/python3 "$BANYAN_ROOT/bench/python_bench.py"
  exit 0
fi
if [[ $suite == http ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  /usr/bin/python3 "$BANYAN_ROOT/bench/http_bench.py" --server "$BANYAN_BUILD/hosts/server/banyan-server" \
    --cli "$BANYAN_BUILD/hosts/cli/banyan" \
    --minimal "$BANYAN_BUILD/bench/minimal_http_server" --hold "$BANYAN_ROOT/bench/http_hold.py" --work "$work"
  exit 0
fi
if [[ $suite == soak ]]; then
  "$BANYAN_BUILD/bench/banyan_soak" --events "${BANYAN_SOAK_EVENTS:-1000000}" --window 10
  exit $?
fi
[[ $suite == json ]] || mariadb_start
json=$(mktemp)
reps=5
[[ $suite == messaging ]] && reps=3  # each repetition is a whole 20,000-message run
"$BANYAN_BUILD/bench/bench_$suite" --benchmark_repetitions=$reps \
  --benchmark_report_aggregates_only=true --benchmark_out="$json" --benchmark_out_format=json \
  >&2
python3 "$BANYAN_ROOT/bench/report.py" "$suite" "$json"
rm -f "$json"
