#include "banyan/log.hpp"

#include <charconv>

#include "banyan/errors.hpp"
#include "util/encoding.hpp"

namespace banyan {

std::string_view level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

LogLevel parse_log_level(std::string_view name) {
  for (const LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError})
    if (name == level_name(level)) return level;
  throw ValidationError(
      "log level: debug, info, warning or error, not \"" + std::string(name.substr(0, 40)) + "\"",
      "log_level");
}

LogEvent::LogEvent(LogLevel level, std::string_view name) : level_(level) {
  members_.reserve(128);
  members_ = R"("event":)";
  util::append_json_string(name, members_);
}

void LogEvent::key(std::string_view key) {
  members_ += ',';
  util::append_json_string(key, members_);
  members_ += ':';
}

LogEvent& LogEvent::with(std::string_view key, std::string_view value) {
  this->key(key);
  util::append_json_string(value, members_);
  return *this;
}

LogEvent& LogEvent::with(std::string_view key, std::int64_t value) {
  this->key(key);
  char digits[24];
  members_.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
  return *this;
}

LogEvent& LogEvent::with_fixed(std::string_view key, double value, int decimals) {
  this->key(key);
  char digits[64];
  const auto end =
      std::to_chars(digits, digits + sizeof digits, value, std::chars_format::fixed, decimals);
  if (end.ec == std::errc())
    members_.append(digits, end.ptr);
  else
    members_ += "null";  // too large to be a duration anyone logs
  return *this;
}

std::string LogEvent::json() const { return '{' + members_ + '}'; }

}  // namespace banyan
