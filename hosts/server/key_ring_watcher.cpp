#include "key_ring_watcher.hpp"

#include "banyan/errors.hpp"

namespace banyan::server {
namespace {

bool same_ring(const store::EncryptionKeys& a, const store::EncryptionKeys& b) {
  if (a.keys().size() != b.keys().size()) return false;
  for (std::size_t i = 0; i < a.keys().size(); ++i)
    if (a.keys()[i].id != b.keys()[i].id || a.keys()[i].secret != b.keys()[i].secret) return false;
  return true;
}

}  // namespace

KeyRingWatcher::KeyRingWatcher(store::Database& db, std::chrono::milliseconds interval, LogSink log)
    : db_(db), log_(std::move(log)) {
  if (db_.encryption_key_id().empty()) return;
  try {
    loaded_ = store::EncryptionKeys::from_environment();
  } catch (const Error&) {  // it opened the database a moment ago; the next check says what changed
  }
  task_.emplace(interval, [this] { check(); });
}

void KeyRingWatcher::check_now() {
  if (task_) task_->poke();
}

std::vector<std::string> KeyRingWatcher::problems() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return problems_;
}

void KeyRingWatcher::check() {
  std::vector<std::string> found;
  try {
    auto keys = store::EncryptionKeys::from_environment();
    if (!keys) {
      found.push_back(
          "the encryption key ring is no longer configured (BANYAN_ENCRYPTION_KEY_FILE)");
    } else if (!loaded_ || !same_ring(*keys, *loaded_)) {
      db_.reload_encryption_keys(*keys);
      loaded_ = std::move(keys);
      log_(LogEvent(LogLevel::kInfo, "key_ring_reloaded")
               .with("message",
                     "reloaded the encryption key ring; new values are sealed with key '" +
                         db_.encryption_key_id() + "'")
               .with("key_id", db_.encryption_key_id()));
    }
  } catch (const Error& e) {
    found.push_back(
        std::string("the changed encryption key ring was refused (the ring in force stays): ") +
        e.what());
  }
  try {
    for (auto& p : db_.encryption_key_problems()) found.push_back(std::move(p));
  } catch (const Error& e) {
    found.push_back(std::string("the encryption keys could not be checked: ") + e.what());
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (found != problems_)
    for (const auto& p : found)
      log_(LogEvent(LogLevel::kError, "key_ring_problem").with("message", p));
  problems_ = std::move(found);
}

}  // namespace banyan::server
