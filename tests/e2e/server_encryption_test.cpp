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
    ::setenv("BANYAN_ENCRYPTION_KEYS", ring_.c_str(), 1);
    ServerTest::SetUp();
  }
  // The admin CLI on the scratch database, with `keys` as its key ring (none: no keys).
  CommandResult cli(std::vector<std::string> args, const std::string& keys) {
    if (keys.empty()) {
      ::unsetenv("BANYAN_ENCRYPTION_KEYS");
    } else {
      ::setenv("BANYAN_ENCRYPTION_KEYS", keys.c_str(), 1);
    }
    CommandResult r = ServerTest::cli(std::move(args));
    ::setenv("BANYAN_ENCRYPTION_KEYS", ring_.c_str(), 1);
    return r;
  }
  const std::string ring_ = store::EncryptionKeys::generate_line("srv1");
  void TearDown() override {
    ServerTest::TearDown();
    ::unsetenv("BANYAN_ENCRYPTION_KEYS");
  }
};

TEST_P(ServerEncryptionTest, AStoredEmailIsNotInTheDatabaseButTheApiAnswersWithIt) {
  const json body = {{"first_name", "Hedy"},
                     {"last_name", "Lamarr"},
                     {"email", "hedy.private@example.com"},
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
  EXPECT_FALSE(scratch().columns_holding("Lamarr").empty())
      << "the scan sees what is stored as given";
}

TEST_P(ServerEncryptionTest, FiltersThatNeedPlainValuesAreRefusedWith422) {
  for (const char* target : {"/v1/contacts?email[contains]=example", "/v1/contacts?sort=email",
                             "/v1/leads?phone=%2B1", "/v1/contacts?email[gt]=a"}) {
    auto r = call("GET", target);
    expect_problem(r, 422, "validation");
    EXPECT_NE(r.body.find("encrypted at rest"), std::string::npos) << target << ": " << r.body;
  }
}

TEST_P(ServerEncryptionTest, TheCliMakesKeysNamesTheOneInUseAndRewrapsAfterARotation) {
  auto created =
      call("POST", "/v1/contacts",
           json{{"first_name", "Rot"}, {"last_name", "Ate"}, {"email", "rot@example.com"}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = std::to_string(parsed(created)["id"].get<Id>());
  const std::string stored_email = "SELECT email FROM contacts WHERE id = " + id;
  EXPECT_TRUE(scratch().raw(stored_email).starts_with("enc1:srv1:"));

  const CommandResult made = cli({"encryption", "keygen", "--id", "srv2"}, "");
  ASSERT_EQ(made.status, 0) << made.output;
  ASSERT_TRUE(made.output.starts_with("srv2:")) << made.output;
  const std::string new_line = made.output.substr(0, made.output.find('\n'));
  EXPECT_EQ(store::EncryptionKeys::parse(new_line).current().secret.size(), 32u);

  const std::string rotated = ring_ + "\n" + new_line;
  const CommandResult status = cli({"encryption", "status"}, rotated);
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("key 'srv2'"), std::string::npos) << status.output;
  const CommandResult rewrap = cli({"encryption", "rewrap"}, rotated);
  EXPECT_EQ(rewrap.status, 0) << rewrap.output;
  EXPECT_NE(rewrap.output.find("resealed 1 record(s) with key 'srv2'"), std::string::npos)
      << rewrap.output;
  EXPECT_TRUE(scratch().raw(stored_email).starts_with("enc1:srv2:"));

  // Without its keys the database is refused, saying why.
  const CommandResult bare = cli({"encryption", "status"}, "");
  EXPECT_EQ(bare.status, 1);
  EXPECT_NE(bare.output.find("encrypted at rest"), std::string::npos) << bare.output;
  // The running server, still on the old ring, cannot open what srv2 sealed: 503, not 500.
  expect_problem(call("GET", "/v1/contacts/" + id), 503, "unavailable");
}

BANYAN_ON_BOTH_BACKENDS(ServerEncryptionTest);

}  // namespace
}  // namespace banyan::test
