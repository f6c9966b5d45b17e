// Clock: where the library reads the time, as LevelDB's Env is where it reaches the
// system. The real one reads the system's clocks; a ManualClock moves only when told, so
// a test of a cache's lifetime, a pool's leak threshold, an export window or a record's
// timestamps advances it instead of sleeping. Given in the options of the Database (its
// pool, caches and the times it writes) and the Engine (its policy cache, export
// allowance and idempotency keys).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

// Thread-safe: read by every thread of a Database or Engine at once.
class BANYAN_EXPORT Clock {
 public:
  virtual ~Clock() = default;
  // For intervals (time-to-live, thresholds, windows): never goes back.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point steady() const = 0;
  // The instant written into records (created_at, updated_at, the audit trail).
  [[nodiscard]] virtual Timestamp wall() const = 0;

  // The system's clocks (std::chrono::steady_clock and system_clock); shared, never null.
  static std::shared_ptr<const Clock> real();
};

// A clock that stands still until advance() or set_wall() moves it; starts at the real
// clocks' readings when it is made. Thread-safe.
class BANYAN_EXPORT ManualClock final : public Clock {
 public:
  ManualClock();
  [[nodiscard]] std::chrono::steady_clock::time_point steady() const override;
  [[nodiscard]] Timestamp wall() const override;
  // Moves both readings forward by `by` (negative is treated as zero).
  void advance(std::chrono::microseconds by);
  // Sets the wall reading (the steady one stays: it never goes back).
  void set_wall(Timestamp at);

 private:
  std::atomic<std::int64_t> steady_us_;
  std::atomic<std::int64_t> wall_us_;
};

}  // namespace banyan
