// Island-internal pieces shared by its translation units (C++14, includes ODB).
#ifndef BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX
#define BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX

#include <memory>

#include <odb/database.hxx>
#include <odb/transaction.hxx>

#include "store/odb/island.hpp"

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

// Rethrows the exception in flight as a banyan::Error. Call only from a catch block.
[[noreturn]] void rethrow_translated();
// A MySQL client or server error code that means the connection is unusable.
bool is_connection_error(unsigned int code);

}  // namespace island
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_ODB_ISLAND_INTERNAL_HXX
