// Schema versions and forward migrations.
//
// A new database gets the schema ODB generates from lib/store/odb/rows.hxx, which is
// always the latest version. An older database is brought forward by the Migrations in
// schema_migrations(), one per version after 1: never edit or reorder a released one, and
// keep each in step with the change it makes to rows.hxx. tests/fixtures/schema_v1 holds
// a version-1 database for the migration tests.
#pragma once

#include <functional>
#include <vector>

#include "store/database_state.hpp"

namespace banyan::store::detail {

struct Migration {
  // Brings the schema from version (to - 1) to `to`, inside the migration transaction.
  int to = 0;
  std::function<void(island::Transaction&, island::Backend)> apply;
};

// The registered migrations, in order. Mutable so tests can register a future version.
std::vector<Migration>& schema_migrations();
int current_schema_version() noexcept;

// Creates the schema in an empty database or migrates an older one, in one transaction
// (on MySQL, DDL commits implicitly, so each step is applied and recorded separately).
// Refuses, with Unavailable, a database newer than this library, and an empty or older
// one when `migrate` is false. Returns the version the database is now at.
int ensure_schema(DatabaseState& state, bool migrate);

}  // namespace banyan::store::detail
