// The ODB island's interface: what the C++20 side may call. C++14-clean and free of ODB
// headers, so C++20 code includes it and ODB types never leave lib/store/odb/.
//
// Every function here translates ODB and driver exceptions into banyan::Error.
#ifndef BANYAN_LIB_STORE_ODB_ISLAND_HPP
#define BANYAN_LIB_STORE_ODB_ISLAND_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "banyan/store/pool.hpp"

namespace banyan {
namespace detail {
class Clock;  // the pool's (store/pool/connection_pool.hpp)
}
namespace island {

enum class Backend { kSqlite, kMysql };

struct ConnectionSpec {
  Backend backend = Backend::kSqlite;
  std::string sqlite_path;  // ":memory:" for an in-memory database (pool of one)
  std::string host;
  unsigned port = 0;
  std::string user;
  std::string password;
  std::string database;
  std::string socket;
  std::string describe;  // URL without the password, for messages
  // MySQL: every wait on the server is bounded (seconds), so a stalled database or a
  // host that drops packets fails a request instead of hanging it. A lock wait ends
  // (error 1205, Busy) before the read timeout would cut the connection.
  unsigned connect_timeout = 5;
  unsigned read_timeout = 30;
  unsigned write_timeout = 30;
};

// An open database: ODB's database object with Banyan's pool as its connection factory.
class Database;
struct DatabaseDeleter {
  void operator()(Database* db) const noexcept;
};
using DatabasePtr = std::unique_ptr<Database, DatabaseDeleter>;

// Opens the database and its pool, which reads the time from `clock` (the coarse system
// clock when null; else it must outlive the database). Throws Unavailable when it cannot
// be reached.
DatabasePtr open_database(const ConnectionSpec& spec, const store::PoolOptions& pool,
                          std::function<void(const std::string&)> warn,
                          const detail::Clock* clock = nullptr);
store::PoolMetrics pool_metrics(const Database& db);
Backend backend(const Database& db);

// A transaction on one pooled connection.
class Transaction;
struct TransactionDeleter {
  void operator()(Transaction* tx) const noexcept;  // rolls back if still active
};
using TransactionPtr = std::unique_ptr<Transaction, TransactionDeleter>;

enum class Access { kReadWrite, kReadOnly };
// Acquires a connection and begins. A connection found dead at BEGIN (killed by the
// server, network gone) is evicted and another one tried, so callers never see it.
TransactionPtr begin(Database& db, Access access);
void commit(Transaction& tx);
void rollback(Transaction& tx) noexcept;
bool active(const Transaction& tx) noexcept;
Backend backend(const Transaction& tx);

// A SQL text with bound parameters, built by the C++20 side (lib/store/sql_builder.cpp).
// Identifiers in the text are plain (unquoted, never reserved words) so one text serves
// both backends; values are always parameters, never spliced into the text.
struct SqlParam {
  enum class Kind { kInt, kUInt, kReal, kText, kBool } kind = Kind::kInt;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  std::string s;
  bool b = false;
};

struct SqlFragment {
  struct Part {
    bool is_param = false;
    std::string text;
    SqlParam param;
  };
  std::vector<Part> parts;

  SqlFragment& text(const std::string& t);
  SqlFragment& param(const SqlParam& p);
  SqlFragment& append(const SqlFragment& other);
};

// Runs DDL or DML with no result. Returns the number of affected rows.
std::uint64_t execute(Transaction& tx, const std::string& sql);
// Runs DML with bound parameters (INSERT, UPDATE, DELETE) through the driver on the
// transaction's connection. Returns the number of affected rows.
std::uint64_t execute(Transaction& tx, const SqlFragment& statement);
// Runs a full SELECT; returns the first `width` columns of every row, row after row, as
// text (numbers in decimal). Like execute, one round trip on MySQL,
// where an ODB view takes three.
struct TextCell {
  bool is_null = true;
  std::string text;
};
std::vector<TextCell> query_text(Transaction& tx, const SqlFragment& select, std::size_t width);
// As query_text, for integer columns (NULL as 0).
std::vector<std::int64_t> query_ints(Transaction& tx, const SqlFragment& select, std::size_t width);
// Runs a full "SELECT <one integer> ..." statement; returns 0 when it yields no row.
std::int64_t query_int(Transaction& tx, const SqlFragment& select);
// Runs a full "SELECT <one id column> ..." statement.
std::vector<std::uint64_t> query_ids(Transaction& tx, const SqlFragment& select);
// Creates Banyan's tables (the schema ODB generates from rows.hxx).
void create_schema(Transaction& tx);

// Object operations for one row type of rows.hxx (explicitly instantiated for each).
template <typename Row>
struct RowStore {
  // Assigns row.id and row.version. Conflict(field) on a duplicate unique key.
  static void insert(Transaction& tx, Row& row);
  static std::unique_ptr<Row> find(Transaction& tx, std::uint64_t id);
  // Conflict when row.version is not the stored version (bumps row.version otherwise).
  static void update(Transaction& tx, Row& row);
  // False when no such row.
  static bool erase(Transaction& tx, std::uint64_t id);
  // `clause` is what follows WHERE: conditions, then ORDER BY and LIMIT.
  static std::vector<Row> select(Transaction& tx, const SqlFragment& clause);
};

// Rows of a native view of rows.hxx for a full SELECT (explicitly instantiated for each).
template <typename View>
struct ViewStore {
  static std::vector<View> query(Transaction& tx, const SqlFragment& select);
};

}  // namespace island
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_ODB_ISLAND_HPP
