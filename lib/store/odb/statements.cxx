// Statements: SqlFragment text and typed parameters, run on either backend's connection
// (prepared, bound, stepped), and the helpers that read ids, integers and text back.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
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

[[noreturn]] void sqlite_failed(sqlite3* h, int rc) {
  const std::string message = sqlite3_errmsg(h);
  const int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT) throw Conflict("SQLite: " + message);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    throw Conflict("the database is locked by another writer; retry");
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY)
    throw Unavailable("SQLite: " + message);
  throw InternalError("SQLite: " + message);
}

// Where a statement's result rows go: the first `width` columns of each, appended to
// `out`. A statement run for its effect has none.
struct Cells {
  std::size_t width = 0;
  std::vector<TextCell>* out = nullptr;
};

TextCell text_cell(const char* text, std::size_t size) {
  TextCell cell;
  cell.is_null = false;
  cell.text.assign(text, size);
  return cell;
}

// A statement in use: the connection's cached one (reset and unbound when done), or one
// prepared for this run alone (finalized) on a connection without a cache.
class SqliteRun {
 public:
  SqliteRun(odb::sqlite::connection& c, const std::string& sql) : handle_(c.handle()) {
    int rc = SQLITE_OK;
    if (auto* cache = dynamic_cast<SqliteStatementCache*>(&c)) {
      st_ = cache->statement(handle_, sql, rc);
      cached_ = true;
    } else {
      rc = sqlite3_prepare_v2(handle_, sql.c_str(), static_cast<int>(sql.size()), &st_, nullptr);
    }
    if (rc != SQLITE_OK || st_ == nullptr) sqlite_failed(handle_, rc);
  }
  SqliteRun(const SqliteRun&) = delete;
  SqliteRun& operator=(const SqliteRun&) = delete;
  ~SqliteRun() {
    if (cached_) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    } else {
      sqlite3_finalize(st_);
    }
  }
  sqlite3_stmt* get() const { return st_; }
  sqlite3* handle() const { return handle_; }

 private:
  sqlite3* handle_;
  sqlite3_stmt* st_ = nullptr;
  bool cached_ = false;
};

std::uint64_t run_sqlite(odb::sqlite::connection& c, const SqlFragment& statement, Cells rows) {
  std::string sql;
  for (const SqlFragment::Part& p : statement.parts) sql += p.is_param ? "?" : p.text;
  const SqliteRun run(c, sql);
  sqlite3* h = run.handle();
  sqlite3_stmt* st = run.get();
  int index = 0;
  for (const SqlFragment::Part& p : statement.parts) {
    if (!p.is_param) continue;
    ++index;
    const SqlParam& v = p.param;
    switch (v.kind) {
      case SqlParam::Kind::kInt:
        sqlite3_bind_int64(st, index, v.i);
        break;
      case SqlParam::Kind::kUInt:
        sqlite3_bind_int64(st, index, static_cast<sqlite3_int64>(v.u));
        break;
      case SqlParam::Kind::kReal:
        sqlite3_bind_double(st, index, v.d);
        break;
      case SqlParam::Kind::kText:
        sqlite3_bind_text(st, index, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT);
        break;
      case SqlParam::Kind::kBool:
        sqlite3_bind_int(st, index, v.b ? 1 : 0);
        break;
    }
  }
  const int columns = std::min(sqlite3_column_count(st), static_cast<int>(rows.width));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (rows.out == nullptr) continue;
    for (int i = 0; i < static_cast<int>(rows.width); ++i) {
      if (i >= columns || sqlite3_column_type(st, i) == SQLITE_NULL) {
        rows.out->emplace_back();
        continue;
      }
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      rows.out->push_back(text_cell(text, static_cast<std::size_t>(sqlite3_column_bytes(st, i))));
    }
  }
  if (rc != SQLITE_DONE) sqlite_failed(h, rc);
  return static_cast<std::uint64_t>(sqlite3_changes(h));
}

// The text protocol with values escaped by the client library for the connection's
// character set: one round trip, where a server-side prepared statement takes two
// (prepare, execute) and an ODB query three (prepare, reset, execute).
std::uint64_t run_mysql(odb::mysql::connection& c, const SqlFragment& statement, Cells rows) {
  c.clear();  // no ODB statement may hold the connection's result stream
  MYSQL* h = c.handle();
  std::string sql;
  std::vector<char> buffer;
  for (const SqlFragment::Part& p : statement.parts) {
    if (!p.is_param) {
      sql += p.text;
      continue;
    }
    const SqlParam& v = p.param;
    switch (v.kind) {
      case SqlParam::Kind::kInt:
        sql += std::to_string(v.i);
        break;
      case SqlParam::Kind::kUInt:
        sql += std::to_string(v.u);
        break;
      case SqlParam::Kind::kBool:
        sql += v.b ? "1" : "0";
        break;
      case SqlParam::Kind::kReal: {
        char num[40];
        std::snprintf(num, sizeof num, "%.17g", v.d);
        sql += num;
        break;
      }
      case SqlParam::Kind::kText: {
        buffer.resize(v.s.size() * 2 + 1);
        const unsigned long n = mysql_real_escape_string(h, buffer.data(), v.s.data(), v.s.size());
        sql += '\'';
        sql.append(buffer.data(), n);
        sql += '\'';
        break;
      }
    }
  }
  if (mysql_real_query(h, sql.data(), sql.size()) != 0) {
    const unsigned code = mysql_errno(h);
    const std::string message = mysql_error(h);
    if (code == 1062) throw Conflict("MySQL: " + message);
    if (code == 1213 || code == 1205) throw Conflict("MySQL: " + message + "; retry");
    if (is_connection_error(code)) {
      c.mark_failed();
      throw Unavailable("MySQL: " + message);
    }
    throw InternalError("MySQL: " + message);
  }
  if (MYSQL_RES* res = mysql_store_result(h)) {
    if (rows.out != nullptr) {
      const unsigned columns =
          std::min<unsigned>(mysql_num_fields(res), static_cast<unsigned>(rows.width));
      while (MYSQL_ROW row = mysql_fetch_row(res)) {
        const unsigned long* lengths = mysql_fetch_lengths(res);
        for (unsigned i = 0; i < rows.width; ++i) {
          if (i < columns && row[i] != nullptr)
            rows.out->push_back(text_cell(row[i], lengths[i]));
          else
            rows.out->emplace_back();
        }
      }
    }
    mysql_free_result(res);
  } else if (mysql_field_count(h) != 0) {
    const unsigned code = mysql_errno(h);
    if (is_connection_error(code)) c.mark_failed();
    throw Unavailable(std::string("MySQL: reading a result failed: ") + mysql_error(h));
  }
  return mysql_affected_rows(h);
}

std::uint64_t run(Transaction& tx, const SqlFragment& statement, Cells rows) {
  tx.enter();
  odb::connection& c = tx.tx->connection();
  if (tx.owner->backend == Backend::kSqlite)
    return run_sqlite(static_cast<odb::sqlite::connection&>(c), statement, rows);
  return run_mysql(static_cast<odb::mysql::connection&>(c), statement, rows);
}

}  // namespace

SqliteStatementCache::~SqliteStatementCache() { finalize_all(); }

void SqliteStatementCache::finalize_all() noexcept {
  for (auto& entry : statements_) sqlite3_finalize(entry.second);
  statements_.clear();
}

sqlite3_stmt* SqliteStatementCache::statement(sqlite3* handle, const std::string& sql, int& rc) {
  const auto found = statements_.find(sql);
  if (found != statements_.end()) {
    rc = SQLITE_OK;
    return found->second;
  }
  sqlite3_stmt* st = nullptr;
  rc = sqlite3_prepare_v3(handle, sql.c_str(), static_cast<int>(sql.size()),
                          SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) return nullptr;
  if (statements_.size() >= kMax) finalize_all();
  statements_.emplace(sql, st);
  return st;
}

std::uint64_t execute(Transaction& tx, const SqlFragment& statement) {
  try {
    return run(tx, statement, {});
  } catch (...) {
    rethrow_translated();
  }
}

std::vector<TextCell> query_text(Transaction& tx, const SqlFragment& select, std::size_t width) {
  try {
    std::vector<TextCell> out;
    run(tx, select, {width, &out});
    return out;
  } catch (...) {
    rethrow_translated();
  }
}

std::vector<std::int64_t> query_ints(Transaction& tx, const SqlFragment& select,
                                     std::size_t width) {
  std::vector<std::int64_t> out;
  for (const auto& cell : query_text(tx, select, width)) {
    std::int64_t value = 0;
    if (!cell.is_null) value = std::strtoll(cell.text.c_str(), nullptr, 10);
    out.push_back(value);
  }
  return out;
}

std::int64_t query_int(Transaction& tx, const SqlFragment& select) {
  const auto values = query_ints(tx, select, 1);
  return values.empty() ? 0 : values.front();
}

std::vector<std::uint64_t> query_ids(Transaction& tx, const SqlFragment& select) {
  const auto values = query_ints(tx, select, 1);
  return {values.begin(), values.end()};
}

void create_schema(Transaction& tx) {
  try {
    odb::schema_catalog::create_schema(tx.enter(), "", false);
  } catch (...) {
    rethrow_translated();
  }
}

SqlFragment& SqlFragment::text(const std::string& t) {
  if (!parts.empty() && !parts.back().is_param) {
    parts.back().text += t;
  } else {
    Part p;
    p.text = t;
    parts.push_back(std::move(p));
  }
  return *this;
}

SqlFragment& SqlFragment::param(const SqlParam& v) {
  Part p;
  p.is_param = true;
  p.param = v;
  parts.push_back(std::move(p));
  return *this;
}

SqlFragment& SqlFragment::append(const SqlFragment& other) {
  for (const Part& p : other.parts) {
    if (p.is_param) {
      param(p.param);
    } else {
      text(p.text);
    }
  }
  return *this;
}

}  // namespace island
}  // namespace banyan
