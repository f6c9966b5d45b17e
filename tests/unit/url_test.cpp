#include "store/url.hpp"

#include <gtest/gtest.h>

#include "banyan/errors.hpp"

namespace banyan::store::detail {
namespace {

TEST(DatabaseUrl, ParsesSqliteAbsoluteAndRelativePaths) {
  EXPECT_EQ(parse_database_url("sqlite:///var/lib/crm.db").sqlite_path, "/var/lib/crm.db");
  EXPECT_EQ(parse_database_url("sqlite://crm.db").sqlite_path, "crm.db");
  EXPECT_EQ(parse_database_url("sqlite::memory:").sqlite_path, ":memory:");
}

TEST(DatabaseUrl, ParsesMysqlWithCredentialsPortAndSocket) {
  auto spec =
      parse_database_url("mysql://crm:p%40ss%3Aword@db.local:3307/sales?socket=/run/m.sock");
  EXPECT_EQ(spec.backend, island::Backend::kMysql);
  EXPECT_EQ(spec.user, "crm");
  EXPECT_EQ(spec.password, "p@ss:word");
  EXPECT_EQ(spec.host, "db.local");
  EXPECT_EQ(spec.port, 3307u);
  EXPECT_EQ(spec.database, "sales");
  EXPECT_EQ(spec.socket, "/run/m.sock");
  EXPECT_EQ(spec.describe.find("p@ss"), std::string::npos) << "no password in messages";
}

TEST(DatabaseUrl, MysqlWaitsAreBoundedByDefaultAndByParameter) {
  const auto defaults = parse_database_url("mysql://h/db");
  EXPECT_EQ(defaults.connect_timeout, 5u);
  EXPECT_EQ(defaults.read_timeout, 30u);
  EXPECT_EQ(defaults.write_timeout, 30u);
  const auto given =
      parse_database_url("mysql://h/db?connect_timeout=2&read_timeout=8&write_timeout=9");
  EXPECT_EQ(given.connect_timeout, 2u);
  EXPECT_EQ(given.read_timeout, 8u);
  EXPECT_EQ(given.write_timeout, 9u);
  for (const char* bad : {"mysql://h/db?read_timeout=0", "mysql://h/db?read_timeout=3601",
                          "mysql://h/db?connect_timeout=", "mysql://h/db?write_timeout=5s"})
    EXPECT_THROW(parse_database_url(bad), ValidationError) << bad;
}

TEST(DatabaseUrl, RejectsMalformedUrlsNamingTheUrlField) {
  for (const char* bad : {"", "postgres://x/y", "sqlite://", "mysql://host", "mysql://h:99999/db",
                          "mysql://h:abc/db", "mysql://h/db?color=blue", "mysql://h/db%"}) {
    try {
      parse_database_url(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "url") << bad;
    }
  }
}

}  // namespace
}  // namespace banyan::store::detail
