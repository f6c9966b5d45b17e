// Whether the database takes work, known without asking it on the request path: a probe
// (Database::probe, a one-row write) every second on a thread of its own, whose last
// outcome /readyz reports. A probe that does not come back (a stalled database) is a
// problem too, once it has taken longer than `stalled_after`.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/store/database.hpp"
#include "periodic_task.hpp"

namespace banyan::server {

class DatabaseProbe {
 public:
  // The first probe runs at once; problems() is empty until it has answered or stalled.
  // `log` hears each change between working and failing.
  DatabaseProbe(store::Database& db, std::chrono::milliseconds interval,
                std::chrono::milliseconds stalled_after, LogSink log);
  DatabaseProbe(const DatabaseProbe&) = delete;
  DatabaseProbe& operator=(const DatabaseProbe&) = delete;

  // Never blocks on the database: safe on an I/O thread.
  std::vector<std::string> problems() const;

 private:
  using Clock = std::chrono::steady_clock;
  void run();

  store::Database& db_;
  const std::chrono::milliseconds stalled_after_;
  const LogSink log_;
  mutable std::mutex mutex_;
  std::optional<Clock::time_point> running_since_;  // guarded by mutex_: a probe under way
  std::string failure_;                             // guarded by mutex_: the last probe's, or ""
  std::optional<PeriodicTask> task_;                // last: stops before the rest goes
};

}  // namespace banyan::server
