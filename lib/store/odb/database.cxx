// Opening databases, Banyan's pool as ODB's connection factory, transactions, errors.
#include <sqlite3.h>

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <odb/exceptions.hxx>
#include <odb/mysql/connection-factory.hxx>
#include <odb/mysql/connection.hxx>
#include <odb/mysql/database.hxx>
#include <odb/mysql/exceptions.hxx>
#include <odb/schema-catalog.hxx>
#include <odb/sqlite/connection-factory.hxx>
#include <odb/sqlite/connection.hxx>
#include <odb/sqlite/database.hxx>
#include <odb/sqlite/exceptions.hxx>
#include <odb/sqlite/transaction.hxx>

#include "banyan/errors.hpp"
#include "store/odb/island_internal.hxx"
#include "store/odb/rows-odb.hxx"
#include "store/pool/connection_pool.hpp"

namespace banyan {
namespace island {
namespace {

// What a pooled connection carries besides the driver's: SQLite ones cache the prepared
// statements of the store's SQL (SqliteStatementCache; destroyed before the connection
// closes, since the driver's connection is the base constructed first).
template <typename Conn>
struct ConnectionExtras {};
template <>
struct ConnectionExtras<odb::sqlite::connection> : SqliteStatementCache {};

// A driver connection that lives in Banyan's pool. ODB reference-counts connections;
// when the count drops to zero, zero_counter() returns the connection to the pool
// instead of deleting it. Idle connections have a count of zero and belong to the pool.
template <typename Conn>
class Pooled : public Conn, public detail::PoolEntry, public ConnectionExtras<Conn> {
 public:
  // `native`: ODB's connection arguments after the database (MySQL: a connected handle).
  template <typename Db, typename... Native>
  Pooled(detail::ConnectionPool*& pool, Db& db, Native... native)
      : Conn(db, native...), pool_(pool) {
    this->counter_ = 0;
    callback_slot_.arg = this;
    callback_slot_.zero_counter = &Pooled::zero_counter;
  }

  odb::details::shared_ptr<Conn> hand_out() {
    this->callback_ = &callback_slot_;
    return odb::details::shared_ptr<Conn>(odb::details::inc_ref(static_cast<Conn*>(this)));
  }

 private:
  static bool zero_counter(void* arg) {
    Pooled* self = static_cast<Pooled*>(arg);
    self->callback_ = nullptr;
    self->on_return();
    self->pool_->release(*self);
    return false;  // not deleted: the pool owns it now
  }

  void on_return();

  odb::details::shared_base::refcount_callback callback_slot_;
  detail::ConnectionPool*& pool_;
};

template <>
void Pooled<odb::sqlite::connection>::on_return() {
  clear();
  recycle();
}

template <>
void Pooled<odb::mysql::connection>::on_return() {
  if (failed()) broken = true;
  clear();
  recycle();
}

using SqlitePooled = Pooled<odb::sqlite::connection>;
using MysqlPooled = Pooled<odb::mysql::connection>;

void sqlite_exec(sqlite3* handle, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(handle, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw Unavailable(std::string("SQLite setup failed (") + sql + "): " + text);
  }
}

// The part both factories share: the pool and how ODB asks for a connection.
template <typename Base, typename PooledConn, typename ConnectionPtr>
class PoolFactory : public Base, public PoolAccess {
 public:
  PoolFactory(store::PoolOptions options, std::function<void(const std::string&)> warn,
              std::string describe, const detail::Clock* clock)
      : options_(options),
        warn_(std::move(warn)),
        describe_(std::move(describe)),
        clock_(clock != nullptr ? *clock : detail::Clock::coarse()) {}

  typename Base::database_type* db() const { return db_; }

  void database(typename Base::database_type& db) override {
    db_ = &db;
    detail::PoolBackend backend;
    backend.open = [this]() -> detail::PoolEntry* { return open_connection(); };
    backend.validate = [this](detail::PoolEntry& e) {
      return validate(static_cast<PooledConn&>(e));
    };
    backend.close = [](detail::PoolEntry* e) { delete static_cast<PooledConn*>(e); };
    backend.describe = describe_;
    pool_ = new detail::ConnectionPool(options_, std::move(backend), warn_, clock_);
  }

  ConnectionPtr connect() override { return static_cast<PooledConn&>(pool_->acquire()).hand_out(); }

  ~PoolFactory() override { delete pool_; }

  store::PoolMetrics metrics() const override { return pool_->metrics(); }
  std::size_t max_size() const override { return options_.max_size; }

 protected:
  virtual PooledConn* open_connection() = 0;
  virtual bool validate(PooledConn& c) noexcept = 0;

  detail::ConnectionPool* pool_ = nullptr;
  typename Base::database_type* db_ = nullptr;

 private:
  store::PoolOptions options_;
  std::function<void(const std::string&)> warn_;
  std::string describe_;
  const detail::Clock& clock_;
};

// SQLite's busy handler. The stock one (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... up
// to 100 ms between tries, which turns every brief wait for the write lock into
// milliseconds of latency. Banyan's writers hold the lock for well under a millisecond,
// so try again soon: 20 us, 40 us, ... up to 1 ms between tries, for 5 s in all.
int wait_for_write_lock(void*, int tries) {
  const long step_us = std::min(1000L, 20L * (tries + 1));
  const long waited_us = tries < 50 ? 10L * tries * (tries + 1) : 25500L + 1000L * (tries - 50);
  if (waited_us >= 5000000L) return 0;  // give up: the caller sees SQLITE_BUSY
  std::this_thread::sleep_for(std::chrono::microseconds(step_us));
  return 1;
}

// Appends code point `c` to `out` as UTF-8.
void append_utf8(std::uint32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// banyan_fold(text): the text in lower case by Unicode's simple mappings (glibc's C.UTF-8
// tables; ASCII alone if that locale is missing), as MariaDB's LOWER() folds it, for
// case-insensitive contains and starts_with. Bytes that are not UTF-8 stay as they are.
void fold_case(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  const unsigned char* s = sqlite3_value_text(argv[0]);
  const int n = sqlite3_value_bytes(argv[0]);
  std::string out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n;) {
    const unsigned char lead = s[i];
    if (lead < 0x80) {
      out += static_cast<char>(lead >= 'A' && lead <= 'Z' ? lead + ('a' - 'A') : lead);
      ++i;
      continue;
    }
    const int len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    std::uint32_t c = lead & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
    bool whole = len != 0 && i + len <= n;
    for (int k = 1; whole && k < len; ++k) {
      whole = (s[i + k] & 0xC0) == 0x80;
      c = (c << 6) | (s[i + k] & 0x3Fu);
    }
    if (!whole) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    append_utf8(utf8 != static_cast<locale_t>(0)
                    ? static_cast<std::uint32_t>(towlower_l(static_cast<wint_t>(c), utf8))
                    : c,
                out);
    i += len;
  }
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

}  // namespace

// Checkpoints SQLite's write-ahead log on a thread of its own. SQLite's automatic
// checkpoint runs in whichever connection commits past 1,000 WAL pages, and it ends with
// an fsync: that commit (a relay round, a user's write) then takes as long as the disk
// does, tens to hundreds of milliseconds on a busy machine (measured: commit-to-handler
// p99 of 60-200 ms at 1,000 messages/s, 8 ms with this). Here a commit only looks at the
// page count (the WAL hook, which replaces the automatic checkpoint) and wakes this
// thread, which checkpoints on its own connection in PASSIVE mode, blocking no reader and
// no writer. Under steady writes a passive checkpoint never quite catches up, and SQLite
// starts the log over only after one that did; so once the log passes eight times the
// threshold, a RESTART checkpoint lets it start over. A RESTART holds off every writer
// while it copies what is left and syncs the log and the file (measured: 4-8 ms, the two
// syncs most of it, and at 1,000 contacts/s the commit-to-handler p99 was the RESTARTs),
// so it comes rarely (a log of 8,000 pages, 32 MB: three times a second at that rate)
// and after passive rounds that leave it only the last round's commits.
class WalCheckpointer {
 public:
  explicit WalCheckpointer(std::string path) : path_(std::move(path)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WalCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // The WAL hook of every pooled connection. Should the thread fall far behind (a loaded
  // machine), the committing connection checkpoints itself, as SQLite would, so the log
  // stays bounded.
  static int on_commit(void* self, sqlite3* db, const char*, int pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    if (pages >= kPages && !c->due_.exchange(true)) {
      std::lock_guard<std::mutex> lock(c->mutex_);
      c->wake_.notify_one();
    }
    if (pages >= kHardLimit)
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }

 private:
  static constexpr int kPages = 1000;  // SQLite's default threshold
  static constexpr int kRestartPages = 8 * kPages;
  static constexpr int kHardLimit = 32 * kPages;

  // Opens the checkpointing connection on first use; false while the file cannot be.
  bool open() {
    if (handle_ != nullptr) return true;
    if (sqlite3_open_v2(path_.c_str(), &handle_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK ||
        // A connection learns that the file is in WAL mode by reading it.
        sqlite3_exec(handle_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_close(handle_);
      handle_ = nullptr;
      return false;
    }
    sqlite3_busy_handler(handle_, &wait_for_write_lock, nullptr);  // for RESTART
    return true;
  }

  void checkpoint() {
    if (!open()) return;
    int log = 0, copied = 0;
    sqlite3_wal_checkpoint_v2(handle_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (log < kRestartPages) return;
    // Each passive round copies what was committed during the one before; stop once that
    // is a few pages (the RESTART then has little to copy), or after a few rounds.
    for (int round = 0, before = log; round < 4; ++round, before = log) {
      sqlite3_wal_checkpoint_v2(handle_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
      if (log - before < 64) break;
    }
    sqlite3_wal_checkpoint_v2(handle_, nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied);
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      // Also once a second, for a log whose last commits came while a checkpoint ran.
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || due_.load(); });
      if (stop_) break;
      due_.store(false);
      lock.unlock();
      checkpoint();
      lock.lock();
      // Copy in chunks of at least 10 ms of commits, not after each one.
      wake_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stop_; });
    }
    lock.unlock();
    sqlite3_close(handle_);
  }

  std::string path_;
  sqlite3* handle_ = nullptr;  // the checkpointing thread's
  std::atomic<bool> due_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mutex_
  std::thread thread_;
};

namespace {

class SqliteFactory final : public PoolFactory<odb::sqlite::connection_factory, SqlitePooled,
                                               odb::sqlite::connection_ptr> {
 public:
  SqliteFactory(store::PoolOptions options, std::function<void(const std::string&)> warn,
                std::string describe, WalCheckpointer* checkpointer, const detail::Clock* clock)
      : PoolFactory(options, std::move(warn), std::move(describe), clock),
        checkpointer_(checkpointer) {}

 protected:
  SqlitePooled* open_connection() override {
    std::unique_ptr<SqlitePooled> c;
    try {
      c.reset(new SqlitePooled(pool_, *db_));
    } catch (...) {
      rethrow_translated();
    }
    sqlite3* h = c->handle();
    sqlite3_busy_handler(h, &wait_for_write_lock, nullptr);
    sqlite_exec(h, "PRAGMA journal_mode=WAL");
    sqlite_exec(h, "PRAGMA synchronous=NORMAL");
    sqlite_exec(h, "PRAGMA foreign_keys=ON");
    sqlite_exec(h, "PRAGMA case_sensitive_like=ON");
    sqlite3_create_function_v2(h, "banyan_fold", 1,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                               &fold_case, nullptr, nullptr, nullptr);
    if (checkpointer_ != nullptr) sqlite3_wal_hook(h, &WalCheckpointer::on_commit, checkpointer_);
    return c.release();
  }

  bool validate(SqlitePooled& c) noexcept override {
    return sqlite3_exec(c.handle(), "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

 private:
  WalCheckpointer* checkpointer_;  // null for ":memory:"
};

class MysqlFactory final
    : public PoolFactory<odb::mysql::connection_factory, MysqlPooled, odb::mysql::connection_ptr> {
 public:
  MysqlFactory(store::PoolOptions options, std::function<void(const std::string&)> warn,
               ConnectionSpec spec, const detail::Clock* clock)
      : PoolFactory(options, std::move(warn), spec.describe, clock), spec_(std::move(spec)) {}

 protected:
  MysqlPooled* open_connection() override {
    std::unique_ptr<MysqlPooled> c;
    MYSQL* handle = connect();
    try {
      c.reset(new MysqlPooled(pool_, *db_, handle));  // owns the handle from here on
    } catch (...) {
      mysql_close(handle);
      rethrow_translated();
    }
    try {
      // Strict mode: an over-long or malformed value is an error, never a silent cut.
      c->execute(
          "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
          "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
      const unsigned lock_wait = std::max(1u, spec_.read_timeout * 2 / 3);
      c->execute("SET SESSION innodb_lock_wait_timeout = " + std::to_string(lock_wait));
    } catch (...) {
      rethrow_translated();
    }
    return c.release();
  }

  // What ODB's own connection does (the utf8mb4 character set, CLIENT_FOUND_ROWS so an
  // UPDATE counts the rows it found), with every wait bounded.
  MYSQL* connect() const {
    MYSQL* h = mysql_init(nullptr);
    if (h == nullptr) throw std::bad_alloc();
    const unsigned connect_s = spec_.connect_timeout;
    const unsigned read_s = spec_.read_timeout;
    const unsigned write_s = spec_.write_timeout;
    mysql_options(h, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(h, MYSQL_OPT_READ_TIMEOUT, &read_s);
    mysql_options(h, MYSQL_OPT_WRITE_TIMEOUT, &write_s);
    mysql_options(h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    auto text = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
    if (mysql_real_connect(h, text(spec_.host), text(spec_.user), text(spec_.password),
                           text(spec_.database), spec_.port, text(spec_.socket),
                           CLIENT_FOUND_ROWS) == nullptr) {
      const unsigned code = mysql_errno(h);
      const std::string message = mysql_error(h);
      mysql_close(h);
      throw Unavailable("cannot connect to " + spec_.describe + " (MySQL error " +
                        std::to_string(code) + "): " + message);
    }
    return h;
  }

  bool validate(MysqlPooled& c) noexcept override {
    try {
      return c.ping();
    } catch (...) {
      return false;
    }
  }

 private:
  ConnectionSpec spec_;
};

// "users_email_uq" -> "email"; "UNIQUE constraint failed: users.email" -> "email".
std::string unique_field(const std::string& message) {
  static const char* const kSuffixes[] = {"_external_id_uq", "_email_uq", "_name_uq",
                                          "_position_uq"};
  static const char* const kFields[] = {"external_id", "email", "name", "position"};
  for (std::size_t i = 0; i < sizeof(kSuffixes) / sizeof(kSuffixes[0]); ++i) {
    if (message.find(kSuffixes[i]) != std::string::npos) return kFields[i];
  }
  const std::string marker = "constraint failed: ";
  std::size_t at = message.find(marker);
  if (at != std::string::npos) {
    std::string cols = message.substr(at + marker.size());
    std::size_t last = cols.rfind(", ");
    if (last != std::string::npos) cols = cols.substr(last + 2);
    std::size_t dot = cols.find('.');
    return dot == std::string::npos ? cols : cols.substr(dot + 1);
  }
  return "";
}

}  // namespace

bool is_connection_error(unsigned int code) {
  // CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR, CR_SERVER_LOST,
  // ER_ACCESS_DENIED_ERROR, ER_BAD_DB_ERROR, ER_CON_COUNT_ERROR.
  return code == 2002 || code == 2003 || code == 2005 || code == 2006 || code == 2013 ||
         code == 1045 || code == 1049 || code == 1040;
}

[[noreturn]] void rethrow_translated() {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const odb::object_changed&) {
    throw Conflict("the record was changed since it was read (stale version)", "version");
  } catch (const odb::object_already_persistent&) {
    throw Conflict("a record with this id already exists", "id");
  } catch (const odb::connection_lost&) {
    throw Unavailable("the connection to the database was lost");
  } catch (const odb::timeout&) {
    throw Conflict("the database was busy and the lock wait timed out; retry");
  } catch (const odb::deadlock&) {
    throw Conflict("the transaction lost a deadlock; retry");
  } catch (const odb::sqlite::database_exception& e) {
    const int primary = e.error() & 0xff;
    if (primary == SQLITE_CONSTRAINT) {
      std::string field = unique_field(e.message());
      throw Conflict(
          "a record with this " + (field.empty() ? std::string("key") : field) + " already exists",
          field);
    }
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
      throw Conflict("the database is locked by another writer; retry");
    if (primary == SQLITE_TOOBIG) throw ValidationError("a value is too large");
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_FULL ||
        primary == SQLITE_READONLY || primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
      throw Unavailable("SQLite: " + e.message());
    throw InternalError("SQLite: " + e.message());
  } catch (const odb::mysql::database_exception& e) {
    const unsigned int code = e.error();
    if (code == 1062) {
      std::string field = unique_field(e.message());
      throw Conflict(
          "a record with this " + (field.empty() ? std::string("key") : field) + " already exists",
          field);
    }
    if (code == 1406) throw ValidationError("a value is too long: " + e.message());
    if (code == 1366 || code == 1300)
      throw ValidationError("a value is not valid text: " + e.message());
    if (code == 1213) throw Conflict("the transaction lost a deadlock; retry");
    if (code == 1050) throw Conflict("the table already exists (a concurrent schema creation?)");
    if (code == 1205) throw Conflict("a lock wait timed out; retry");
    if (is_connection_error(code)) throw Unavailable("MySQL: " + e.message());
    throw InternalError("MySQL: " + e.message());
  } catch (const odb::exception& e) {
    throw InternalError(std::string("database error: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InternalError(std::string("unexpected error: ") + e.what());
  }
}

void DatabaseDeleter::operator()(Database* db) const noexcept { delete db; }
void TransactionDeleter::operator()(Transaction* tx) const noexcept {
  rollback(*tx);
  delete tx;
}

DatabasePtr open_database(const ConnectionSpec& spec, const store::PoolOptions& pool,
                          std::function<void(const std::string&)> warn,
                          const detail::Clock* clock) {
  DatabasePtr out(new Database);
  out->backend = spec.backend;
  try {
    if (spec.backend == Backend::kSqlite) {
      store::PoolOptions options = pool;
      // Every connection to ":memory:" would be a database of its own.
      const bool memory = spec.sqlite_path == ":memory:";
      if (memory) options.min_size = options.max_size = 1;
      if (!memory) out->checkpointer = std::make_shared<WalCheckpointer>(spec.sqlite_path);
      auto* factory = new SqliteFactory(options, std::move(warn), spec.describe,
                                        out->checkpointer.get(), clock);
      out->pool = factory;
      out->db.reset(new odb::sqlite::database(
          spec.sqlite_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, true,
          "", std::unique_ptr<odb::sqlite::connection_factory>(factory)));
    } else {
      auto* factory = new MysqlFactory(pool, std::move(warn), spec, clock);
      out->pool = factory;
      const std::string* socket = spec.socket.empty() ? nullptr : &spec.socket;
      out->db.reset(new odb::mysql::database(
          spec.user, spec.password, spec.database, spec.host, spec.port, socket, "utf8mb4", 0,
          std::unique_ptr<odb::mysql::connection_factory>(factory)));
    }
  } catch (...) {
    rethrow_translated();
  }
  return out;
}

store::PoolMetrics pool_metrics(const Database& db) { return db.pool->metrics(); }
Backend backend(const Database& db) { return db.backend; }
Backend backend(const Transaction& tx) { return tx.owner->backend; }

TransactionPtr begin(Database& db, Access access) {
  TransactionPtr out(new Transaction);
  out->owner = &db;
  // A pooled connection may have died while idle (server restart, KILL, network). BEGIN
  // is its first use: if that fails for a lost connection, drop it and take another.
  const std::size_t attempts = db.pool->max_size() + 1;
  for (std::size_t attempt = 1;; ++attempt) {
    try {
      odb::connection_ptr c = db.db->connection();
      try {
        if (db.backend == Backend::kSqlite) {
          auto& sc = static_cast<odb::sqlite::connection&>(*c);
          // Writers take the write lock up front: a deferred transaction that reads and
          // then writes can fail to upgrade (SQLITE_BUSY) instead of waiting its turn.
          out->tx.reset(new odb::transaction(
              access == Access::kReadWrite ? sc.begin_immediate() : sc.begin(), false));
        } else {
          out->tx.reset(new odb::transaction(c->begin(), false));
        }
        return out;
      } catch (const odb::connection_lost&) {
        if (db.backend == Backend::kMysql) static_cast<MysqlPooled&>(*c).broken = true;
        if (attempt >= attempts) throw;
      }
    } catch (...) {
      rethrow_translated();
    }
  }
}

void commit(Transaction& tx) {
  try {
    tx.enter();
    tx.tx->commit();
  } catch (...) {
    rollback(tx);
    rethrow_translated();
  }
}

void rollback(Transaction& tx) noexcept {
  if (!tx.tx || tx.tx->finalized()) return;
  try {
    tx.enter();
    tx.tx->rollback();
  } catch (...) {
    // A failed rollback leaves nothing committed; the connection is marked failed by
    // the driver and evicted when returned.
  }
}

bool active(const Transaction& tx) noexcept { return tx.tx && !tx.tx->finalized(); }

std::uint64_t execute(Transaction& tx, const std::string& sql) {
  try {
    return tx.enter().execute(sql);
  } catch (...) {
    rethrow_translated();
  }
}

}  // namespace island
}  // namespace banyan
