// How a failure is classified, when it is tried again, and what retention keeps
// (banyan/messaging/retry_policy.hpp, RetentionPolicy in message_bus.hpp).
#include <cmath>
#include <exception>

#include "banyan/errors.hpp"
#include "messaging/queue_store.hpp"

namespace banyan::messaging {

ErrorClass classify(const std::exception& error) noexcept {
  // What the handler said outright, whatever its code.
  if (dynamic_cast<const PermanentError*>(&error) != nullptr) return ErrorClass::kPermanent;
  if (dynamic_cast<const TransientError*>(&error) != nullptr) return ErrorClass::kTransient;
  if (const auto* e = dynamic_cast<const Error*>(&error)) {
    switch (e->code()) {
      case ErrorCode::kValidation:
      case ErrorCode::kNotFound:
      case ErrorCode::kPermissionDenied:
        return ErrorClass::kPermanent;
      default:
        return ErrorClass::kTransient;
    }
  }
  return ErrorClass::kTransient;
}

const char* to_string(ErrorClass c) noexcept {
  return c == ErrorClass::kPermanent ? "permanent" : "transient";
}

std::chrono::milliseconds RetryPolicy::delay_after(int round, double unit) const noexcept {
  const double base = static_cast<double>(initial_delay.count()) *
                      std::pow(multiplier, static_cast<double>(std::max(round, 1) - 1));
  const double capped = std::min(base, static_cast<double>(max_delay.count()));
  const double jittered = capped * (1.0 - jitter * std::clamp(unit, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
}

void RetryPolicy::validate() const {
  if (immediate_retries < 0 || immediate_retries > 100)
    throw ValidationError("immediate_retries: must be between 0 and 100", "immediate_retries");
  if (max_attempts < 1 || max_attempts > 1000)
    throw ValidationError("max_attempts: must be between 1 and 1000", "max_attempts");
  if (initial_delay.count() < 0)
    throw ValidationError("initial_delay: must not be negative", "initial_delay");
  if (max_delay < initial_delay)
    throw ValidationError("max_delay: must not be shorter than initial_delay", "max_delay");
  if (!(multiplier >= 1.0 && multiplier <= 100.0))
    throw ValidationError("multiplier: must be between 1 and 100", "multiplier");
  if (!(jitter >= 0.0 && jitter <= 1.0))
    throw ValidationError("jitter: must be between 0 and 1", "jitter");
}

void RetentionPolicy::validate() const {
  for (const auto& [window, field] :
       {std::pair{outbox, "outbox"}, std::pair{processed, "processed"},
        std::pair{dead_letters, "dead_letters"}})
    if (window.count() < 0)
      throw ValidationError(std::string(field) + ": must not be negative", field);
  const bool claims_forever = processed.count() == 0;
  const bool letters_forever = dead_letters.count() == 0;
  if (!claims_forever && (letters_forever || processed < dead_letters))
    throw ValidationError("processed: claims must be kept at least as long as dead letters",
                          "processed");
  if (batch_size < 1 || batch_size > 10000)
    throw ValidationError("batch_size: must be between 1 and 10000", "batch_size");
  if (interval < std::chrono::milliseconds(100))
    throw ValidationError("interval: must be at least 100 ms", "interval");
}

}  // namespace banyan::messaging
