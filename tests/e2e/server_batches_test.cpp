// Batches over HTTP on both backends with "atomic": false: each item applied on its own
// and answered 207 with a result per item, a failed item leaving nothing behind.
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

class ServerBatchesTest : public ServerWritesTest {
 protected:
  // The last names of every contact, in id order.
  std::vector<std::string> last_names() {
    std::vector<std::string> out;
    const json page = ok("GET", "/v1/contacts?limit=200&fields=last_name");
    for (const auto& c : page["items"]) out.push_back(c["last_name"].get<std::string>());
    return out;
  }
  static std::vector<std::string> statuses(const json& answer) {
    std::vector<std::string> out;
    for (const auto& item : answer["items"])
      out.push_back(item["outcome"].get<std::string>() + " " + item["status"].dump() +
                    (item.contains("error") ? " " + item["error"].value("field", std::string())
                                            : std::string()));
    return out;
  }
};

using Lines = std::vector<std::string>;

TEST_P(ServerBatchesTest, ANonAtomicBatchCreatesEveryGoodItemAndReportsEachBadOne) {
  ok("POST", "/v1/contacts", {{"last_name", "Existing"}, {"external_id", "c-1"}});
  const Traces before = traces();
  const json answer =
      ok("POST", "/v1/contacts/batch",
         {{"atomic", false},
          {"items",
           {{{"last_name", "First"}},
            {{"last_name", "Bad email"}, {"email", "not an email"}},
            "not an object",
            {{"last_name", "Taken"}, {"external_id", "c-1"}},
            {{"last_name", "Missing tag"}, {"tags", {999999}}},
            {{"last_name", "Missing company"}, {"company", {{"external_id", "no"}}}},
            {{"last_name", "Last"}, {"shoe_size", 42}},
            {{"last_name", "Really last"}}}}},
         207);
  EXPECT_EQ(statuses(answer), (Lines{"created 201", "error 422 email", "error 422 ",
                                     "error 409 external_id", "error 422 tags[0]",
                                     "error 422 company", "error 422 shoe_size", "created 201"}));
  EXPECT_EQ(answer["created"], 2);
  EXPECT_EQ(answer["failed"], 6);
  EXPECT_EQ(answer["items"][0]["index"], 0);
  EXPECT_EQ(answer["items"][7]["index"], 7);
  EXPECT_EQ(answer["items"][7]["record"]["last_name"], "Really last");
  EXPECT_EQ(answer["items"][1]["error"]["code"], "validation");
  // The item whose tag link failed after its contact was made left neither behind.
  EXPECT_EQ(last_names(), (Lines{"Existing", "First", "Really last"}));
  const Traces after = traces();
  EXPECT_EQ(std::stoll(after.events) - std::stoll(before.events), 2) << "one event per success";
  EXPECT_EQ(std::stoll(after.audit) - std::stoll(before.audit), 2) << "one entry per success";
}

TEST_P(ServerBatchesTest, ANonAtomicUpsertReportsCreatedUpdatedUnchangedAndFailedItems) {
  ok("POST", "/v1/contacts", {{"last_name", "Kept"}, {"external_id", "k-1"}});
  ok("POST", "/v1/contacts", {{"last_name", "Old"}, {"external_id", "k-2"}});
  const json answer = ok("POST", "/v1/contacts/upsert",
                         {{"atomic", false},
                          {"items",
                           {{{"external_id", "k-1"}, {"last_name", "Kept"}},
                            {{"external_id", "k-2"}, {"last_name", "New"}},
                            {{"external_id", "k-3"}, {"last_name", "Made"}},
                            {{"last_name", "No key"}},
                            {{"external_id", "k-4"}, {"email", "bad"}, {"last_name", "X"}}}}},
                         207);
  EXPECT_EQ(statuses(answer), (Lines{"unchanged 200", "updated 200", "created 201",
                                     "error 422 external_id", "error 422 email"}));
  EXPECT_EQ(answer["unchanged"], 1);
  EXPECT_EQ(answer["updated"], 1);
  EXPECT_EQ(answer["created"], 1);
  EXPECT_EQ(answer["failed"], 2);
  EXPECT_EQ(answer["items"][1]["record"]["last_name"], "New");
  EXPECT_EQ(last_names(), (Lines{"Kept", "New", "Made"}));
}

TEST_P(ServerBatchesTest, AtomicStaysTheDefaultAndMustBeABoolean) {
  const json items = {{{"last_name", "A"}}, {{"last_name", "B"}, {"email", "bad"}}};
  refused("POST", "/v1/contacts/batch", {{"items", items}}, 422, "validation", "items[1].email");
  refused("POST", "/v1/contacts/batch", {{"items", items}, {"atomic", true}}, 422, "validation",
          "items[1].email");
  refused("POST", "/v1/contacts/upsert",
          {{"items", {{{"external_id", "u-1"}, {"last_name", "A"}}, {{"last_name", "B"}}}}}, 422,
          "validation", "items[1].external_id");
  refused("POST", "/v1/contacts/batch", {{"items", items}, {"atomic", "no"}}, 422, "validation",
          "atomic");
  refused("POST", "/v1/contacts/batch", {{"items", items}, {"atomicity", false}}, 422, "validation",
          "atomicity");
  refused("POST", "/v1/contacts/upsert", {{"external_id", "u-2"}, {"atomic", false}}, 422,
          "validation", "atomic");
  EXPECT_TRUE(last_names().empty());
}

TEST_P(ServerBatchesTest, AnItemRefusedForPermissionIsA403AmongTheResultsAndAnAuditEntry) {
  const std::string manager = key_for("manager@example.com", {"manager"});
  const json answer = ok("POST", "/v1/contacts/batch",
                         {{"atomic", false},
                          {"items",
                           {{{"last_name", "Plain"}},
                            {{"last_name", "Migrated"}, {"created_at", "2019-01-01T00:00:00Z"}}}}},
                         207, as(manager));
  EXPECT_EQ(statuses(answer), (Lines{"created 201", "error 403 created_at"}));
  EXPECT_EQ(answer["items"][1]["error"]["code"], "permission_denied");
  EXPECT_EQ(last_names(), (Lines{"Plain"}));
  EXPECT_EQ(scratch().raw("SELECT COUNT(*) FROM audit_log WHERE action = 'denied' AND detail LIKE "
                          "'%contacts/batch%created_at%'"),
            "1");
}

TEST_P(ServerBatchesTest, AReplayedNonAtomicBatchAnswersTheSameAndWritesNothingMore) {
  const json body = {{"atomic", false},
                     {"items", {{{"last_name", "Once"}}, {{"last_name", "Bad"}, {"email", "x"}}}}};
  const std::vector<std::pair<std::string, std::string>> key = {{"idempotency-key", "batch-1"}};
  const auto first = call("POST", "/v1/contacts/batch", body, key);
  ASSERT_EQ(first.status, 207) << first.body;
  const Traces before = traces();
  const auto again = call("POST", "/v1/contacts/batch", body, key);
  EXPECT_EQ(again.status, 207);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(traces(), before);
  EXPECT_EQ(last_names(), (Lines{"Once"}));
}

BANYAN_ON_BOTH_BACKENDS(ServerBatchesTest);

}  // namespace
}  // namespace banyan::test
