// Schema versions: created on first open, migrated forward, newer refused.
#include "store/schema.hpp"
#include "store/stores.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "store/database_state.hpp"
#include "store/odb/island.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

#include "store_fixture.hpp"

namespace banyan::test {
namespace {

class SchemaTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(SchemaTest);

// A part of a newer library, registered while it lives: one step to a future version.
class FuturePart {
 public:
  explicit FuturePart(store::detail::Migration step) {
    store::detail::schema_parts().push_back({"future", nullptr, {std::move(step)}});
  }
  ~FuturePart() { store::detail::schema_parts().pop_back(); }
  FuturePart(const FuturePart&) = delete;
  FuturePart& operator=(const FuturePart&) = delete;
};

// Every layer that keeps tables brings its part, and each part makes only its own tables.
TEST(SchemaParts, EachLayerDeclaresItsOwnTables) {
  std::vector<std::string> owners;
  for (const auto& part : store::detail::schema_parts()) owners.push_back(part.owner);
  EXPECT_EQ(owners, (std::vector<std::string>{"store", "messaging", "saga", "security"}));
  EXPECT_NO_THROW(store::detail::check_schema_parts(store::detail::schema_parts()));
}

TEST(SchemaParts, ARegistryWithAGapOrAStepBackIsRefused) {
  using store::detail::SchemaPart;
  const auto step = [](island::Transaction&, island::Backend) {};
  // Version 3 has no step: a database would be marked 3 without its change.
  EXPECT_THROW(store::detail::check_schema_parts(
                   {SchemaPart{"a", nullptr, {{2, step}}}, SchemaPart{"b", nullptr, {{4, step}}}}),
               std::logic_error);
  EXPECT_THROW(
      store::detail::check_schema_parts({SchemaPart{"a", nullptr, {{3, step}, {2, step}}}}),
      std::logic_error);
  EXPECT_THROW(store::detail::check_schema_parts({SchemaPart{"a", nullptr, {{2, nullptr}}}}),
               std::logic_error);
  // Two layers may both change the schema at one version (7: the outbox, the queues and
  // the sagas).
  EXPECT_NO_THROW(store::detail::check_schema_parts(
      {SchemaPart{"a", nullptr, {{2, step}, {3, step}}}, SchemaPart{"b", nullptr, {{3, step}}}}));
}

// A new database and a migrated one end with the same tables, indexes and columns: each
// part's create makes what its steps make.
TEST_P(SchemaTest, ANewAndAMigratedDatabaseHaveTheSameTables) {
  const bool sqlite = GetParam() == Backend::kSqlite;
  // SQLite lists them; MySQL's group_concat is cut at 1,024 bytes, so it counts and sums
  // a checksum of each.
  const std::vector<std::string> shapes =
      sqlite ? std::vector<std::string>{
                   "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE "
                   "name NOT LIKE 'sqlite_%' ORDER BY name)",
                   "SELECT group_concat(t, ',') FROM (SELECT m.name || '.' || p.name AS t FROM "
                   "sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND "
                   "m.name NOT LIKE 'sqlite_%' ORDER BY t)"}
             : std::vector<std::string>{
                   "SELECT concat(COUNT(*), ':', SUM(CRC32(concat(table_name, '.', "
                   "column_name)))) FROM information_schema.columns WHERE table_schema = "
                   "DATABASE()",
                   "SELECT concat(COUNT(*), ':', SUM(CRC32(concat(table_name, '.', index_name, "
                   "'.', column_name)))) FROM information_schema.statistics WHERE table_schema "
                   "= DATABASE()"};
  ScratchDatabase old(GetParam());
  old.load_script(std::string(BANYAN_FIXTURES_DIR) + "/schema_v1/" +
                  (sqlite ? "sqlite.sql" : "mysql.sql"));
  auto migrated = old.open();
  EXPECT_EQ(migrated->schema_version(), store::Database::current_schema_version());
  for (const auto& shape : shapes) EXPECT_EQ(old.raw(shape), scratch().raw(shape)) << shape;
}

TEST_P(SchemaTest, ANewDatabaseGetsTheCurrentSchemaVersion) {
  EXPECT_EQ(db().schema_version(), store::Database::current_schema_version());
  EXPECT_EQ(scratch().raw("SELECT version FROM banyan_schema"),
            std::to_string(store::Database::current_schema_version()));
}

TEST_P(SchemaTest, ReopeningADatabaseKeepsItsData) {
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("A", "B")); });
  auto again = scratch().open();
  again->transact(
      [&](store::UnitOfWork& uow) { EXPECT_EQ(stores(*again).contacts().count(uow), 1u); });
}

TEST_P(SchemaTest, RefusesADatabaseWithANewerSchema) {
  const int newer = store::Database::current_schema_version() + 1;
  scratch().raw("UPDATE banyan_schema SET version = " + std::to_string(newer));
  try {
    scratch().open();
    FAIL() << "opened a database from the future";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_P(SchemaTest, MigratesAnOlderDatabaseForwardKeepingItsData) {
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("A", "B")); });
  // The database on disk is at the current version; a newer library brings a migration.
  const int next = store::Database::current_schema_version() + 1;
  const FuturePart future({next, [](island::Transaction& tx, island::Backend) {
                             island::execute(tx, "CREATE TABLE migration_probe (id INTEGER)");
                             island::execute(tx, "INSERT INTO migration_probe VALUES (7)");
                           }});

  store::DatabaseOptions no_migrate;
  no_migrate.migrate = false;
  EXPECT_THROW(scratch().open(no_migrate), Unavailable) << "migrate=false refuses an old schema";

  // Each migration is reported to the log sink, at info, with the version it reached.
  std::vector<std::string> reported;
  store::DatabaseOptions logged;
  logged.log = [&](const LogEvent& event) {
    if (event.level() == LogLevel::kInfo) reported.push_back(event.json());
  };
  auto upgraded = scratch().open(logged);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_NE(reported[0].find(R"("event":"schema_migrated")"), std::string::npos) << reported[0];
  EXPECT_NE(reported[0].find(R"("version":)" + std::to_string(next)), std::string::npos)
      << reported[0];
  EXPECT_EQ(upgraded->schema_version(), next);
  EXPECT_EQ(scratch().raw("SELECT id FROM migration_probe"), "7");
  EXPECT_EQ(scratch().raw("SELECT version FROM banyan_schema"), std::to_string(next));
  upgraded->transact(
      [&](store::UnitOfWork& uow) { EXPECT_EQ(stores(*upgraded).contacts().count(uow), 1u); });
}

TEST_P(SchemaTest, AFailedMigrationLeavesTheVersionUnchanged) {
  const int current = store::Database::current_schema_version();
  const FuturePart future({current + 1, [](island::Transaction& tx, island::Backend) {
                             island::execute(tx, "UPDATE contacts SET last_name = 'x'");
                             island::execute(tx, "THIS IS NOT SQL");
                           }});
  EXPECT_THROW(scratch().open(), Error);
  EXPECT_EQ(scratch().raw("SELECT version FROM banyan_schema"), std::to_string(current));
}

// The text and integer queries behind counts, id lists, the relay's routing and the
// security tables read every row and column of the driver's result (MySQL's text
// protocol, SQLite's columns) the same way, NULL included.
TEST_P(SchemaTest, TextAndIntegerQueriesReadEveryRowAndColumn) {
  scratch().raw("CREATE TABLE int_probe (a BIGINT, b BIGINT)");
  scratch().raw(
      "INSERT INTO int_probe VALUES (1, 10), (2, NULL), (-9223372036854775807, "
      "9223372036854775807)");
  db().transact([&](store::UnitOfWork& uow) {
    auto& tx = store::Session(uow).tx();
    island::SqlFragment pairs;
    pairs.text("SELECT a, b FROM int_probe WHERE a <> ")
        .param(store::detail::int_param(0))
        .text(" ORDER BY a");
    EXPECT_EQ(island::query_ints(tx, pairs, 2),
              (std::vector<std::int64_t>{-9223372036854775807, 9223372036854775807, 1, 10, 2, 0}));
    island::SqlFragment none;
    none.text("SELECT a FROM int_probe WHERE a = ").param(store::detail::int_param(42));
    EXPECT_TRUE(island::query_ints(tx, none, 1).empty());
    EXPECT_EQ(island::query_int(tx, none), 0);
    island::SqlFragment ids;
    ids.text("SELECT a FROM int_probe WHERE b IS NOT NULL AND a > 0");
    EXPECT_EQ(island::query_ids(tx, ids), std::vector<std::uint64_t>{1});
    island::SqlFragment texts;
    texts.text("SELECT ").param(store::detail::text_param("it's \xc3\xa9\"\\")).text(", NULL, 42");
    const auto cells = island::query_text(tx, texts, 3);
    ASSERT_EQ(cells.size(), 3u);
    EXPECT_FALSE(cells[0].is_null);
    EXPECT_EQ(cells[0].text, "it's \xc3\xa9\"\\");
    EXPECT_TRUE(cells[1].is_null);
    EXPECT_EQ(cells[2].text, "42");
    island::SqlFragment bad;
    bad.text("SELECT nothing FROM int_probe");
    EXPECT_THROW(island::query_ints(tx, bad, 1), Error);
  });
}

TEST(DatabaseOpen, RejectsMalformedUrlsAndUnreachableServers) {
  EXPECT_THROW(store::Database::open("oracle://x"), ValidationError);
  store::DatabaseOptions quiet;
  quiet.pool.acquire_timeout = std::chrono::milliseconds(500);
  // Port 1 on loopback: nothing listens there.
  EXPECT_THROW(store::Database::open("mysql://root@127.0.0.1:1/nothing", quiet), Unavailable);
  EXPECT_THROW(store::Database::open("sqlite:///nonexistent-dir/x/y.db", quiet), Unavailable);
}

}  // namespace
}  // namespace banyan::test
