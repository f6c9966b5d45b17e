// How a work queue retries a failed message before dead-lettering it.
#pragma once

#include <chrono>

#include "banyan/export.hpp"

namespace banyan::messaging {

struct BANYAN_EXPORT RetryPolicy {
  // Attempts made at once by the consumer, before the message goes back to the queue.
  int immediate_retries = 2;
  // All attempts, immediate and delayed, before the message is dead-lettered (>= 1).
  int max_attempts = 6;
  // Delay before the first delayed retry; each further one is `multiplier` times longer,
  // capped at `max_delay`.
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{std::chrono::minutes(5)};
  double multiplier = 2.0;
  // Each delay is shortened by a random fraction up to `jitter` (0..1), so consumers that
  // failed together do not retry together.
  double jitter = 0.2;

  // The delay after the `round`-th delayed round failed (1 for the first), given a random
  // `unit` in [0, 1). Deterministic, so it can be tested.
  std::chrono::milliseconds delay_after(int round, double unit) const noexcept;
  // Throws ValidationError naming the first bad field.
  void validate() const;
};

}  // namespace banyan::messaging
