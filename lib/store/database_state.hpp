// What a Database and its repositories share, and the inside of a UnitOfWork.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/clock.hpp"
#include "banyan/log.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "store/custom_fields.hpp"
#include "store/field_cipher.hpp"
#include "store/odb/island.hpp"
#include "store/pool/connection_pool.hpp"

namespace banyan::store::detail {

// Custom field definitions, shared by the units of work of one Database. Entries are
// reloaded once older than `ttl` (so changes made by other processes show within it) and
// dropped at once when this process changes definitions.
struct CustomFieldCache {
  struct Entry {
    std::shared_ptr<const FieldSet> fields;
    std::chrono::steady_clock::time_point loaded_at;
  };
  std::chrono::milliseconds ttl{1000};
  std::mutex mutex;
  std::map<ObjectType, Entry> entries;  // guarded by mutex

  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    entries.clear();
  }
};

// The key ring in force, replaceable while units of work run (a ring reloaded without a
// restart). Rings are kept until the Database goes: one may still be in use by a unit of
// work that read the slot before the swap.
class CipherSlot {
 public:
  const FieldCipher* get() const noexcept { return current_.load(std::memory_order_acquire); }
  explicit operator bool() const noexcept { return get() != nullptr; }
  const FieldCipher* operator->() const noexcept { return get(); }
  void install(std::unique_ptr<const FieldCipher> cipher) {
    std::lock_guard<std::mutex> lock(mutex_);
    rings_.push_back(std::move(cipher));
    current_.store(rings_.back().get(), std::memory_order_release);
  }

 private:
  std::atomic<const FieldCipher*> current_{nullptr};
  std::mutex mutex_;
  std::vector<std::unique_ptr<const FieldCipher>> rings_;  // guarded by mutex_
};

struct DatabaseState {
  // Declared before the database, which uses them until it closes.
  std::shared_ptr<const Clock> clock = Clock::real();       // never null
  std::unique_ptr<const banyan::detail::Clock> pool_clock;  // null: the coarse system clock
  island::DatabasePtr db;
  island::Backend backend = island::Backend::kSqlite;
  std::string location;  // the URL without its password (Database::location)
  LogSink log;           // empty: quiet
  void report(const LogEvent& event) const {
    if (log) log(event);
  }
  int schema_version = 0;
  CustomFieldCache custom_fields;
  // Seals sensitive values; null when they are stored as given (no keys).
  CipherSlot cipher;
  // Subkeys of the audit key (store/audit.hpp): one chains the trail's entries, one signs
  // its checkpoints. Empty without an audit key.
  std::string audit_chain_key;
  std::string audit_checkpoint_key;
  // Whether contacts (0) and leads (1) may hold emails stored before encryption was turned
  // on (no blind index yet), which email lookups must then also compare as stored. Known
  // at open; once the database has keys no process can add such rows, so a rewrap clears
  // it for good.
  std::atomic<bool> unsealed_emails[2] = {false, false};
  std::atomic<bool>& unsealed_emails_of(ObjectType type) {
    return unsealed_emails[type == ObjectType::kLead ? 1 : 0];
  }
};

// Now by the database's clock (DatabaseOptions::clock), to the microsecond: the instant
// written into records, events and the audit trail.
inline Timestamp now_micros(const DatabaseState& db) { return db.clock->wall(); }

// Looks whether contacts and leads hold emails without a blind index (encryption on).
void note_unsealed_emails(DatabaseState& state);

}  // namespace banyan::store::detail

namespace banyan::store::detail {
// An audit entry waiting for its unit of work to commit (store/audit.hpp).
struct PendingAudit {
  std::int64_t at = 0;
  std::string action;
  ObjectRef object{};
  std::string changes;  // JSON object text
  std::string detail;
};
}  // namespace banyan::store::detail

namespace banyan::store {

struct UnitOfWork::Impl {
  detail::DatabaseState* db = nullptr;
  island::TransactionPtr tx;
  std::optional<Id> actor;
  std::string actor_name;  // for the audit trail (describe_actor)
  std::string origin;
  // Audit entries of this unit of work's writes, appended to the log when it commits.
  std::vector<detail::PendingAudit> audit;
  // Set when this unit of work changed custom field definitions: it then reads them
  // fresh (its own uncommitted changes included) and never fills the shared cache.
  bool custom_fields_changed = false;
  // Run once the unit of work has committed (Session::after_commit).
  std::vector<std::function<void()>> after_commit;
  // Savepoints open (UnitOfWork::attempt), naming the next one.
  int savepoints = 0;

  // The transaction, or Conflict if the unit of work has already ended.
  island::Transaction& live();
};

}  // namespace banyan::store

namespace banyan::store::detail {
// The custom field definitions of `type` as this unit of work should see them.
std::shared_ptr<const FieldSet> custom_fields_of(UnitOfWork::Impl& uow, ObjectType type);
}  // namespace banyan::store::detail
