// Percentiles for benchmarks that report medians and tails rather than means.
#ifndef BANYAN_BENCH_UTIL_HPP
#define BANYAN_BENCH_UTIL_HPP

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace banyan {
namespace bench {

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Sets p50_ns and p99_ns counters (averaged over threads when the benchmark is threaded).
inline void report_latency(benchmark::State& state, const std::vector<double>& samples_ns) {
  state.counters["p50_ns"] =
      benchmark::Counter(percentile(samples_ns, 0.50), benchmark::Counter::kAvgThreads);
  state.counters["p99_ns"] =
      benchmark::Counter(percentile(samples_ns, 0.99), benchmark::Counter::kAvgThreads);
}

// Removes a scratch SQLite database and its -wal and -shm files.
inline void remove_sqlite_files(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

}  // namespace bench
}  // namespace banyan

#endif
