// Database: a Banyan store opened by URL, with its connection pool. Its records are read
// and written through banyan::Engine, as a principal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "banyan/clock.hpp"
#include "banyan/export.hpp"
#include "banyan/log.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/encryption.hpp"
#include "banyan/store/pool.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

struct BANYAN_EXPORT DatabaseOptions {
  PoolOptions pool;
  // Where the database reports a schema migrated (info), a connection held past the
  // pool's leak threshold or not opened (warning). Unset: nowhere.
  LogSink log;
  // Create the schema in an empty database and migrate an older one forward. When
  // false, an empty or older database is refused with Unavailable.
  bool migrate = true;
  // Custom field definitions are cached per Database and reread when older than this,
  // so that definitions changed by another process apply within it (changes made through
  // this Database apply at once). Zero: read them in every unit of work.
  std::chrono::milliseconds custom_field_cache_ttl{1000};
  // Encryption at rest of sensitive values (see encryption.hpp). Unset: the keys named
  // by the environment (EncryptionKeys::from_environment()), if any. Without keys values
  // are stored as given; a database that already holds encrypted values is then refused
  // with Unavailable, as is a key whose id the database knows with other key material.
  std::optional<EncryptionKeys> encryption;
  // Where the database reads the time: what it writes as created_at, updated_at and the
  // audit trail's times, how old its caches and pooled connections are. Unset: the
  // system's (Clock::real()). A ManualClock lets a test move time instead of sleeping.
  std::shared_ptr<const Clock> clock;
  // The audit trail's key (one key; see AuditLog). Unset: the key named by the
  // environment (EncryptionKeys::audit_key_from_environment()), if any. With a key, the
  // trail is keyed from its next entry on, and from then on needs this key to be written
  // or verified: another key is refused with Unavailable.
  std::optional<EncryptionKeys> audit_key;
};

namespace detail {
struct DatabaseState;
}
class Stores;

// Thread safety: a Database is safe to share between threads; each thread works in its
// own UnitOfWork.
class BANYAN_EXPORT Database {
 public:
  // Opens a store:
  //   sqlite:///absolute/path/crm.db, sqlite://relative/path.db or sqlite::memory:
  //     (WAL journal, foreign keys on, busy timeout; the file is created if missing)
  //   mysql://user:password@host:port/database?socket=/path/to.sock
  //     (MySQL or MariaDB; utf8mb4; user and password percent-decoded)
  // Creates or migrates the schema (see DatabaseOptions::migrate). Throws
  // ValidationError("url") for a malformed URL, Unavailable when the database cannot be
  // reached or its schema is newer than this library understands.
  [[nodiscard]] static std::unique_ptr<Database> open(std::string_view url,
                                                      DatabaseOptions options = {});

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Starts a unit of work (a transaction on one pooled connection). `actor` is recorded
  // as created_by/updated_by. Throws PoolExhausted or Unavailable, and Conflict when a
  // read-write unit of work waited the busy timeout for SQLite's write lock.
  UnitOfWork begin(std::optional<Id> actor = std::nullopt, Access access = Access::kReadWrite);

  // Runs `work` in a new unit of work and commits it; rolls back and rethrows if `work`
  // throws. Returns what `work` returns.
  template <typename F>
  auto transact(F&& work, std::optional<Id> actor = std::nullopt) {
    return run(begin(actor), work);
  }

  // Runs `work` in a read-only unit of work and returns what it returns. On SQLite it is
  // a deferred transaction: it takes no write lock, so readers never queue behind each
  // other or behind a writer (transact() takes the write lock up front).
  template <typename F>
  auto read(F&& work) {
    return run(begin(std::nullopt, Access::kReadOnly), work);
  }

  // The id of the key that seals new sensitive values; empty when they are stored as
  // given (no keys).
  std::string encryption_key_id() const;
  // Seals every stored sensitive value that is not sealed with the current key (values
  // stored before encryption was turned on, or under an older key) and recomputes the
  // blind index, match keys and search entries that depend on them; `batch` records per
  // unit of work. Values, versions and the audit trail stay as they are (old audit
  // entries keep the key they were written with: keep that key in the ring to read
  // them). After a complete pass the other keys are retired: the ring may then drop them
  // (until then a ring without them is refused). Returns the number of records
  // rewritten. Unavailable without keys.
  std::uint64_t rewrap_encrypted(std::size_t batch = 200);
  // Seals what `type`'s custom fields marked sensitive hold as given (a field just marked
  // sensitive), as rewrap_encrypted does for every type. Returns the number of records
  // rewritten; 0 without keys.
  std::uint64_t seal_sensitive_values(ObjectType type, std::size_t batch = 200);
  // Replaces the key ring without a restart (after a rotation made elsewhere), checked as
  // at open: Unavailable, keeping the ring in force, when `keys` lacks a key the database
  // still has values sealed with or gives a known id other key material, or when this
  // Database was opened without keys. Units of work already running may finish with the
  // ring they started with.
  void reload_encryption_keys(const EncryptionKeys& keys);
  // What is wrong with the ring in force against the database as it is now (another
  // process may have added a key and sealed with it): one sentence each; empty when
  // nothing is, or without encryption.
  std::vector<std::string> encryption_key_problems();

  // Whether the database takes work: a read-write unit of work that reads and writes one
  // row of its own (health_probe) and commits. Throws what such work throws (Unavailable
  // for a lost or stalled connection or a full disk, Conflict when SQLite's write lock
  // stayed busy, PoolExhausted).
  void probe();

  // The clock it was opened with (DatabaseOptions::clock, else the system's); an Engine on
  // this database reads the time from it too.
  const Clock& clock() const noexcept;
  // "sqlite" or "mysql".
  std::string_view backend() const noexcept;
  // Where the database is, fit for a log: its URL without the password or the parameters
  // ("mysql://crm@db.example:3306/crm", "sqlite:///var/lib/banyan.db").
  const std::string& location() const noexcept;
  PoolMetrics pool_metrics() const;
  // The schema version of the open database, and the one this library writes.
  int schema_version() const;
  static int current_schema_version() noexcept;

 private:
  // `work` in `uow`, then commit; an exception from `work` leaves `uow` to roll back.
  template <typename F>
  static auto run(UnitOfWork uow, F& work) {
    if constexpr (std::is_void_v<decltype(work(uow))>) {
      work(uow);
      uow.commit();
    } else {
      auto result = work(uow);
      uow.commit();
      return result;
    }
  }

  friend class Stores;  // the per-type stores, internal to the library (store/stores.hpp)
  explicit Database(std::unique_ptr<detail::DatabaseState> state);
  std::unique_ptr<detail::DatabaseState> state_;
};

}  // namespace banyan::store
