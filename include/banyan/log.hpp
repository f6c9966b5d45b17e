// What the library reports on its own, beside its results: a relay that took or lost its
// lease, a schema migrated, a pool connection leaked, a request refused or failed. The
// library is quiet unless it is given a sink (DatabaseOptions::log, BusOptions::log, the
// Api's): the program that embeds it decides where events go and which levels it keeps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "banyan/export.hpp"

namespace banyan {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarning, kError };

// "debug", "info", "warning", "error".
BANYAN_EXPORT std::string_view level_name(LogLevel level) noexcept;
// The level of such a name; ValidationError for another.
BANYAN_EXPORT LogLevel parse_log_level(std::string_view name);

// One event: its level, a stable snake_case name ("relay_lease_taken") and its fields.
// The fields are kept as the members of a JSON object, escaped as they are added
// (`"event":"relay_lease_taken","node":"a"`), so a sink writes a JSON line by adding what
// it adds (the time, the level) around them. By convention `message` is a sentence for
// people.
class BANYAN_EXPORT LogEvent {
 public:
  LogEvent(LogLevel level, std::string_view name);

  LogEvent& with(std::string_view key, std::string_view value);
  LogEvent& with(std::string_view key, const char* value) {
    return with(key, std::string_view(value));
  }
  LogEvent& with(std::string_view key, std::int64_t value);
  // `value` with `decimals` digits after the point (a duration in milliseconds).
  LogEvent& with_fixed(std::string_view key, double value, int decimals);

  [[nodiscard]] LogLevel level() const noexcept { return level_; }
  // The members, without the braces: `"event":"...",...`.
  [[nodiscard]] const std::string& members() const noexcept { return members_; }
  // One JSON object: the members in braces.
  [[nodiscard]] std::string json() const;

 private:
  void key(std::string_view key);

  LogLevel level_;
  std::string members_;
};

// Where events go. Called on the thread that reports, possibly on several at once.
using LogSink = std::function<void(const LogEvent&)>;

}  // namespace banyan
