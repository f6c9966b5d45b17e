// A job a host runs on a thread of its own: every interval, and at once when poked.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace banyan::server {

class PeriodicTask {
 public:
  // Starts the thread; `run` (which must not throw) runs every `interval` and on poke().
  PeriodicTask(std::chrono::milliseconds interval, std::function<void()> run);
  // Stops the thread, letting a run in progress finish.
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void poke();

 private:
  const std::chrono::milliseconds interval_;
  const std::function<void()> run_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;     // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace banyan::server
