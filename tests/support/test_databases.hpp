// Fresh, real databases for tests: a new SQLite file, or a new database on the private
// MariaDB server that scripts/test.sh starts (BANYAN_TEST_MYSQL_URL).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "banyan/store/database.hpp"

namespace banyan::test {

enum class Backend { kSqlite, kMariaDb };

std::string backend_name(Backend backend);

// A database that exists for the life of this object, then is removed.
class ScratchDatabase {
 public:
  explicit ScratchDatabase(Backend backend);
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& url() const { return url_; }
  std::unique_ptr<store::Database> open(store::DatabaseOptions options = {}) const;
  // Runs one statement outside Banyan (raw sqlite3 or libmariadb): for tampering in
  // tests. Returns the first column of the first row, if any, as text.
  std::string raw(const std::string& sql) const;
  // Runs a whole SQL script (several statements) against the empty database: for loading
  // the databases of older schema versions in tests/fixtures.
  void load_script(const std::string& path) const;
  Backend backend() const { return backend_; }
  // The SQLite file (empty on MariaDB).
  const std::string& path() const { return path_; }
  // Every table.column whose stored text contains `needle`, read with plain SQL outside
  // Banyan: what someone holding the database alone would find.
  std::vector<std::string> columns_holding(const std::string& needle) const;
  // Whether the SQLite file or its write-ahead log holds `needle` byte for byte (false on
  // MariaDB).
  bool files_hold(const std::string& needle) const;

 private:
  Backend backend_;
  std::string url_;
  std::string path_;     // SQLite file
  std::string db_name_;  // MariaDB database
};

// MariaDB connection settings from BANYAN_TEST_MYSQL_URL; fails the test when unset.
struct MariaDbServer {
  std::string host;
  unsigned port = 0;
  std::string user;
  static MariaDbServer from_env();
};

}  // namespace banyan::test
