// Picks up a changed encryption key ring without a restart, and knows what is wrong with
// the ring in force (for /readyz). The ring comes from where Database::open took it
// (BANYAN_ENCRYPTION_KEY_FILE, or BANYAN_ENCRYPTION_KEYS); it is read again on SIGHUP
// (check_now) and every interval.
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

class KeyRingWatcher {
 public:
  // Does nothing (problems() stays empty) when `db` runs without encryption.
  KeyRingWatcher(store::Database& db, std::chrono::milliseconds interval, LogSink log);
  KeyRingWatcher(const KeyRingWatcher&) = delete;
  KeyRingWatcher& operator=(const KeyRingWatcher&) = delete;

  // Reads the ring again now (on the watcher's thread).
  void check_now();
  std::vector<std::string> problems() const;

 private:
  void check();

  store::Database& db_;
  const LogSink log_;
  std::optional<store::EncryptionKeys> loaded_;  // the ring in force, as last read (task thread)
  mutable std::mutex mutex_;
  std::vector<std::string> problems_;  // guarded by mutex_
  std::optional<PeriodicTask> task_;   // last: stops before the rest goes
};

}  // namespace banyan::server
