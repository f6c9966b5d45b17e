// Backfills of custom fields (Engine::backfill_custom_field) run off the request path: one
// thread runs them one after another, batch by batch, so that a request that starts one
// answers at once and no I/O thread waits for thousands of writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "banyan/banyan.hpp"

namespace banyan::rest {

class BackfillJobs {
 public:
  // What one backfill did so far.
  struct Progress {
    enum class State { kQueued, kRunning, kDone, kFailed, kStopped } state = State::kQueued;
    std::uint64_t filled = 0;  // records given the value
    std::uint64_t left = 0;    // records still without one, after the last batch
    std::string error;         // why it failed
  };
  static std::string_view to_string(Progress::State state) noexcept;

  // `log` receives one JSON line when a backfill ends.
  BackfillJobs(Engine& engine, LogSink log);
  // Stops the running backfill after its current batch (it resumes when started again)
  // and waits for it; queued ones do not start.
  ~BackfillJobs();
  BackfillJobs(const BackfillJobs&) = delete;
  BackfillJobs& operator=(const BackfillJobs&) = delete;

  // Queues a backfill of `field` with `value`, run as `who`. A field already queued or
  // running is not queued twice (its progress is returned as it is). Thread-safe.
  Progress start(const security::Principal& who, Id field, CustomValue value, std::string origin);
  // The latest backfill of `field` this process knows of, if any. Thread-safe.
  std::optional<Progress> progress(Id field) const;

 private:
  struct Job {
    security::Principal who;
    Id field;
    CustomValue value;
    std::string origin;
  };
  void run();

  Engine& engine_;
  LogSink log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;            // guarded by mutex_
  std::map<Id, Progress> progress_;  // guarded by mutex_
  bool stopping_ = false;            // guarded by mutex_
  std::thread thread_;
};

}  // namespace banyan::rest
