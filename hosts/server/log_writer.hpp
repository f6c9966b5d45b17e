// Lines to a stream, written by a thread of its own: a request thread only appends to a
// buffer, and the writer flushes it every `interval` (sooner once it holds 64 KiB). An
// access-log line per request then costs no system call on the request's path. At most
// `interval` of lines is lost if the process is killed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

namespace banyan::server {

class LogWriter {
 public:
  explicit LogWriter(std::ostream& out,
                     std::chrono::milliseconds interval = std::chrono::milliseconds(100));
  ~LogWriter();  // writes what is left
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one line (without its newline). `now`: written before this returns, after
  // every line appended before it (for lines a reader waits for, such as "listening").
  void line(std::string_view text, bool now = false);

 private:
  void run();
  void write_out(std::unique_lock<std::mutex>& lock);

  std::ostream& out_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::mutex write_mutex_;  // one writer to `out_` at a time, in buffer order
  std::condition_variable wake_;
  std::string buffer_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace banyan::server
