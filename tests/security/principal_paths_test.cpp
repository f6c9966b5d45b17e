// Every record that leaves the engine goes through the caller's scope and masks, over real
// HTTP on both backends: lead conversion, merge, field history (after a sensitive field is
// renamed or deleted), a user's history, references to hidden records, the teams a record
// may be placed in, admin grants, the export action, /metrics, and the audit entries of
// reads refused for scope.
#include <tuple>

#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

class PrincipalPathsTest : public TeamsServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--rate-auth-failures", "off", "--metrics-token", "scrape-0123456789abcdef"};
  }

  void SetUp() override {
    TeamsServerTest::SetUp();
    if (HasFatalFailure()) return;
    keys["sales_rep"] = key_for("rep@example.com", {"sales_rep"}, {east});
    keys["read_only"] = key_for("reader@example.com", {"read_only"});
    keys["west_rep"] = key_for("westrep@example.com", {"sales_rep"}, {west});
    rep_id = user_id("rep@example.com");
    west_rep_id = user_id("westrep@example.com");
    // A sensitive custom field on contacts and companies.
    for (const char* type : {"contact", "company"})
      ASSERT_EQ(
          call("POST", "/v1/custom-fields",
               {{"object_type", type}, {"name", "secret"}, {"type", "text"}, {"sensitive", true}})
              .status,
          201);
  }

  // A record made by `role` (201 expected), as answered.
  json made(const std::string& role, const std::string& collection, const json& body) {
    const auto r = as(role, "POST", "/v1/" + collection, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? parsed(r) : json::object();
  }
  std::string denials_of(Id user) {
    return scratch().raw("SELECT COUNT(*) FROM audit_log WHERE action = 'denied' AND actor_id = " +
                         std::to_string(user));
  }

  Id rep_id = 0, west_rep_id = 0;
};

TEST_P(PrincipalPathsTest, ConversionNeitherJoinsNorRevealsACompanyOutOfScope) {
  // West's company for acme.com, with a sensitive value.
  const json hidden = made("west_rep", "companies",
                           {{"name", "Acme West"},
                            {"domain", "acme.com"},
                            {"team_id", west},
                            {"custom", {{"secret", "west-only"}}}});
  const json lead = made("sales_rep", "leads",
                         {{"first_name", "Ada"},
                          {"last_name", "Lovelace"},
                          {"email", "ada@acme.com"},
                          {"company_name", "Acme"},
                          {"team_id", east}});
  const auto r =
      as("sales_rep", "POST", "/v1/leads/" + lead["id"].dump() + "/convert", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  const json done = parsed(r);
  EXPECT_NE(done["company"]["id"], hidden["id"])
      << "the rep's contact joined a company it cannot read";
  EXPECT_TRUE(done["company_created"].get<bool>());
  EXPECT_EQ(r.body.find("west-only"), std::string::npos) << r.body;
  EXPECT_EQ(as("sales_rep", "GET", "/v1/companies/" + hidden["id"].dump()).status, 404);
  // The West rep's own conversion does find West's company.
  const json west_lead = made(
      "west_rep", "leads",
      {{"first_name", "Eve"}, {"last_name", "W"}, {"email", "eve@acme.com"}, {"team_id", west}});
  const auto w =
      as("west_rep", "POST", "/v1/leads/" + west_lead["id"].dump() + "/convert", json::object());
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(parsed(w)["company"]["id"], hidden["id"]);
}

TEST_P(PrincipalPathsTest, AConversionAnswersOnlyWhatTheCallerMaySee) {
  // A visible company whose sensitive value the rep may not see (another owner in its team).
  db().transact([&](store::UnitOfWork& uow) {
    Company c;
    c.name = "Globex";
    c.domain = "globex.com";
    c.team_id = east;
    c.custom["secret"] = std::string("team-secret");
    stores(db()).companies().create(uow, c);
  });
  const json lead = made("sales_rep", "leads",
                         {{"first_name", "Hank"},
                          {"last_name", "S"},
                          {"email", "hank@globex.com"},
                          {"team_id", east}});
  const auto r =
      as("sales_rep", "POST", "/v1/leads/" + lead["id"].dump() + "/convert", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["company"]["name"], "Globex");
  EXPECT_EQ(r.body.find("team-secret"), std::string::npos)
      << "a masked field came back whole: " << r.body;
}

TEST_P(PrincipalPathsTest, MergeNeverCopiesWhatTheCallerCannotSee) {
  // A role that may merge any contact but sees sensitive fields on its own only.
  ASSERT_EQ(call("POST", "/v1/roles",
                 {{"name", "merger"},
                  {"grants",
                   {{{"type", "contact"}, {"action", "read"}, {"scope", "all"}},
                    {{"type", "contact"}, {"action", "update"}, {"scope", "all"}},
                    {{"type", "contact"}, {"action", "delete"}, {"scope", "all"}},
                    {{"type", "contact"}, {"action", "read_sensitive"}, {"scope", "own"}}}}})
                .status,
            201);
  keys["merger"] = key_for("merger@example.com", {"merger"});
  const json survivor = made(
      "admin", "contacts",
      {{"first_name", "Ada"}, {"last_name", "L"}, {"owner_id", user_id("merger@example.com")}});
  const json loser = made("west_rep", "contacts",
                          {{"first_name", "Ada"},
                           {"last_name", "L"},
                           {"email", "ada@hidden.example"},
                           {"phone", "+1 555 0100"},
                           {"custom", {{"secret", "hidden-value"}}},
                           {"team_id", west}});
  const std::string path = "/v1/contacts/" + survivor["id"].dump() + "/merge";
  // Naming a hidden sensitive custom field as the winner is refused.
  auto r = as("merger", "POST", path,
              {{"losers", {loser["id"]}}, {"winners", {{"custom.secret", loser["id"]}}}});
  EXPECT_EQ(r.status, 403) << r.body;
  r = as("merger", "POST", path,
         {{"losers", {loser["id"]}}, {"winners", {{"email", loser["id"]}}}});
  EXPECT_EQ(r.status, 403) << r.body;
  // A plain merge fills no blank from the hidden values.
  r = as("merger", "POST", path, {{"losers", {loser["id"]}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json after =
      parsed(call("GET", "/v1/contacts/" + survivor["id"].dump()));  // as admin: all of it
  EXPECT_TRUE(after["email"].is_null()) << after;
  EXPECT_TRUE(after["phone"].is_null()) << after;
  EXPECT_FALSE(after["custom"].contains("secret")) << after;
}

TEST_P(PrincipalPathsTest, DuplicatesNameOnlyRecordsAndMatchesTheCallerMaySee) {
  auto ids_of = [](const json& body, const char* member) {
    std::vector<Id> out;
    for (const auto& item : body["items"]) out.push_back(item[member].get<Id>());
    return out;
  };
  // East's and West's contact for the same person: the east rep never learns of West's.
  const json east_one = made("sales_rep", "contacts",
                             {{"first_name", "Ada"},
                              {"last_name", "Lovelace"},
                              {"email", "ada@dup.example"},
                              {"team_id", east}});
  const json west_one = made("west_rep", "contacts",
                             {{"first_name", "Ada"},
                              {"last_name", "Lovelace"},
                              {"email", "ada@dup.example"},
                              {"team_id", west}});
  const std::string of_east = "/v1/contacts/" + east_one["id"].dump() + "/duplicates";
  auto r = as("sales_rep", "GET", of_east);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(parsed(r)["items"].empty()) << r.body;
  r = call("GET", of_east);  // the administrator sees both, on both rules
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(parsed(r)["items"].size(), 1U) << r.body;
  EXPECT_EQ(parsed(r)["items"][0]["id"], west_one["id"]);
  EXPECT_EQ(parsed(r)["items"][0]["rules"], json({"email", "name"}));
  EXPECT_EQ(as("sales_rep", "GET", "/v1/contacts/" + west_one["id"].dump() + "/duplicates").status,
            404);
  r = as("sales_rep", "GET", "/v1/contacts/duplicates");
  ASSERT_EQ(r.status, 200) << r.body;
  const json reps_groups = parsed(r);
  for (const auto& group : reps_groups["items"])
    for (const auto& id : group["ids"]) EXPECT_NE(id, west_one["id"]) << r.body;

  // A role that reads every contact but sees sensitive fields on its own only: an email
  // match with a contact whose email it cannot see would reveal that email, so only the
  // name counts.
  ASSERT_EQ(call("POST", "/v1/roles",
                 {{"name", "deduper"},
                  {"grants",
                   {{{"type", "contact"}, {"action", "read"}, {"scope", "all"}},
                    {{"type", "contact"}, {"action", "read_sensitive"}, {"scope", "own"}}}}})
                .status,
            201);
  keys["deduper"] = key_for("deduper@example.com", {"deduper"});
  const json own = made("admin", "contacts",
                        {{"first_name", "Grace"},
                         {"last_name", "Hopper"},
                         {"email", "grace@dup.example"},
                         {"owner_id", user_id("deduper@example.com")}});
  const json same_email =
      made("admin", "contacts",
           {{"first_name", "Zed"}, {"last_name", "Other"}, {"email", "grace@dup.example"}});
  const json same_both =
      made("admin", "contacts",
           {{"first_name", "Grace"}, {"last_name", "Hopper"}, {"email", "grace@dup.example"}});
  r = as("deduper", "GET", "/v1/contacts/" + own["id"].dump() + "/duplicates");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ids_of(parsed(r), "id"), std::vector<Id>{same_both["id"].get<Id>()}) << r.body;
  EXPECT_EQ(parsed(r)["items"][0]["rules"], json({"name"})) << r.body;
  r = as("deduper", "GET", "/v1/contacts/duplicates");
  ASSERT_EQ(r.status, 200) << r.body;
  const json dedupers_groups = parsed(r);
  for (const auto& group : dedupers_groups["items"]) {
    if (group["rule"] == "email") {
      ADD_FAILURE() << "an email group for a caller that sees at most one of its emails: "
                    << r.body;
    }
  }
  r = call("GET", "/v1/contacts/duplicates");
  ASSERT_EQ(r.status, 200) << r.body;
  bool email_group = false;
  const json all_groups = parsed(r);
  for (const auto& group : all_groups["items"])
    if (group["rule"] == "email" &&
        group["ids"].get<std::vector<Id>>() == std::vector<Id>{own["id"].get<Id>(),
                                                               same_email["id"].get<Id>(),
                                                               same_both["id"].get<Id>()})
      email_group = true;
  EXPECT_TRUE(email_group) << "the administrator sees the three with one email: " << r.body;
}

TEST_P(PrincipalPathsTest, ADefinitionsCountOfRecordsWithoutAValueCoversOnlyWhatTheCallerReads) {
  made("sales_rep", "contacts", {{"first_name", "Ada"}, {"last_name", "East"}, {"team_id", east}});
  made("west_rep", "contacts", {{"first_name", "Bob"}, {"last_name", "West"}, {"team_id", west}});
  made("west_rep", "contacts", {{"first_name", "Cy"}, {"last_name", "West"}, {"team_id", west}});
  const json region =
      parsed(call("POST", "/v1/custom-fields",
                  {{"object_type", "contact"}, {"name", "region"}, {"type", "text"}}));
  std::string secret;
  const json definitions = parsed(call("GET", "/v1/custom-fields?object_type=contact"));
  for (const auto& d : definitions["items"])
    if (d["name"] == "secret") secret = d["id"].dump();
  ASSERT_FALSE(secret.empty());
  const std::string path = "/v1/custom-fields/" + region["id"].dump();
  auto count_as = [&](const std::string& role, const std::string& field_path) {
    const auto r = as(role, "GET", field_path);
    EXPECT_EQ(r.status, 200) << r.body;
    const json body = parsed(r);
    return body.contains("records_without_value") ? body["records_without_value"] : json();
  };
  auto visible_to = [&](const std::string& role) {
    return parsed(as(role, "GET", "/v1/contacts?count=true&limit=1"))["total"];
  };
  // None holds a region: each caller counts the contacts it may read, not all of them.
  EXPECT_EQ(count_as("admin", path), visible_to("admin"));
  EXPECT_EQ(count_as("sales_rep", path), visible_to("sales_rep"));
  EXPECT_LT(count_as("sales_rep", path).get<int>(), count_as("admin", path).get<int>());
  EXPECT_EQ(count_as("read_only", path), visible_to("read_only"));
  // A sensitive field: no count for whoever does not see its values on all it reads.
  EXPECT_TRUE(count_as("sales_rep", "/v1/custom-fields/" + secret).is_null());
  EXPECT_TRUE(count_as("read_only", "/v1/custom-fields/" + secret).is_null());
  EXPECT_EQ(count_as("admin", "/v1/custom-fields/" + secret), visible_to("admin"));
}

TEST_P(PrincipalPathsTest, HistoryHidesASensitiveFieldAfterItIsRenamedOrDeleted) {
  const json c =
      made("admin", "contacts",
           {{"first_name", "Ada"}, {"last_name", "L"}, {"custom", {{"secret", "first-value"}}}});
  const std::string id = c["id"].dump();
  ASSERT_EQ(call("PATCH", "/v1/contacts/" + id, {{"custom", {{"secret", "second-value"}}}}).status,
            200);
  auto history_as_reader = [&] {
    return as("read_only", "GET", "/v1/contacts/" + id + "/history");
  };
  auto r = history_as_reader();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("value"), std::string::npos) << r.body;
  // Renamed: the entries kept under the old name stay hidden.
  const json field = parsed(call("GET", "/v1/custom-fields?object_type=contact"));
  std::string field_id;
  for (const auto& d : field["items"])
    if (d["name"] == "secret") field_id = d["id"].dump();
  ASSERT_FALSE(field_id.empty()) << field;
  ASSERT_EQ(call("POST", "/v1/custom-fields/" + field_id + "/rename", {{"name", "hush"}}).status,
            200);
  r = history_as_reader();
  EXPECT_EQ(r.body.find("first-value"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("second-value"), std::string::npos) << r.body;
  // Deleted: still hidden.
  ASSERT_EQ(call("DELETE", "/v1/custom-fields/" + field_id).status, 204);
  r = history_as_reader();
  EXPECT_EQ(r.body.find("first-value"), std::string::npos) << r.body;
  // The administrator still sees what was written.
  EXPECT_NE(call("GET", "/v1/contacts/" + id + "/history").body.find("first-value"),
            std::string::npos);
}

TEST_P(PrincipalPathsTest, AUsersAccessHistoryIsTheirsAndTheAdministratorsOnly) {
  const std::string rep_history = "/v1/users/" + std::to_string(rep_id) + "/history";
  auto r = as("read_only", "GET", rep_history);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("role."), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("api_key."), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("team."), std::string::npos) << r.body;
  EXPECT_NE(as("sales_rep", "GET", rep_history).body.find("role.sales_rep"), std::string::npos);
  EXPECT_NE(call("GET", rep_history).body.find("role.sales_rep"), std::string::npos);
}

TEST_P(PrincipalPathsTest, AReferenceToAHiddenRecordIsRefusedAsIfItDidNotExist) {
  const json hidden = made("west_rep", "companies", {{"name", "West Co"}, {"team_id", west}});
  const auto sales = make_pipeline();
  const json pipeline = {{"id", sales.pipeline.id}};
  const json stage = {{"id", sales.lead.id}};
  auto deal = [&](const json& company) {
    return as("sales_rep", "POST", "/v1/deals",
              {{"title", "D"},
               {"pipeline_id", pipeline["id"]},
               {"stage_id", stage["id"]},
               {"company_id", company},
               {"team_id", east}});
  };
  const auto to_hidden = deal(hidden["id"]);
  const auto to_missing = deal(987654);
  EXPECT_EQ(to_hidden.status, 422) << to_hidden.body;
  EXPECT_EQ(to_missing.status, 422) << to_missing.body;
  EXPECT_EQ(parsed(to_hidden)["field"], "company_id");
  EXPECT_EQ(parsed(to_missing)["field"], "company_id");
  // Later, by PATCH: the same.
  const json mine = made("sales_rep", "deals",
                         {{"title", "Mine"},
                          {"pipeline_id", pipeline["id"]},
                          {"stage_id", stage["id"]},
                          {"team_id", east}});
  const auto patched =
      as("sales_rep", "PATCH", "/v1/deals/" + mine["id"].dump(), {{"company_id", hidden["id"]}});
  EXPECT_EQ(patched.status, 422) << patched.body;
  EXPECT_EQ(as("sales_rep", "GET", "/v1/deals/" + mine["id"].dump()).status, 200);
  EXPECT_TRUE(
      parsed(as("sales_rep", "GET", "/v1/deals/" + mine["id"].dump()))["company_id"].is_null());
}

// External ids are unique across every record of a type: a rep who could write one would
// learn from a 409 that a hidden record holds it. The answer is the same 403 either way.
TEST_P(PrincipalPathsTest, AnExternalIdTellsNothingOfHiddenRecords) {
  const auto hidden = call("POST", "/v1/contacts",
                           {{"first_name", "West"},
                            {"last_name", "Hidden"},
                            {"team_id", west},
                            {"external_id", "crm-42"}});
  ASSERT_EQ(hidden.status, 201) << hidden.body;
  const json mine = made("sales_rep", "contacts",
                         {{"first_name", "Mine"}, {"last_name", "Own"}, {"team_id", east}});
  std::vector<std::string> bodies;
  for (const char* external_id : {"crm-42", "crm-free"}) {
    const json item = {{"first_name", "Probe"},
                       {"last_name", "P"},
                       {"team_id", east},
                       {"external_id", external_id}};
    for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, json>>{
             {"POST", "/v1/contacts/upsert", item},
             {"POST", "/v1/contacts/upsert", {{"items", {item}}}},
             {"POST", "/v1/contacts", item},
             {"POST", "/v1/contacts/batch", {{"items", {item}}}},
             {"PATCH", "/v1/contacts/" + mine["id"].dump(), {{"external_id", external_id}}}}) {
      const auto r = as("sales_rep", method, path, body);
      expect_problem(r, 403, "permission_denied");
      const json problem = parsed(r);
      EXPECT_TRUE(problem["field"] == "external_id" || problem["field"] == "items[0].external_id")
          << r.body;
      bodies.push_back(problem["detail"].get<std::string>());
    }
  }
  // Word for word the same, twin or not.
  for (std::size_t i = 0; i < bodies.size() / 2; ++i)
    EXPECT_EQ(bodies[i], bodies[i + bodies.size() / 2]);
  EXPECT_EQ(parsed(call("GET", "/v1/contacts?limit=200"))["items"].size(), 2u)
      << "nothing was written";
  EXPECT_TRUE(
      parsed(as("sales_rep", "GET", "/v1/contacts/" + mine["id"].dump()))["external_id"].is_null());
  // The integration role reads every contact and syncs by external id.
  keys["integration"] = key_for("sync@example.com", {"integration"});
  const auto synced = as("integration", "POST", "/v1/contacts/upsert",
                         {{"external_id", "crm-42"}, {"first_name", "West"}, {"title", "Synced"}});
  EXPECT_EQ(synced.status, 200) << synced.body;
}

TEST_P(PrincipalPathsTest, ARecordGoesOnlyToATeamTheCallersRoleMayWriteIn) {
  auto r = as("sales_rep", "POST", "/v1/contacts",
              {{"first_name", "A"}, {"last_name", "B"}, {"team_id", west}});
  expect_problem(r, 403, "permission_denied");
  EXPECT_EQ(parsed(r)["field"], "team_id");
  const json mine =
      made("sales_rep", "contacts", {{"first_name", "A"}, {"last_name", "B"}, {"team_id", east}});
  r = as("sales_rep", "PATCH", "/v1/contacts/" + mine["id"].dump(), {{"team_id", west}});
  expect_problem(r, 403, "permission_denied");
  EXPECT_EQ(parsed(call("GET", "/v1/contacts/" + mine["id"].dump()))["team_id"], east);
  // An administrator (scope all) places records anywhere.
  EXPECT_EQ(call("PATCH", "/v1/contacts/" + mine["id"].dump(), {{"team_id", west}}).status, 200);
}

TEST_P(PrincipalPathsTest, AdministrationIsGrantedOnlyWithScopeAll) {
  for (const char* scope : {"team", "own"}) {
    const auto r = call("POST", "/v1/roles",
                        {{"name", std::string("half-admin-") + scope},
                         {"grants", {{{"type", "user"}, {"action", "admin"}, {"scope", scope}}}}});
    expect_problem(r, 422, "validation");
  }
  EXPECT_EQ(call("POST", "/v1/roles",
                 {{"name", "full-admin"},
                  {"grants", {{{"type", "user"}, {"action", "admin"}, {"scope", "all"}}}}})
                .status,
            201);
}

TEST_P(PrincipalPathsTest, ListingPastTheExportAllowanceNeedsTheExportAction) {
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 200; ++i)
      stores(db()).contacts().create(uow, contact("C" + std::to_string(i), "X"));
  });
  // read_only has no export action: 10,000 records in 10 minutes, then 403.
  int listed = 0;
  HttpReply last;
  for (int page = 0; page < 51; ++page) {
    last = as("read_only", "GET", "/v1/contacts?limit=200");
    if (last.status != 200) break;
    listed += static_cast<int>(parsed(last)["items"].size());
  }
  EXPECT_EQ(listed, 10000);
  expect_problem(last, 403, "permission_denied");
  EXPECT_EQ(parsed(last)["field"], "export");
  // The administrator holds export: let through (and logged as an anomaly).
  for (int page = 0; page < 51; ++page)
    ASSERT_EQ(call("GET", "/v1/contacts?limit=200").status, 200);
}

TEST_P(PrincipalPathsTest, MetricsNeedAnAdministratorOrTheMetricsToken) {
  EXPECT_EQ(as("read_only", "GET", "/metrics").status, 403);
  EXPECT_EQ(as("sales_rep", "GET", "/metrics").status, 403);
  EXPECT_EQ(call("GET", "/metrics").status, 200);
  HttpClient scraper(port_);
  EXPECT_EQ(
      scraper.request("GET", "/metrics", "", {{"authorization", "Bearer scrape-0123456789abcdef"}})
          .status,
      200);
  EXPECT_EQ(
      scraper.request("GET", "/metrics", "", {{"authorization", "Bearer scrape-0123456789abcdeX"}})
          .status,
      401);
  EXPECT_EQ(scraper.request("GET", "/metrics").status, 401);
  // The token opens nothing else.
  EXPECT_EQ(
      scraper
          .request("GET", "/v1/contacts", "", {{"authorization", "Bearer scrape-0123456789abcdef"}})
          .status,
      401);
}

TEST_P(PrincipalPathsTest, ReadsRefusedForScopeAreAuditedOncePerPrincipalAndMinute) {
  const json hidden =
      made("west_rep", "contacts", {{"first_name", "W"}, {"last_name", "W"}, {"team_id", west}});
  EXPECT_EQ(denials_of(rep_id), "0");
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(as("sales_rep", "GET", "/v1/contacts/" + hidden["id"].dump()).status, 404);
  // One entry (two if the requests straddled a minute), not twenty.
  const int entries = std::stoi(denials_of(rep_id));
  EXPECT_GE(entries, 1);
  EXPECT_LE(entries, 2);
  // A missing record is no denial: nothing was hidden.
  const int before = std::stoi(denials_of(west_rep_id));
  EXPECT_EQ(as("west_rep", "GET", "/v1/contacts/987654").status, 404);
  EXPECT_EQ(std::stoi(denials_of(west_rep_id)), before);
  // The trail names the record.
  EXPECT_EQ(
      scratch().raw("SELECT object_id FROM audit_log WHERE action = 'denied' AND actor_id = " +
                    std::to_string(rep_id) + " ORDER BY id LIMIT 1"),
      hidden["id"].dump());
}

BANYAN_ON_BOTH_BACKENDS(PrincipalPathsTest);

}  // namespace
}  // namespace banyan::test
