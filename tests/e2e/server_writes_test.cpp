// Writes over HTTP that say what they change, on both backends: PATCH as JSON Merge Patch,
// upserts that sync and report created, updated or unchanged, every custom field type in
// its natural JSON form, required fields added to types that already hold records (and
// their backfill), and deal stages whose kind sets the deal's status. Each refusal is a
// 4xx that changes nothing.
#include <thread>

#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

BANYAN_ON_BOTH_BACKENDS(ServerWritesTest);

// The first failure of the issue: a patch of one custom value lost the other four.
TEST_P(ServerWritesTest, APatchOfOneCustomValueKeepsTheOthers) {
  define({{"object_type", "contact"}, {"name", "city"}, {"type", "text"}});
  define({{"object_type", "contact"},
          {"name", "tier"},
          {"type", "enum"},
          {"options", {"bronze", "gold"}}});
  define({{"object_type", "contact"}, {"name", "score"}, {"type", "number"}});
  define({{"object_type", "contact"}, {"name", "since"}, {"type", "date"}});
  define({{"object_type", "contact"}, {"name", "vip"}, {"type", "bool"}});
  const json five = {
      {"city", "London"}, {"tier", "gold"}, {"score", 90}, {"since", "1833-06-05"}, {"vip", true}};
  const json c = ok("POST", "/v1/contacts",
                    {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"custom", five}});
  const std::string path = "/v1/contacts/" + c["id"].dump();
  json expected = five;
  expected["city"] = "Bern";
  const json patched = ok("PATCH", path, {{"custom", {{"city", "Bern"}}}});
  EXPECT_EQ(patched["custom"], expected);
  EXPECT_EQ(patched["version"], 2);
  EXPECT_EQ(ok("GET", path)["custom"], expected);
  // null clears one member; application/merge-patch+json is the same.
  expected.erase("score");
  EXPECT_EQ(ok("PATCH", path, {{"custom", {{"score", nullptr}}}}, 200,
               {{"Content-Type", "application/merge-patch+json"}})["custom"],
            expected);
  // A standard field the same way: null clears it, the rest stay.
  EXPECT_EQ(ok("PATCH", path, {{"title", "Countess"}})["custom"], expected);
  const json cleared = ok("PATCH", path, {{"title", nullptr}});
  EXPECT_TRUE(cleared["title"].is_null());
  EXPECT_EQ(cleared["last_name"], "Lovelace");
  // A null "custom" clears them all.
  EXPECT_EQ(ok("PATCH", path, {{"custom", nullptr}})["custom"], json::object());
}

TEST_P(ServerWritesTest, APatchThatChangesNothingAnswersTheCurrentVersionAndWritesNothing) {
  const json c = ok("POST", "/v1/contacts",
                    {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"title", "Countess"}});
  const std::string path = "/v1/contacts/" + c["id"].dump();
  const Traces before = traces();
  const auto r = call("PATCH", path, {{"title", "Countess"}, {"last_name", "Lovelace"}},
                      {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r), c);
  EXPECT_EQ(r.header("etag"), "\"1\"");
  EXPECT_EQ(ok("PATCH", path, json::object()), c);
  EXPECT_EQ(traces(), before) << "no version, no event, no audit entry";
  const json history = ok("GET", path + "/history");
  for (const auto& change : history["items"])
    EXPECT_EQ(change["action"], "created") << "only the creation";
}

TEST_P(ServerWritesTest, APatchIsRefusedWholeNamingTheField) {
  const Pipe p = pipeline();
  const json deal = ok("POST", "/v1/deals",
                       {{"title", "Fleet"},
                        {"pipeline_id", p.pipeline["id"]},
                        {"stage_id", p.qualify["id"]},
                        {"amount", {{"minor_units", 1200000}, {"currency", "EUR"}}}});
  const std::string path = "/v1/deals/" + deal["id"].dump();
  // Merge semantics inside amount: the member given changes, the other stays.
  EXPECT_EQ(ok("PATCH", path, {{"amount", {{"currency", "CHF"}}}})["amount"],
            (json{{"minor_units", 1200000}, {"currency", "CHF"}}));
  EXPECT_EQ(ok("PATCH", path, {{"amount", {{"minor_units", 5}}}})["amount"],
            (json{{"minor_units", 5}, {"currency", "CHF"}}));
  refused("PATCH", path, {{"title", "Renamed"}, {"colour", "red"}}, 422, "validation", "colour");
  refused("PATCH", path, {{"title", "Renamed"}, {"created_at", "2020-01-01T00:00:00Z"}}, 422,
          "validation", "created_at");
  refused("PATCH", path, {{"title", nullptr}}, 422, "validation", "title");
  refused("PATCH", path, {{"amount", {{"minor_units", -1}}}}, 422, "validation", "amount");
  refused("PATCH", path, {{"amount", nullptr}}, 422, "validation", "amount");
  refused("PATCH", path, {{"amount", {{"cents", 1}}}}, 422, "validation", "amount.cents");
  refused("PATCH", path, {{"custom", {{"nope", nullptr}}}}, 422, "validation", "custom.nope");
  refused("PATCH", path, {{"title", "Stale"}}, 412, "stale_version", "version",
          {{"If-Match", "\"1\""}});
  refused("PATCH", path, {{"title", "X"}}, 415, "unsupported_media_type", "",
          {{"Content-Type", "text/plain"}});
}

// Neighbours of the no-op patch: a custom field definition or a role patched with what it
// holds keeps its version and writes no audit entry.
TEST_P(ServerWritesTest, DefinitionsAndRolesPatchedWithWhatTheyHoldWriteNothing) {
  const json tier = define(
      {{"object_type", "contact"}, {"name", "tier"}, {"type", "enum"}, {"options", {"a", "b"}}});
  const std::string path = "/v1/custom-fields/" + tier["id"].dump();
  const Traces before = traces();
  EXPECT_EQ(ok("PATCH", path, {{"label", "tier"}, {"options", {"a", "b"}}})["version"],
            tier["version"]);
  EXPECT_EQ(ok("PATCH", path, {{"label", "Tier"}})["version"], tier["version"].get<int>() + 1);
  ok("POST", "/v1/roles",
     {{"name", "exporter"},
      {"grants", {{{"type", "deal"}, {"action", "export"}, {"scope", "all"}}}}});
  const Traces made = traces();
  ok("PATCH", "/v1/roles/exporter",
     {{"grants", {{{"type", "deal"}, {"action", "export"}, {"scope", "all"}}}}});
  EXPECT_EQ(traces(), made) << "no audit entry for a role left as it was";
  EXPECT_NE(made, before);
}

// The second failure: an upsert of a few fields blanked the others, and an identical
// re-import bumped every version, wrote an event and an audit entry each.
TEST_P(ServerWritesTest, AnUpsertChangesOnlyWhatItNamesAndSaysWhatItDid) {
  define({{"object_type", "contact"},
          {"name", "tier"},
          {"type", "enum"},
          {"options", {"bronze", "gold"}},
          {"default_value", "bronze"}});
  auto r = call("POST", "/v1/contacts/upsert",
                {{"external_id", "legacy-1"},
                 {"first_name", "Leg"},
                 {"last_name", "Acy"},
                 {"email", "leg@example.com"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json made = parsed(r);
  EXPECT_EQ(made["outcome"], "created");
  EXPECT_EQ(r.header("location"), "/v1/contacts/" + made["record"]["id"].dump());
  EXPECT_EQ(made["record"]["custom"]["tier"], "bronze");

  const Traces before = traces();
  r = call("POST", "/v1/contacts/upsert", {{"external_id", "legacy-1"}, {"first_name", "Leg"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r), (json{{"outcome", "unchanged"}, {"record", made["record"]}}))
      << "last_name, email and the defaulted tier stay";
  EXPECT_EQ(traces(), before);

  r = call("POST", "/v1/contacts/upsert", {{"external_id", "legacy-1"}, {"first_name", "Lego"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json changed = parsed(r);
  EXPECT_EQ(changed["outcome"], "updated");
  EXPECT_EQ(changed["record"]["first_name"], "Lego");
  EXPECT_EQ(changed["record"]["last_name"], "Acy");
  EXPECT_EQ(changed["record"]["email"], "leg@example.com");
  EXPECT_EQ(changed["record"]["custom"]["tier"], "bronze");
  EXPECT_EQ(changed["record"]["version"], 2);
  const json history =
      ok("GET", "/v1/contacts/" + made["record"]["id"].dump() + "/history")["items"];
  ASSERT_EQ(history.back()["field"], "first_name") << history.dump();
  EXPECT_EQ(history.back()["before"], "Leg");

  // A batch reports each item, and counts them.
  const json batch = ok("POST", "/v1/contacts/upsert",
                        {{"items",
                          {{{"external_id", "legacy-1"}, {"first_name", "Lego"}},
                           {{"external_id", "legacy-2"}, {"first_name", "Two"}},
                           {{"external_id", "legacy-1"}, {"title", "Twice"}}}}},
                        200);
  EXPECT_EQ(batch["items"][0]["outcome"], "unchanged");
  EXPECT_EQ(batch["items"][1]["outcome"], "created");
  EXPECT_EQ(batch["items"][2]["outcome"], "updated");
  EXPECT_EQ((std::vector<int>{batch["created"], batch["updated"], batch["unchanged"]}),
            (std::vector<int>{1, 1, 1}));
  // Refused whole, naming the item.
  refused("POST", "/v1/contacts/upsert",
          {{"items",
            {{{"external_id", "legacy-3"}, {"first_name", "Three"}}, {{"first_name", "No key"}}}}},
          422, "validation", "items[1].external_id");
  refused("POST", "/v1/contacts/upsert",
          {{"items",
            {{{"external_id", "legacy-1"}, {"first_name", "Changed"}},
             {{"external_id", "legacy-4"}, {"first_name", "Four"}, {"email", "bad"}}}}},
          422, "validation", "items[1].email");
  refused("POST", "/v1/contacts/upsert", {{"first_name", "No key"}}, 422, "validation",
          "external_id");
}

// The acceptance line: an identical second import of 10,000 records leaves every version,
// the outbox and the audit trail as they were.
TEST_P(ServerWritesTest, AnIdenticalSecondImportOfTenThousandContactsChangesNothing) {
  define({{"object_type", "contact"},
          {"name", "tier"},
          {"type", "enum"},
          {"options", {"bronze", "gold"}},
          {"default_value", "bronze"}});
  auto import = [&](const char* expected_outcome) {
    int counted = 0;
    for (int batch = 0; batch < 100; ++batch) {
      json items = json::array();
      for (int i = 0; i < 100; ++i) {
        const int n = batch * 100 + i;
        items.push_back({{"external_id", "legacy-" + std::to_string(n)},
                         {"first_name", "First" + std::to_string(n)},
                         {"last_name", "Last" + std::to_string(n)},
                         {"email", "person" + std::to_string(n) + "@example.com"}});
      }
      const auto r = call("POST", "/v1/contacts/upsert", {{"items", items}});
      ASSERT_EQ(r.status, 200) << r.body;
      counted += parsed(r)[expected_outcome].get<int>();
    }
    EXPECT_EQ(counted, 10000) << expected_outcome;
  };
  import("created");
  EXPECT_EQ(contacts_in_db(), 10000);
  const Traces first = traces();
  const std::string updated = scratch().raw("SELECT MAX(updated_at) FROM contacts");
  import("unchanged");
  EXPECT_EQ(traces(), first) << "every version, the outbox and the audit trail as they were";
  EXPECT_EQ(scratch().raw("SELECT MAX(updated_at) FROM contacts"), updated);
  EXPECT_EQ(scratch().raw("SELECT COUNT(*) FROM contacts WHERE version <> 1"), "0");
}

// The fourth failure: a required field defined later blocked every edit.
TEST_P(ServerWritesTest, ARequiredFieldAddedLaterLeavesExistingRecordsEditableAndIsBackfilled) {
  std::vector<json> old;
  for (int i = 0; i < 7; ++i)
    old.push_back(
        ok("POST", "/v1/contacts", {{"first_name", "Old"}, {"last_name", std::to_string(i)}}));
  const json region = define(
      {{"object_type", "contact"}, {"name", "region"}, {"type", "text"}, {"required", true}});
  EXPECT_EQ(region["records_without_value"], 7);
  const std::string path = "/v1/contacts/" + old[0]["id"].dump();
  EXPECT_EQ(ok("PATCH", path, {{"title", "Actress"}})["title"], "Actress");
  refused("PATCH", path, {{"custom", {{"region", nullptr}}}}, 422, "validation", "custom.region");
  refused("PATCH", path, {{"custom", nullptr}}, 422, "validation", "custom.region");
  refused("POST", "/v1/contacts", {{"first_name", "New"}}, 422, "validation", "custom.region");
  EXPECT_EQ(ok("POST", "/v1/contacts",
               {{"first_name", "New"}, {"custom", {{"region", "EMEA"}}}})["custom"]["region"],
            "EMEA");
  const std::string field = "/v1/custom-fields/" + region["id"].dump();
  EXPECT_EQ(ok("GET", field)["records_without_value"], 7);

  // The backfill answers at once and fills in batches; each record an ordinary update.
  const Traces before = traces();
  refused("POST", field + "/backfill", {{"value", 12}}, 422, "validation", "backfill");
  const json queued = ok("POST", field + "/backfill", {{"value", "EMEA"}}, 202);
  EXPECT_EQ(queued["field_id"], region["id"]);
  json state;
  for (int i = 0; i < 200; ++i) {
    state = ok("GET", field);
    if (state["backfill"]["state"] == "done") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(state["backfill"]["state"], "done") << state.dump();
  EXPECT_EQ(state["backfill"]["filled"], 7);
  EXPECT_EQ(state["records_without_value"], 0);
  for (const auto& c : old) {
    const json now = ok("GET", "/v1/contacts/" + c["id"].dump());
    EXPECT_EQ(now["custom"]["region"], "EMEA");
    EXPECT_EQ(now["version"], c["id"] == old[0]["id"] ? 3 : 2);
  }
  EXPECT_EQ(std::stoll(traces().events) - std::stoll(before.events), 7) << "an event each";
  EXPECT_EQ(std::stoll(traces().audit) - std::stoll(before.audit), 7) << "an audit entry each";

  // A definition made with a backfill fills the records that existed before it.
  const json tier = ok("POST", "/v1/custom-fields",
                       {{"object_type", "contact"},
                        {"name", "tier"},
                        {"type", "enum"},
                        {"options", {"a", "b"}},
                        {"required", true},
                        {"backfill", "a"}});
  EXPECT_EQ(tier["records_without_value"], 8);
  EXPECT_EQ(tier["backfill"]["state"], "queued");
  for (int i = 0;
       i < 200 && ok("GET", "/v1/custom-fields/" + tier["id"].dump())["records_without_value"] != 0;
       ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ok("GET", "/v1/custom-fields/" + tier["id"].dump())["records_without_value"], 0);
  refused("POST", "/v1/custom-fields",
          {{"object_type", "contact"},
           {"name", "size"},
           {"type", "enum"},
           {"options", {"s"}},
           {"backfill", "xl"}},
          422, "validation", "backfill");
  EXPECT_EQ(ok("GET", "/v1/custom-fields?object_type=contact")["items"].size(), 2u)
      << "the refused one is not defined";
}

// The fifth failure: a move to "Closed won" left the deal open, and it moved back freely.
TEST_P(ServerWritesTest, AStageOfKindWonOrLostClosesTheDealAndOnlyAReopenTakesItBack) {
  const Pipe p = pipeline();
  const json deal =
      ok("POST", "/v1/deals",
         {{"title", "Fleet"}, {"pipeline_id", p.pipeline["id"]}, {"stage_id", p.qualify["id"]}});
  EXPECT_EQ(deal["status"], "open");
  EXPECT_TRUE(deal["closed_at"].is_null());
  const std::string path = "/v1/deals/" + deal["id"].dump();
  const json won = ok("PATCH", path, {{"stage_id", p.won["id"]}});
  EXPECT_EQ(won["status"], "won");
  EXPECT_FALSE(won["closed_at"].is_null());
  EXPECT_EQ(
      scratch().raw(
          "SELECT COUNT(*) FROM outbox_events WHERE event_type = 'deal.won' AND aggregate_id = " +
          deal["id"].dump()),
      "1");
  // It cannot move back or change status until reopened.
  refused("PATCH", path, {{"stage_id", p.qualify["id"]}}, 422, "validation", "stage_id");
  refused("POST", path + "/stage", {{"stage_id", p.propose["id"]}}, 422, "validation", "stage_id");
  refused("PATCH", path, {{"status", "open"}}, 422, "validation", "status");
  refused("PATCH", path, {{"status", "lost"}}, 422, "validation", "status");
  refused("PATCH", path, {{"closed_at", nullptr}}, 422, "validation", "closed_at");
  const json reopened = ok("POST", path + "/reopen", nullptr, 200);
  EXPECT_EQ(reopened["status"], "open");
  EXPECT_EQ(reopened["stage_id"], p.qualify["id"]) << "back where it was";
  EXPECT_TRUE(reopened["closed_at"].is_null());
  refused("POST", path + "/reopen", json::object(), 409, "conflict", "status");
  // A status moves it to the pipeline's stage of that kind; both must agree.
  const json lost = ok("PATCH", path, {{"status", "lost"}});
  EXPECT_EQ(lost["stage_id"], p.lost["id"]);
  ok("POST", path + "/reopen", {{"stage_id", p.propose["id"]}}, 200);
  refused("PATCH", path, {{"status", "won"}, {"stage_id", p.qualify["id"]}}, 422, "validation",
          "status");
  refused("PATCH", path, {{"closed_at", "2020-01-01T00:00:00Z"}}, 422, "validation", "closed_at");
  refused("POST", "/v1/deals",
          {{"title", "x"},
           {"pipeline_id", p.pipeline["id"]},
           {"stage_id", p.qualify["id"]},
           {"status", "won"}},
          422, "validation", "status");
  // An imported closed deal keeps its close date.
  const json imported = ok("POST", "/v1/deals",
                           {{"title", "Old win"},
                            {"pipeline_id", p.pipeline["id"]},
                            {"stage_id", p.won["id"]},
                            {"closed_at", "2019-02-11T10:00:00+01:00"}});
  EXPECT_EQ(imported["status"], "won");
  EXPECT_EQ(imported["closed_at"], "2019-02-11T09:00:00.000000Z");
  // Stages: a stage holding deals keeps its kind; deals need a complete pipeline.
  refused("PATCH", "/v1/stages/" + p.won["id"].dump(), {{"kind", "open"}}, 409, "conflict", "kind");
  refused("DELETE", "/v1/stages/" + p.lost["id"].dump(), nullptr, 409, "conflict", "id");
  refused("PATCH", "/v1/stages/" + p.propose["id"].dump(), {{"kind", "finished"}}, 422,
          "validation", "kind");
  const json half = ok("POST", "/v1/pipelines", {{"name", "Half"}});
  const json only =
      ok("POST", "/v1/stages", {{"pipeline_id", half["id"]}, {"name", "Only"}, {"position", 1}});
  refused("POST", "/v1/deals",
          {{"title", "x"}, {"pipeline_id", half["id"]}, {"stage_id", only["id"]}}, 422,
          "validation", "pipeline_id");
}

// RFC 9110 conditional requests on a record: If-None-Match on a read (weak comparison,
// "*", lists), If-Match on a patch, an archive and a delete (strong comparison, "*").
TEST_P(ServerWritesTest, ConditionalRequestsCompareEntityTagsAsRfc9110Says) {
  const json c = ok("POST", "/v1/contacts", {{"last_name", "Lovelace"}});
  const std::string path = "/v1/contacts/" + c["id"].dump();
  using Headers = std::vector<std::pair<std::string, std::string>>;
  const auto read = [&](const std::string& target, const std::string& tags) {
    return call("GET", target, nullptr, Headers{{"If-None-Match", tags}});
  };
  for (const char* tags : {"\"1\"", "W/\"1\"", "\"7\", W/\"1\"", "*"}) {
    const auto r = read(path, tags);
    EXPECT_EQ(r.status, 304) << tags;
    EXPECT_EQ(r.body, "") << tags;
    EXPECT_EQ(r.header("etag"), "\"1\"") << tags;
  }
  EXPECT_EQ(read(path + "?fields=last_name", "\"1\"").status, 304);
  const auto changed = read(path, "\"7\", W/\"8\"");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(parsed(changed), c);
  expect_problem(read(path, "W/1"), 400, "bad_request");
  expect_problem(read("/v1/contacts/999999", "*"), 404, "not_found");

  // If-Match: "*" is any version; a weak tag never matches; several versions are refused.
  const auto patch = [&](const std::string& tags, const char* title) {
    return call("PATCH", path, {{"title", title}}, Headers{{"If-Match", tags}});
  };
  EXPECT_EQ(patch("*", "Countess").status, 200);
  refused("PATCH", path, {{"title", "Weak"}}, 412, "stale_version", "version",
          {{"If-Match", "W/\"2\""}});
  refused("PATCH", path, {{"title", "Opaque"}}, 412, "stale_version", "version",
          {{"If-Match", "\"not-a-version\""}});
  refused("PATCH", path, {{"title", "Two"}}, 400, "bad_request", "",
          {{"If-Match", "\"1\", \"2\""}});
  refused("PATCH", path, {{"title", "Junk"}}, 400, "bad_request", "", {{"If-Match", "yesterday"}});
  const auto both = patch("\"2\", W/\"1\"", "Mathematician");
  EXPECT_EQ(both.status, 200) << "the strong tag names the current version";
  EXPECT_EQ(both.header("etag"), "\"3\"");

  // Archive, restore and delete check If-Match too.
  refused("POST", path + "/archive", nullptr, 412, "stale_version", "version",
          {{"If-Match", "\"2\""}});
  EXPECT_EQ(call("POST", path + "/archive", nullptr, Headers{{"If-Match", "\"3\""}}).status, 200);
  refused("DELETE", path, nullptr, 412, "stale_version", "version", {{"If-Match", "\"3\""}});
  EXPECT_EQ(call("DELETE", path, nullptr, Headers{{"If-Match", "\"4\""}}).status, 204);
  expect_problem(call("GET", path), 404, "not_found");
}

}  // namespace
}  // namespace banyan::test
