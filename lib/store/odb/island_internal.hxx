// Island-internal pieces shared by its translation units (C++14, includes ODB).
#ifndef BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX
#define BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include <odb/database.hxx>
#include <odb/transaction.hxx>

#include "store/odb/island.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace banyan {
namespace island {

class PoolAccess {
 public:
  virtual ~PoolAccess() = default;
  virtual store::PoolMetrics metrics() const = 0;
  virtual std::size_t max_size() const = 0;
};

class WalCheckpointer;

class Database {
 public:
  Backend backend = Backend::kSqlite;
  std::shared_ptr<WalCheckpointer> checkpointer;  // SQLite files only
  std::unique_ptr<odb::database> db;
  PoolAccess* pool = nullptr;  // owned by db (its connection factory)
};

class Transaction {
 public:
  Database* owner = nullptr;
  std::unique_ptr<odb::transaction> tx;

  // ODB finds "the current transaction" through a thread-local; a caller may interleave
  // several units of work on one thread, so every operation names its own first.
  odb::database& enter() {
    odb::transaction::current(*tx);
    return *owner->db;
  }
};

// Prepared SQLite statements of one connection, by their SQL text: the statements the
// store builds (SqlFragment) repeat, and preparing one costs more than running it. Each
// pooled SQLite connection is one (database.cxx); a statement is handed out reset, with
// no bindings, and must be given back reset (run_sqlite does). When it holds kMax texts it
// starts again empty, so texts that never repeat cannot grow it without bound.
class SqliteStatementCache {
 public:
  static const std::size_t kMax = 256;
  SqliteStatementCache() = default;
  SqliteStatementCache(const SqliteStatementCache&) = delete;
  SqliteStatementCache& operator=(const SqliteStatementCache&) = delete;
  virtual ~SqliteStatementCache();  // finalizes them, before the connection closes

  // The statement for `sql` on `handle`, prepared now if it is not held; null with the
  // SQLite error code in `rc` when it cannot be prepared.
  ::sqlite3_stmt* statement(::sqlite3* handle, const std::string& sql, int& rc);

 private:
  void finalize_all() noexcept;
  std::unordered_map<std::string, ::sqlite3_stmt*> statements_;
};

// Rethrows the exception in flight as a banyan::Error. Call only from a catch block.
[[noreturn]] void rethrow_translated();
// A MySQL client or server error code that means the connection is unusable.
bool is_connection_error(unsigned int code);

}  // namespace island
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX
