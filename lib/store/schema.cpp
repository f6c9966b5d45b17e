#include "store/schema.hpp"

#include <chrono>
#include <string>
#include <thread>

#include "banyan/errors.hpp"
#include "store/odb/rows.hxx"

namespace banyan::store::detail {
namespace {

constexpr int kBaseVersion = 1;

bool schema_table_exists(island::Transaction& tx, island::Backend backend) {
  island::SqlFragment q;
  if (backend == island::Backend::kSqlite) {
    q.text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'banyan_schema'");
  } else {
    q.text("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
           "AND table_name = 'banyan_schema'");
  }
  return island::query_int(tx, q) > 0;
}

void write_version(island::Transaction& tx, int version, bool first) {
  odbrows::SchemaRow row;
  row.id = 1;
  row.version = version;
  if (first) {
    island::RowStore<odbrows::SchemaRow>::insert(tx, row);
  } else {
    island::RowStore<odbrows::SchemaRow>::update(tx, row);
  }
}

// MySQL compares text case- and pad-insensitively by default; Banyan's semantics
// (unique keys, filters, keyset order) are byte-exact on both backends.
void use_binary_collation(island::Transaction& tx) {
  try {
    island::execute(tx, "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin");
  } catch (const Error&) {
    island::execute(tx, "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  }
}

}  // namespace

std::vector<Migration>& schema_migrations() {
  static std::vector<Migration> migrations;
  return migrations;
}

int current_schema_version() noexcept {
  return kBaseVersion + static_cast<int>(schema_migrations().size());
}

namespace {

int ensure_schema_once(DatabaseState& state, bool migrate) {
  island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadWrite);
  const bool mysql = state.backend == island::Backend::kMysql;
  const int target = current_schema_version();
  int version = 0;
  if (!schema_table_exists(*tx, state.backend)) {
    if (!migrate) throw Unavailable("the database has no Banyan schema and migrate is off");
    if (mysql) use_binary_collation(*tx);
    island::create_schema(*tx);
    version = kBaseVersion;
    write_version(*tx, version, true);
  } else {
    auto row = island::RowStore<odbrows::SchemaRow>::find(*tx, 1);
    version = row ? static_cast<int>(row->version) : 0;
    if (version > target) {
      throw Unavailable("the database schema is version " + std::to_string(version) +
                        ", newer than this Banyan understands (up to " +
                        std::to_string(target) + "); upgrade Banyan to open it");
    }
    if (version < kBaseVersion) throw Unavailable("the banyan_schema table is damaged");
    if (version < target && !migrate) {
      throw Unavailable("the database schema is version " + std::to_string(version) +
                        " and needs migrating to " + std::to_string(target) +
                        ", but migrate is off");
    }
  }
  for (const Migration& m : schema_migrations()) {
    if (m.to <= version) continue;
    m.apply(*tx, state.backend);
    version = m.to;
    write_version(*tx, version, false);
    state.log("migrated the schema to version " + std::to_string(version));
  }
  island::commit(*tx);
  return version;
}

}  // namespace

int ensure_schema(DatabaseState& state, bool migrate) {
  // SQLite serialises this through its write lock. On MySQL, DDL commits as it goes, so
  // two processes creating one new database can collide (the loser sees "table exists"
  // or a half-made schema): the loser waits for the winner and looks again.
  for (int attempt = 1;; ++attempt) {
    try {
      return ensure_schema_once(state, migrate);
    } catch (const Error& e) {
      const bool retryable =
          state.backend == island::Backend::kMysql && e.code() == ErrorCode::kConflict;
      if (!retryable || attempt >= 10) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
}

}  // namespace banyan::store::detail
