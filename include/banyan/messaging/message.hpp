// What the messaging layer delivers, and how a handler reports failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

#include "banyan/errors.hpp"
#include "banyan/export.hpp"
#include "banyan/store/outbox.hpp"

namespace banyan::messaging {

// One domain event delivered from a work queue.
struct BANYAN_EXPORT Message {
  store::DomainEvent event{};
  std::string queue{};
  // The delivery attempt this is, counting every earlier attempt (1 for the first).
  int attempt = 1;
};

// Whether retrying a failed message can help.
enum class ErrorClass { kTransient, kPermanent };

// Both are banyan::Errors of the one taxonomy: their code says what went wrong, their
// class whether trying the message again can help.

// Throw from a handler when retrying cannot help (bad data, a rule that will not change):
// the message skips its remaining retries and goes to the dead-letter queue at once.
// Its code: kValidation unless told (kConflict for a state that forbids the work, ...).
class BANYAN_EXPORT PermanentError : public Error {
 public:
  explicit PermanentError(const std::string& message, ErrorCode code = ErrorCode::kValidation)
      : Error(code, message) {}
};

// Throw from a handler for a failure that may pass (a timeout, a service down); its code
// kUnavailable unless told. Any other exception is transient too, except Banyan's
// ValidationError, NotFound and PermissionDenied, which are permanent.
class BANYAN_EXPORT TransientError : public Error {
 public:
  explicit TransientError(const std::string& message, ErrorCode code = ErrorCode::kUnavailable)
      : Error(code, message) {}
};

// The class of an exception thrown by a handler, by the rules above.
BANYAN_EXPORT ErrorClass classify(const std::exception& error) noexcept;
BANYAN_EXPORT const char* to_string(ErrorClass c) noexcept;

// Handles one message. Returning normally acknowledges it; throwing fails this attempt.
// Called on the consumer's own thread, one message at a time.
using MessageHandler = std::function<void(const Message&)>;
// Receives one published event (PUB/SUB fan-out). Exceptions are logged and dropped:
// fan-out is for live observers; work that must happen belongs in a work queue.
using EventHandler = std::function<void(const store::DomainEvent&)>;

// What a queue holds, by name: messages (ready, backing off or leased, for a work queue;
// entries not replayed, for the dead letters) and how long the oldest has waited.
struct BANYAN_EXPORT QueueBacklog {
  std::string queue{};
  std::int64_t depth = 0;
  std::chrono::microseconds oldest_age{0};
};

}  // namespace banyan::messaging
