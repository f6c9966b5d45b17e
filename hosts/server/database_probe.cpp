#include "database_probe.hpp"

#include "banyan/errors.hpp"

namespace banyan::server {

DatabaseProbe::DatabaseProbe(store::Database& db, std::chrono::milliseconds interval,
                             std::chrono::milliseconds stalled_after, LogSink log)
    : db_(db), stalled_after_(stalled_after), log_(std::move(log)) {
  task_.emplace(interval, [this] { run(); });
  task_->poke();
}

std::vector<std::string> DatabaseProbe::problems() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  if (running_since_ && Clock::now() - *running_since_ > stalled_after_) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *running_since_);
    out.push_back("database: a one-row write has not answered for " + std::to_string(ms.count()) +
                  " ms");
  }
  if (!failure_.empty()) out.push_back("database: " + failure_);
  return out;
}

void DatabaseProbe::run() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_since_ = Clock::now();
  }
  std::string failure;
  try {
    db_.probe();
  } catch (const Conflict&) {
    // SQLite's write lock stayed busy: the database answers, it is only loaded.
  } catch (const std::exception& e) {
    failure = e.what();
    if (failure.empty()) failure = "the probe failed";
  }
  std::string changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_since_.reset();
    if (failure != failure_) changed = failure.empty() ? "ok" : failure;
    failure_ = failure;
  }
  if (!changed.empty())
    log_(LogEvent(failure.empty() ? LogLevel::kInfo : LogLevel::kError, "database_probe")
             .with("outcome", changed));
}

}  // namespace banyan::server
