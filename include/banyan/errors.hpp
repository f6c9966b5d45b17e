// The one error taxonomy of Banyan.
//
// Every failure a caller can see is a banyan::Error carrying a stable ErrorCode. Errors
// from third-party libraries (ODB, SQLite, MariaDB, ...) are caught inside the library
// and translated; they never reach a caller. The edges convert these codes: HTTP
// problem+json in the server, exception classes in Python, status codes for plugins.
//
// This header is deliberately C++14-clean: the ODB island (compiled as C++14) throws
// these errors too.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "banyan/export.hpp"

namespace banyan {

enum class ErrorCode {
  kNotFound,          // the record (or referenced record) does not exist
  kConflict,          // stale version, duplicate unique key, or a state that forbids it
  kValidation,        // the input is malformed; field() names the offending field
  kPermissionDenied,  // the principal may not do this
  kRateLimited,       // too many requests; try again later
  kPoolExhausted,     // no connection became free within the acquisition timeout
  kUnavailable,       // the database cannot be reached or refuses service
  kInternal,          // a bug or an unexpected failure; the message says what
};

// Stable, lowercase machine name of a code ("not_found", "conflict", ...).
BANYAN_EXPORT const char* to_string(ErrorCode code) noexcept;

// Base of every Banyan exception. Thread-safe to copy; carries no resources.
class BANYAN_EXPORT Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string field = {});

  ErrorCode code() const noexcept { return code_; }
  // The offending field for kValidation (and for kConflict on a unique key), else empty.
  const std::string& field() const noexcept { return field_; }

 private:
  ErrorCode code_;
  std::string field_;
};

// One subclass per code, so callers may catch exactly what they handle.
#define BANYAN_DECLARE_ERROR(Name, Code)                              \
  class BANYAN_EXPORT Name : public Error {                           \
   public:                                                            \
    explicit Name(const std::string& message, std::string field = {}) \
        : Error(ErrorCode::Code, message, std::move(field)) {}        \
  };

BANYAN_DECLARE_ERROR(NotFound, kNotFound)
BANYAN_DECLARE_ERROR(Conflict, kConflict)
BANYAN_DECLARE_ERROR(ValidationError, kValidation)
BANYAN_DECLARE_ERROR(PermissionDenied, kPermissionDenied)
BANYAN_DECLARE_ERROR(RateLimited, kRateLimited)
BANYAN_DECLARE_ERROR(PoolExhausted, kPoolExhausted)
BANYAN_DECLARE_ERROR(Unavailable, kUnavailable)
BANYAN_DECLARE_ERROR(InternalError, kInternal)

#undef BANYAN_DECLARE_ERROR

}  // namespace banyan
