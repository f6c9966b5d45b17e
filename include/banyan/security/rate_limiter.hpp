// RateLimiter: how often a key (a principal, an address) may do something, by GCRA.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "banyan/export.hpp"

namespace banyan::security {

// `rate` events per `period`, with up to `burst` at once after a quiet spell.
struct BANYAN_EXPORT RateLimit {
  double rate = 100;
  std::chrono::milliseconds period{1000};
  double burst = 100;

  // ValidationError unless rate > 0, period > 0 and burst >= 1.
  void validate() const;
};

struct [[nodiscard]] RateDecision {
  bool allowed = true;
  // Events the key may still make at once (after this one, when allowed).
  std::size_t remaining = 0;
  // When allowed is false: how long until one more would be.
  std::chrono::milliseconds retry_after{0};
  // How long until the key is back to its full burst.
  std::chrono::milliseconds reset{0};
};

// The generic cell rate algorithm: one timestamp per key (its theoretical arrival time),
// so memory is one entry per active key; keys idle long enough to be back at a full
// burst are forgotten. Thread-safe (sharded locks); `now` is the caller's clock so tests
// need no sleeping.
class BANYAN_EXPORT RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // At most `max_keys` keys are tracked; past that the least recent are forgotten in bulk
  // (they start again at a full burst, which errs on the side of the client).
  explicit RateLimiter(std::size_t max_keys = 100000);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts `cost` events of `key` against `limit` when they are allowed (all of them fit
  // in what is left); refused ones count nothing.
  [[nodiscard]] RateDecision take(std::string_view key, const RateLimit& limit,
                                  Clock::time_point now = Clock::now(), double cost = 1);
  // As take(), but only looks: counts nothing.
  [[nodiscard]] RateDecision peek(std::string_view key, const RateLimit& limit,
                                  Clock::time_point now = Clock::now()) const;
  std::size_t tracked_keys() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace banyan::security
