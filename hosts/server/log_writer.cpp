#include "log_writer.hpp"

namespace banyan::server {

namespace {
constexpr std::size_t kFlushAt = 64 << 10;
}

LogWriter::LogWriter(std::ostream& out, std::chrono::milliseconds interval)
    : out_(out), interval_(interval), thread_([this] { run(); }) {}

LogWriter::~LogWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogWriter::line(std::string_view text, bool now) {
  std::unique_lock<std::mutex> lock(mutex_);
  buffer_.append(text);
  buffer_ += '\n';
  if (now) return write_out(lock);
  if (buffer_.size() >= kFlushAt) wake_.notify_one();
}

// Takes the buffer and writes it with `mutex_` released, holding `write_mutex_` so that
// two batches never interleave or pass each other.
void LogWriter::write_out(std::unique_lock<std::mutex>& lock) {
  std::unique_lock<std::mutex> writing(write_mutex_, std::defer_lock);
  lock.unlock();
  writing.lock();
  lock.lock();
  std::string batch;
  batch.swap(buffer_);
  lock.unlock();
  if (!batch.empty()) {
    out_.write(batch.data(), static_cast<std::streamsize>(batch.size()));
    out_.flush();
  }
  writing.unlock();
  lock.lock();
}

void LogWriter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_ || buffer_.size() >= kFlushAt; });
    write_out(lock);
  }
  write_out(lock);
}

}  // namespace banyan::server
