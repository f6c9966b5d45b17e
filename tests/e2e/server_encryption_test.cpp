// banyan-server with encryption at rest (the key ring from the environment, as an
// operator would give it): what the API answers, and what the database files hold.
#include <gtest/gtest.h>

#include <cstdlib>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

class ServerEncryptionTest : public ServerTest {
 protected:
  void SetUp() override {
    // Inherited by the server process; the fixture's own Database reads it too.
    ::setenv("BANYAN_ENCRYPTION_KEYS", store::EncryptionKeys::generate_line("srv1").c_str(), 1);
    ServerTest::SetUp();
  }
  void TearDown() override {
    ServerTest::TearDown();
    ::unsetenv("BANYAN_ENCRYPTION_KEYS");
  }
};

TEST_P(ServerEncryptionTest, AStoredEmailIsNotInTheDatabaseButTheApiAnswersWithIt) {
  const json body = {{"first_name", "Hedy"}, {"last_name", "Lamarr"}, {"email", "hedy.private@example.com"},
                     {"phone", "+1 310 555 0187"}};
  auto created = call("POST", "/v1/contacts", body, {{"Idempotency-Key", "hedy-1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(parsed(created)["id"].get<Id>());
  // A retry is answered from the stored (sealed) response, the same.
  auto again = call("POST", "/v1/contacts", body, {{"Idempotency-Key", "hedy-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, created.body);
  auto got = parsed(call("GET", "/v1/contacts/" + id));
  EXPECT_EQ(got["email"], "hedy.private@example.com");
  EXPECT_EQ(got["phone"], "+1 310 555 0187");
  auto found = parsed(call("GET", "/v1/contacts?email=HEDY.private@example.com"))["items"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["id"].get<Id>(), parsed(created)["id"].get<Id>());
  auto history = parsed(call("GET", "/v1/contacts/" + id + "/history?field=email"));
  EXPECT_NE(history.dump().find("hedy.private@example.com"), std::string::npos) << history.dump();

  EXPECT_EQ(scratch().columns_holding("hedy.private"), std::vector<std::string>{});
  EXPECT_EQ(scratch().columns_holding("555 0187"), std::vector<std::string>{});
  EXPECT_FALSE(scratch().files_hold("hedy.private"));
  EXPECT_FALSE(scratch().columns_holding("Lamarr").empty()) << "the scan sees what is stored as given";
}

TEST_P(ServerEncryptionTest, FiltersThatNeedPlainValuesAreRefusedWith422) {
  for (const char* target : {"/v1/contacts?email[contains]=example", "/v1/contacts?sort=email",
                             "/v1/leads?phone=%2B1", "/v1/contacts?email[gt]=a"}) {
    auto r = call("GET", target);
    expect_problem(r, 422, "validation");
    EXPECT_NE(r.body.find("encrypted at rest"), std::string::npos) << target << ": " << r.body;
  }
}

BANYAN_ON_BOTH_BACKENDS(ServerEncryptionTest);

}  // namespace
}  // namespace banyan::test
