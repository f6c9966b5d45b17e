#include "backfill_jobs.hpp"

#include <nlohmann/json.hpp>

namespace banyan::rest {

std::string_view BackfillJobs::to_string(Progress::State state) noexcept {
  switch (state) {
    case Progress::State::kQueued:
      return "queued";
    case Progress::State::kRunning:
      return "running";
    case Progress::State::kDone:
      return "done";
    case Progress::State::kFailed:
      return "failed";
    case Progress::State::kStopped:
      return "stopped";
  }
  return "unknown";
}

BackfillJobs::BackfillJobs(Engine& engine, LogSink log)
    : engine_(engine), log_(std::move(log)), thread_([this] { run(); }) {}

BackfillJobs::~BackfillJobs() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

BackfillJobs::Progress BackfillJobs::start(const security::Principal& who, Id field,
                                           CustomValue value, std::string origin) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = progress_.find(field);
  if (it != progress_.end() && (it->second.state == Progress::State::kQueued ||
                                it->second.state == Progress::State::kRunning))
    return it->second;
  queue_.push_back(Job{who, field, std::move(value), std::move(origin)});
  progress_[field] = Progress{};
  wake_.notify_all();
  return progress_[field];
}

std::optional<BackfillJobs::Progress> BackfillJobs::progress(Id field) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = progress_.find(field);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

void BackfillJobs::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        for (const auto& queued : queue_) progress_[queued.field].state = Progress::State::kStopped;
        return;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
      progress_[job.field].state = Progress::State::kRunning;
    }
    Progress::State ended = Progress::State::kDone;
    std::string error;
    try {
      BackfillOptions options;
      options.origin = job.origin;
      options.progress = [&](std::uint64_t filled, std::uint64_t left) {
        std::lock_guard<std::mutex> lock(mutex_);
        progress_[job.field].filled = filled;
        progress_[job.field].left = left;
        if (stopping_) ended = Progress::State::kStopped;
        return !stopping_;
      };
      engine_.backfill_custom_field(job.who, job.field, job.value, options);
    } catch (const std::exception& e) {
      ended = Progress::State::kFailed;
      error = e.what();
    }
    std::uint64_t filled = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      Progress& p = progress_[job.field];
      p.state = ended;
      p.error = error;
      filled = p.filled;
    }
    if (!log_) continue;
    LogEvent event(ended == Progress::State::kFailed ? LogLevel::kError : LogLevel::kInfo,
                   "custom_field_backfill");
    event.with("field_id", static_cast<std::int64_t>(job.field))
        .with("state", to_string(ended))
        .with("filled", static_cast<std::int64_t>(filled));
    if (!error.empty()) event.with("error", error);
    log_(event);
  }
}

}  // namespace banyan::rest
