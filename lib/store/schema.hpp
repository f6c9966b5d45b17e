// Schema versions and forward migrations, and the registry of the layers' parts.
//
// One version number for the whole database (banyan_schema), but each layer declares and
// migrates its own tables: the store its ODB objects and its plain tables, messaging,
// saga and security theirs (lib/<layer>/schema.cpp). A SchemaPart says how its tables are
// made in a new database (their latest shape) and, for every version that changed them,
// the step that brings an older database's tables forward. Never edit or reorder a
// released step; keep each in step with what it changes (rows.hxx, the layer's DDL).
// tests/fixtures/schema_v1 holds a version-1 database for the migration tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/database_state.hpp"

namespace banyan::store::detail {

struct Migration {
  // Brings the owner's tables from version (to - 1) to `to`, inside the migration
  // transaction.
  int to = 0;
  std::function<void(island::Transaction&, island::Backend)> apply;
};

struct SchemaPart {
  std::string owner;  // the layer: "store", "messaging", ...
  // Creates the owner's plain-SQL tables in a new database, as they are at the latest
  // version (the store's ODB objects come first, from rows.hxx). Null: none.
  std::function<void(island::Transaction&, island::Backend)> create;
  // The owner's steps, by increasing version.
  std::vector<Migration> migrations;
};

// The parts of the layers above the store (messaging, saga, security), in the order
// their tables are made. The store cannot name those layers: this is defined by the
// library's composition root, lib/service/schema_parts.cpp.
std::vector<SchemaPart> upper_schema_parts();

// Every part, the store's first. Mutable so tests can register a future version.
std::vector<SchemaPart>& schema_parts();

// The version a new database gets: the highest step of any part (1 with none).
int current_schema_version();

// Checks the registry: steps go forward within a part, and every version from 2 to the
// current one has at least one step, so no version is written without its change.
// Throws std::logic_error otherwise (a programming error, caught by the tests).
void check_schema_parts(const std::vector<SchemaPart>& parts);

// Creates the schema in an empty database or migrates an older one, in one transaction
// (on MySQL, DDL commits implicitly, so each step is applied and recorded separately).
// At each version, the parts' steps run in registry order. Refuses, with Unavailable, a
// database newer than this library, and an empty or older one when `migrate` is false.
// Returns the version the database is now at.
int ensure_schema(DatabaseState& state, bool migrate);

// The column types of the tables written by hand (not ODB's), per backend.
struct ColumnTypes {
  explicit ColumnTypes(island::Backend backend) {
    const bool sqlite = backend == island::Backend::kSqlite;
    pk = sqlite ? "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
                : "id BIGINT UNSIGNED NOT NULL PRIMARY KEY AUTO_INCREMENT";
    id = sqlite ? "INTEGER" : "BIGINT UNSIGNED";
    time = sqlite ? "INTEGER" : "BIGINT";
    key = sqlite ? "TEXT" : "VARCHAR(191)";  // indexable in utf8mb4
    text = sqlite ? "TEXT" : "VARCHAR(255)";
    payload = sqlite ? "TEXT" : "MEDIUMTEXT";
    engine = sqlite ? "" : " ENGINE=InnoDB";
  }
  std::string pk, id, time, key, text, payload, engine;
};

}  // namespace banyan::store::detail
