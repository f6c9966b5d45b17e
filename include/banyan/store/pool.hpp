// Connection pool settings and metrics.
//
// Banyan's own pool is ODB's connection factory for both backends (see
// docs/ARCHITECTURE.md and lib/store/odb/connection_pool.hpp). This header is C++14-clean:
// the ODB island uses it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "banyan/export.hpp"

namespace banyan {
namespace store {

struct BANYAN_EXPORT PoolOptions {
  // Connections kept open even when idle. The pool opens them lazily, then keeps them.
  std::size_t min_size = 1;
  // Connections open at most. For SQLite, each is one sqlite3 handle on the file.
  std::size_t max_size = 8;
  // How long acquire() waits for a free connection before it throws PoolExhausted.
  std::chrono::milliseconds acquire_timeout{5000};
  // A connection older than this is closed when it is next returned or found idle.
  // Zero means no limit.
  std::chrono::milliseconds max_lifetime{std::chrono::minutes(30)};
  // An idle connection beyond min_size is closed after this long. Zero: never.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
  // A connection that sat idle at least this long is validated (a round trip) before
  // it is handed out; fresher ones are handed out without one.
  std::chrono::milliseconds validation_interval{std::chrono::seconds(5)};
  // A connection held longer than this is reported once as a probable leak. Zero: off.
  std::chrono::milliseconds leak_threshold{std::chrono::seconds(60)};
  // How often the housekeeper closes idle and expired connections and looks for leaks.
  std::chrono::milliseconds housekeeping_interval{std::chrono::seconds(1)};
};

// A snapshot of the pool's counters. Cumulative counters only grow.
struct BANYAN_EXPORT PoolMetrics {
  // Upper bounds (inclusive) of the acquisition-latency buckets, in nanoseconds; the
  // last bucket counts everything slower than the last bound.
  static constexpr std::array<std::uint64_t, 7> kLatencyBoundsNs = {
      1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

  std::uint64_t created = 0;    // connections opened, ever
  std::uint64_t destroyed = 0;  // connections closed, ever (expired, idle, broken)
  std::uint64_t broken = 0;     // of those, closed because they failed validation or use
  std::uint64_t acquired = 0;   // successful acquisitions, ever
  std::uint64_t timeouts = 0;   // acquisitions that gave up with PoolExhausted
  std::uint64_t leaks = 0;      // connections reported as held past leak_threshold
  std::size_t in_use = 0;       // now
  std::size_t idle = 0;         // now
  std::size_t waiters = 0;      // threads waiting now
  // Acquisition latency: counts per bucket of kLatencyBoundsNs, plus one overflow bucket.
  // An acquisition that found an idle connection needing no validation did not wait
  // and is counted in the first bucket without a clock read (it is a lock and a pop).
  std::array<std::uint64_t, 8> acquire_latency{};
};

}  // namespace store
}  // namespace banyan
