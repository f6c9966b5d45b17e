#include "host_log.hpp"

#include <atomic>
#include <chrono>

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace banyan::host {
namespace {

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

HostLog::HostLog(std::string_view host, LogLevel level, std::ostream& out) {
  // Names are unique in spdlog's registry, which flushes its loggers every second.
  static std::atomic<int> instances{0};
  const std::string name = std::string(host) + "-" + std::to_string(instances.fetch_add(1));
  // Queued events wait for the writer rather than being dropped: an access log that loses
  // lines under load is no audit of the load.
  writer_ = std::make_shared<spdlog::details::thread_pool>(8192, 1);
  logger_ = std::make_shared<spdlog::async_logger>(
      name, std::make_shared<spdlog::sinks::ostream_sink_mt>(out), writer_,
      spdlog::async_overflow_policy::block);
  // spdlog's level names are debug, info, warning and error, as LogLevel's. The host's
  // name is ours (letters and dashes), so it needs no JSON escaping.
  logger_->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","host":")" + std::string(host) + R"(",%v})",
      spdlog::pattern_time_type::utc));
  logger_->set_level(spdlog_level(level));
  logger_->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger_);
  spdlog::flush_every(std::chrono::seconds(1));
}

HostLog::~HostLog() {
  logger_->flush();
  spdlog::drop(logger_->name());
}

void HostLog::write(const LogEvent& event) {
  // Below the logger's level, log() returns before it queues anything.
  const auto& members = event.members();
  logger_->log(spdlog_level(event.level()), spdlog::string_view_t(members.data(), members.size()));
}

void HostLog::say(LogLevel level, std::string_view event, std::string_view message) {
  if (!logger_->should_log(spdlog_level(level))) return;  // no event to build
  write(LogEvent(level, event).with("message", message));
}

void HostLog::flush() { logger_->flush(); }

LogSink HostLog::sink() {
  return [this](const LogEvent& event) { write(event); };
}

}  // namespace banyan::host
