// The audit trail through banyan-server and the CLI, on both backends: writes carry who
// and from where, refused requests are entries too, history hides what the caller may not
// see, records read as they were, and `banyan audit verify` reports a tampered table.
#include <thread>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

class ServerAuditTest : public ServerTest {
 protected:
  json audit(const std::string& query) {
    const auto r = call("GET", "/v1/admin/audit?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return parsed(r)["items"];
  }
};
BANYAN_ON_BOTH_BACKENDS(ServerAuditTest);

TEST_P(ServerAuditTest, WritesAndRefusalsAreEntriesWithWhoAndWhere) {
  const auto made =
      call("POST", "/v1/contacts", {{"first_name", "Ada"}, {"email", "ada@example.com"}});
  ASSERT_EQ(made.status, 201);
  const Id id = parsed(made)["id"];
  const std::string reader = key_for("reader@example.com", {"read_only"});
  const auto refused = call("DELETE", "/v1/contacts/" + std::to_string(id), nullptr,
                            {{"authorization", "Bearer " + reader}});
  ASSERT_EQ(refused.status, 403);

  const json entries = audit("object_type=contact&object_id=" + std::to_string(id));
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[0]["action"], "created");
  EXPECT_EQ(entries[0]["actor"], "admin@example.com");
  EXPECT_EQ(entries[0]["origin"], "127.0.0.1");
  EXPECT_EQ(entries[0]["changes"]["first_name"], json::array({nullptr, "Ada"}));
  EXPECT_EQ(entries[1]["action"], "denied");
  EXPECT_EQ(entries[1]["actor"], "reader@example.com");
  EXPECT_NE(entries[1]["detail"].get<std::string>().find("DELETE /v1/contacts/"),
            std::string::npos);
  EXPECT_EQ(call("GET", "/v1/contacts/" + std::to_string(id)).status, 200)
      << "the refusal changed nothing";

  // Only administrators read the trail.
  const auto denied =
      call("GET", "/v1/admin/audit", nullptr, {{"authorization", "Bearer " + reader}});
  expect_problem(denied, 403, "permission_denied");
}

TEST_P(ServerAuditTest, HistoryMasksWhatTheCallerMayNotSeeAndAsOfReadsThePast) {
  const auto made =
      call("POST", "/v1/contacts", {{"first_name", "Ada"}, {"email", "ada@example.com"}});
  const json created = parsed(made);
  const std::string path = "/v1/contacts/" + std::to_string(created["id"].get<Id>());
  std::this_thread::sleep_for(5ms);
  const auto changed =
      call("PATCH", path, {{"email", "countess@example.com"}, {"last_name", "Lovelace"}},
           {{"if-match", "\"" + std::to_string(created["version"].get<int>()) + "\""}});
  ASSERT_EQ(changed.status, 200) << changed.body;

  const json full = parsed(call("GET", path + "/history?field=email"))["items"];
  ASSERT_EQ(full.size(), 2u);
  EXPECT_EQ(full[1]["before"], "ada@example.com");
  EXPECT_EQ(full[1]["after"], "countess@example.com");
  const std::string reader = key_for("reader@example.com", {"read_only"});
  const json masked = parsed(call("GET", path + "/history?field=email", nullptr,
                                  {{"authorization", "Bearer " + reader}}))["items"];
  ASSERT_EQ(masked.size(), 2u);
  EXPECT_TRUE(masked[1]["before"].is_null() && masked[1]["after"].is_null()) << masked.dump();

  const json then =
      parsed(call("GET", path + "?as_of=" + created["updated_at"].get<std::string>()));
  EXPECT_EQ(then, created);
  const json then_masked =
      parsed(call("GET", path + "?as_of=" + created["updated_at"].get<std::string>(), nullptr,
                  {{"authorization", "Bearer " + reader}}));
  EXPECT_TRUE(then_masked["email"].is_null()) << then_masked.dump();
  EXPECT_EQ(then_masked["first_name"], "Ada");
}

TEST_P(ServerAuditTest, TheCliVerifiesTheTrailAndReportsATamperedTable) {
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(call("POST", "/v1/tags", {{"name", "t" + std::to_string(i)}}).status, 201);
  auto ok = cli({"audit", "verify"});
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("intact"), std::string::npos) << ok.output;
  const auto listed = cli({"audit", "list", "--object", "tag:1"});
  EXPECT_EQ(listed.status, 0) << listed.output;
  EXPECT_NE(listed.output.find("created tag:1 by admin@example.com from 127.0.0.1"),
            std::string::npos)
      << listed.output;

  scratch().raw(
      "UPDATE audit_log SET changes = '{\"name\":[null,\"forged\"]}' WHERE object_type = 'tag' AND "
      "object_id = 2");
  const auto tampered = cli({"audit", "verify"});
  EXPECT_EQ(tampered.status, 1) << tampered.output;
  EXPECT_NE(tampered.output.find("TAMPERED"), std::string::npos) << tampered.output;
  const auto api = parsed(call("GET", "/v1/admin/audit/verify"));
  EXPECT_FALSE(api["intact"].get<bool>());
  EXPECT_TRUE(api["first_bad"].is_number());
}

}  // namespace
}  // namespace banyan::test
