// Schema versions: created on first open, migrated forward, newer refused.
#include "store/schema.hpp"

#include "store/database_state.hpp"
#include "store/odb/island.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

#include "store_fixture.hpp"

namespace banyan::test {
namespace {

class SchemaTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(SchemaTest);

TEST_P(SchemaTest, ANewDatabaseGetsTheCurrentSchemaVersion) {
  EXPECT_EQ(db().schema_version(), store::Database::current_schema_version());
  EXPECT_EQ(scratch().raw("SELECT version FROM banyan_schema"),
            std::to_string(store::Database::current_schema_version()));
}

TEST_P(SchemaTest, ReopeningADatabaseKeepsItsData) {
  db().transact([&](store::UnitOfWork& uow) { db().contacts().create(uow, contact("A", "B")); });
  auto again = scratch().open();
  again->transact([&](store::UnitOfWork& uow) { EXPECT_EQ(again->contacts().count(uow), 1u); });
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
  db().transact([&](store::UnitOfWork& uow) { db().contacts().create(uow, contact("A", "B")); });
  // The database on disk is at the current version; a newer library brings a migration.
  auto& migrations = store::detail::schema_migrations();
  const int next = store::Database::current_schema_version() + 1;
  migrations.push_back({next, [](island::Transaction& tx, island::Backend) {
                          island::execute(tx, "CREATE TABLE migration_probe (id INTEGER)");
                          island::execute(tx, "INSERT INTO migration_probe VALUES (7)");
                        }});
  struct Restore {
    ~Restore() { store::detail::schema_migrations().pop_back(); }
  } restore;

  store::DatabaseOptions no_migrate;
  no_migrate.migrate = false;
  EXPECT_THROW(scratch().open(no_migrate), Unavailable) << "migrate=false refuses an old schema";

  auto upgraded = scratch().open();
  EXPECT_EQ(upgraded->schema_version(), next);
  EXPECT_EQ(scratch().raw("SELECT id FROM migration_probe"), "7");
  EXPECT_EQ(scratch().raw("SELECT version FROM banyan_schema"), std::to_string(next));
  upgraded->transact(
      [&](store::UnitOfWork& uow) { EXPECT_EQ(upgraded->contacts().count(uow), 1u); });
}

TEST_P(SchemaTest, AFailedMigrationLeavesTheVersionUnchanged) {
  auto& migrations = store::detail::schema_migrations();
  const int current = store::Database::current_schema_version();
  migrations.push_back({current + 1, [](island::Transaction& tx, island::Backend) {
                          island::execute(tx, "UPDATE contacts SET last_name = 'x'");
                          island::execute(tx, "THIS IS NOT SQL");
                        }});
  struct Restore {
    ~Restore() { store::detail::schema_migrations().pop_back(); }
  } restore;
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
  quiet.log = [](std::string_view) {};
  quiet.pool.acquire_timeout = std::chrono::milliseconds(500);
  // Port 1 on loopback: nothing listens there.
  EXPECT_THROW(store::Database::open("mysql://root@127.0.0.1:1/nothing", quiet), Unavailable);
  EXPECT_THROW(store::Database::open("sqlite:///nonexistent-dir/x/y.db", quiet), Unavailable);
}

}  // namespace
}  // namespace banyan::test
