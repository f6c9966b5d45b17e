// The hosts' log: one JSON line per event on a stream (the servers' standard output; the
// CLI's standard error, its output being the command's), the access log included,
//
//   {"time":"2026-12-06T20:46:24.123456Z","level":"info","host":"banyan-server",
//    "event":"request","request_id":"...",...}
//
// written by spdlog's asynchronous logger: the reporting thread only queues the event, a
// thread of the log's own formats and writes it. Lines leave within a second, warnings and
// errors and flushed ones at once; at most a second of info lines is lost if the process
// is killed. Events
// below the log's level are dropped before they are queued.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "banyan/log.hpp"

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

namespace banyan::host {

class HostLog {
 public:
  // `host` names the program in every line ("banyan-server"); `out` must outlive the log.
  HostLog(std::string_view host, LogLevel level, std::ostream& out);
  ~HostLog();  // writes what is queued
  HostLog(const HostLog&) = delete;
  HostLog& operator=(const HostLog&) = delete;

  void write(const LogEvent& event);
  // An event with a message for people.
  void say(LogLevel level, std::string_view event, std::string_view message);
  // Writes what is queued now: for a line a reader waits on, such as `listening`.
  void flush();
  // write(), as the library's sinks take it; valid while this log lives.
  [[nodiscard]] LogSink sink();

 private:
  // The writer thread, which the logger holds only weakly; it outlives the logger and, on
  // destruction, writes what is queued before it stops.
  std::shared_ptr<spdlog::details::thread_pool> writer_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace banyan::host
