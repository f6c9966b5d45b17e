#include "test_databases.hpp"

#include <mysql.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace banyan::test {
namespace {

std::atomic<int> counter{0};

std::string unique_suffix() {
  return std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + "_" +
         std::to_string(std::rand() % 100000);
}

MYSQL* connect_admin(const MariaDbServer& server) {
  MYSQL* m = mysql_init(nullptr);
  if (mysql_real_connect(m, server.host.c_str(), server.user.c_str(), nullptr, nullptr, server.port,
                         nullptr, 0) == nullptr) {
    std::string error = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("cannot connect to the test MariaDB: " + error);
  }
  return m;
}

std::string mysql_exec(const MariaDbServer& server, const std::string& db, const std::string& sql) {
  MYSQL* m = connect_admin(server);
  std::string out;
  if ((!db.empty() && mysql_select_db(m, db.c_str()) != 0) ||
      mysql_real_query(m, sql.data(), sql.size()) != 0) {
    std::string error = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("MariaDB: " + error + " in: " + sql);
  }
  if (MYSQL_RES* res = mysql_store_result(m)) {
    if (MYSQL_ROW row = mysql_fetch_row(res); row && row[0]) out = row[0];
    mysql_free_result(res);
  }
  mysql_close(m);
  return out;
}

}  // namespace

std::string backend_name(Backend backend) {
  return backend == Backend::kSqlite ? "SQLite" : "MariaDB";
}

MariaDbServer MariaDbServer::from_env() {
  const char* url = std::getenv("BANYAN_TEST_MYSQL_URL");
  if (url == nullptr) {
    throw std::runtime_error(
        "BANYAN_TEST_MYSQL_URL is not set: run the tests through ./scripts/test.sh, which "
        "starts a private MariaDB server");
  }
  static const std::regex re(R"(mysql://([^@:]+)@([^:/]+):(\d+)/.*)");
  std::cmatch m;
  if (!std::regex_match(url, m, re)) throw std::runtime_error("bad BANYAN_TEST_MYSQL_URL");
  return MariaDbServer{m[2].str(), static_cast<unsigned>(std::stoul(m[3].str())), m[1].str()};
}

ScratchDatabase::ScratchDatabase(Backend backend) : backend_(backend) {
  if (backend == Backend::kSqlite) {
    path_ = (std::filesystem::temp_directory_path() / ("banyan_test_" + unique_suffix() + ".db"))
                .string();
    url_ = "sqlite://" + path_;
  } else {
    const MariaDbServer server = MariaDbServer::from_env();
    db_name_ = "t_" + unique_suffix();
    mysql_exec(server, "", "CREATE DATABASE " + db_name_);
    url_ = "mysql://" + server.user + "@" + server.host + ":" + std::to_string(server.port) + "/" +
           db_name_;
  }
}

ScratchDatabase::~ScratchDatabase() {
  try {
    if (backend_ == Backend::kSqlite) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    } else {
      mysql_exec(MariaDbServer::from_env(), "", "DROP DATABASE IF EXISTS " + db_name_);
    }
  } catch (...) {
  }
}

void ScratchDatabase::load_script(const std::string& path) const {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string sql = text.str();
  if (backend_ == Backend::kSqlite) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error("loading " + path + ": " + message);
    return;
  }
  const MariaDbServer server = MariaDbServer::from_env();
  MYSQL* m = mysql_init(nullptr);
  if (mysql_real_connect(m, server.host.c_str(), server.user.c_str(), nullptr, db_name_.c_str(),
                         server.port, nullptr, CLIENT_MULTI_STATEMENTS) == nullptr ||
      mysql_real_query(m, sql.data(), sql.size()) != 0) {
    std::string error = mysql_error(m);
    mysql_close(m);
    throw std::runtime_error("loading " + path + ": " + error);
  }
  do {
    if (MYSQL_RES* res = mysql_store_result(m)) mysql_free_result(res);
  } while (mysql_next_result(m) == 0);
  std::string error = mysql_errno(m) ? mysql_error(m) : "";
  mysql_close(m);
  if (!error.empty()) throw std::runtime_error("loading " + path + ": " + error);
}

std::unique_ptr<store::Database> ScratchDatabase::open(store::DatabaseOptions options) const {
  return store::Database::open(url_, std::move(options));
}

std::string ScratchDatabase::raw(const std::string& sql) const {
  if (backend_ == Backend::kMariaDb) return mysql_exec(MariaDbServer::from_env(), db_name_, sql);
  sqlite3* db = nullptr;
  if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite open");
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("sqlite: " + error + " in: " + sql);
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr)
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  const bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
  std::string error = failed ? sqlite3_errmsg(db) : "";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (failed) throw std::runtime_error("sqlite: " + error + " in: " + sql);
  return out;
}

std::vector<std::string> ScratchDatabase::columns_holding(const std::string& needle) const {
  const bool sqlite = backend_ == Backend::kSqlite;
  // The full-text index's shadow tables hold binary segments: files_hold covers them.
  const std::string tables =
      raw(sqlite ? "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table' AND "
                   "name NOT LIKE "
                   "'sqlite_%' AND name NOT LIKE 'search_index_%'"
                 : "SELECT GROUP_CONCAT(table_name) FROM information_schema.tables WHERE "
                   "table_schema = DATABASE()");
  std::vector<std::string> out;
  std::stringstream ts(tables);
  for (std::string table; std::getline(ts, table, ',');) {
    const std::string columns =
        raw(sqlite ? "SELECT group_concat(name, ',') FROM pragma_table_info('" + table + "')"
                   : "SELECT GROUP_CONCAT(column_name) FROM information_schema.columns WHERE "
                     "table_schema = "
                     "DATABASE() AND table_name = '" +
                         table + "'");
    std::stringstream cs(columns);
    for (std::string column; std::getline(cs, column, ',');) {
      const std::string n = raw("SELECT COUNT(*) FROM " + table + " WHERE INSTR(CAST(" + column +
                                " AS " + (sqlite ? "TEXT" : "CHAR") + "), '" + needle + "') > 0");
      if (n != "0") out.push_back(table + "." + column);
    }
  }
  return out;
}

bool ScratchDatabase::files_hold(const std::string& needle) const {
  if (backend_ != Backend::kSqlite) return false;
  for (const char* suffix : {"", "-wal"}) {
    std::ifstream in(path_ + suffix, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (bytes.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace banyan::test
