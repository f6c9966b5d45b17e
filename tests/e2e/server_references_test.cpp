// References by what another system knows, over HTTP on both backends: records named by
// external id wherever a body takes an id, stages by name within their pipeline, and a
// migration's created_at and created_by, kept only for principals that may import.
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

class ServerReferencesTest : public ServerWritesTest {
 protected:
  std::string path(const std::string& collection, const json& record) {
    return "/v1/" + collection + "/" + record["id"].dump();
  }
  static json ext(const std::string& external_id) { return {{"external_id", external_id}}; }
  static json named(const std::string& name) { return {{"name", name}}; }
};

TEST_P(ServerReferencesTest, RecordsAreNamedByExternalIdWhereverABodyTakesAnId) {
  const Pipe p = pipeline();
  ok("PATCH", path("pipelines", p.pipeline), {{"external_id", "legacy-pipe"}});
  const json acme = ok("POST", "/v1/companies", {{"name", "Acme"}, {"external_id", "acct-1"}});
  const json vip = ok("POST", "/v1/tags", {{"name", "VIP"}, {"external_id", "tag-vip"}});

  // A contact linked at create time, by external ids.
  const json ada = ok("POST", "/v1/contacts",
                      {{"last_name", "Lovelace"},
                       {"external_id", "c-1"},
                       {"companies", {{{"external_id", "acct-1"}, {"primary", true}}}},
                       {"tags", {ext("tag-vip")}}});
  const json links = ok("GET", path("contacts", ada) + "/companies")["items"];
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]["company_id"], acme["id"]);
  EXPECT_EQ(links[0]["primary"], true);
  EXPECT_EQ(ok("GET", path("tags", vip) + "/records")["items"].size(), 1u);

  // A deal: its company under the alias, its pipeline by external id under the field's own
  // name, its stage by name within that pipeline.
  const json deal = ok("POST", "/v1/deals",
                       {{"title", "Engine"},
                        {"company", ext("acct-1")},
                        {"pipeline_id", ext("legacy-pipe")},
                        {"stage", named("Qualify")}});
  EXPECT_EQ(deal["company_id"], acme["id"]);
  EXPECT_EQ(deal["pipeline_id"], p.pipeline["id"]);
  EXPECT_EQ(deal["stage_id"], p.qualify["id"]);
  // A patch finds a stage by name in the stored deal's pipeline; so does an upsert that
  // updates (the deal with its external id), and a stage move.
  EXPECT_EQ(ok("PATCH", path("deals", deal),
               {{"stage", named("Propose")}, {"external_id", "opp-1"}})["stage_id"],
            p.propose["id"]);
  const json upserted =
      ok("POST", "/v1/deals/upsert", {{"external_id", "opp-1"}, {"stage", named("Qualify")}}, 200);
  EXPECT_EQ(upserted["outcome"], "updated");
  EXPECT_EQ(upserted["record"]["stage_id"], p.qualify["id"]);
  const json won =
      ok("POST", path("deals", deal) + "/stage", {{"stage_id", named("Closed won")}}, 200);
  EXPECT_EQ(won["stage_id"], p.won["id"]);
  EXPECT_EQ(won["status"], "won");

  // A batch, each item with its own references.
  const json batch =
      ok("POST", "/v1/deals/batch",
         {{"items",
           {{{"title", "A"}, {"pipeline_id", p.pipeline["id"]}, {"stage", named("Propose")}},
            {{"title", "B"},
             {"company_id", ext("acct-1")},
             {"pipeline", ext("legacy-pipe")},
             {"stage_id", p.qualify["id"]}}}}});
  EXPECT_EQ(batch["items"][0]["stage_id"], p.propose["id"]);
  EXPECT_EQ(batch["items"][1]["company_id"], acme["id"]);

  // Lead conversion: the company and the new deal's pipeline and stage by key.
  const json lead =
      ok("POST", "/v1/leads", {{"last_name", "Byron"}, {"email", "byron@example.org"}});
  const json converted =
      ok("POST", path("leads", lead) + "/convert",
         {{"company_id", ext("acct-1")},
          {"deal", {{"pipeline_id", ext("legacy-pipe")}, {"stage_id", named("Propose")}}}},
         200);
  EXPECT_EQ(converted["company"]["id"], acme["id"]);
  EXPECT_EQ(converted["deal"]["stage_id"], p.propose["id"]);

  // A merge names its losers by external id.
  const json twin = ok("POST", "/v1/contacts", {{"last_name", "Lovelace"}, {"external_id", "c-2"}});
  const json merged = ok("POST", path("contacts", ada) + "/merge", {{"losers", {ext("c-2")}}}, 200);
  EXPECT_EQ(merged["merged"], json::array({twin["id"]}));
}

TEST_P(ServerReferencesTest, AKeyThatNamesNothingIsRefusedNamingItsMemberAndChangesNothing) {
  const Pipe p = pipeline();
  ok("POST", "/v1/companies", {{"name", "Acme"}, {"external_id", "acct-1"}});
  const json deal =
      ok("POST", "/v1/deals",
         {{"title", "Engine"}, {"pipeline_id", p.pipeline["id"]}, {"stage_id", p.qualify["id"]}});
  const json base = {
      {"title", "X"}, {"pipeline_id", p.pipeline["id"]}, {"stage_id", p.qualify["id"]}};
  auto with = [&](const char* member, const json& value) {
    json body = base;
    body[member] = value;
    return body;
  };
  refused("POST", "/v1/deals", with("company", ext("acct-404")), 422, "validation", "company");
  refused("POST", "/v1/deals", with("company_id", ext("acct-404")), 422, "validation",
          "company_id");
  refused("POST", "/v1/deals", with("stage_id", named("Nowhere")), 422, "validation", "stage_id");
  refused("POST", "/v1/deals", {{"title", "X"}, {"stage", named("Qualify")}}, 422, "validation",
          "stage");  // no pipeline to look in
  refused("POST", "/v1/deals", with("company", {{"external_id", 7}}), 422, "validation", "company");
  refused("POST", "/v1/deals", with("company", {{"domain", "acme.com"}}), 422, "validation",
          "company");
  refused("POST", "/v1/deals", with("company", named("Acme")), 422, "validation", "company");
  json both = with("company", ext("acct-1"));
  both["company_id"] = 1;
  refused("POST", "/v1/deals", both, 422, "validation", "company");
  refused("PATCH", path("deals", deal), {{"owner", ext("nobody")}}, 422, "validation", "owner");
  refused("POST", "/v1/deals/batch", {{"items", {base, with("company", ext("acct-404"))}}}, 422,
          "validation", "items[1].company");
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"companies", {ext("acct-404")}}}, 422,
          "validation", "companies[0]");
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"tags", {{{"name", "vip"}}}}}, 422,
          "validation", "tags[0]");
  refused("POST", path("deals", deal) + "/stage", {{"stage_id", named("Nowhere")}}, 422,
          "validation", "stage_id");
  refused("POST", path("contacts", ok("POST", "/v1/contacts", {{"last_name", "M"}})) + "/merge",
          {{"losers", {ext("c-404")}}}, 422, "validation", "losers[0]");
}

TEST_P(ServerReferencesTest, MigratedRecordsKeepTheirCreationAndTheAuditEntrySaysSo) {
  const std::string bot = key_for("bot@example.com", {"integration"});
  const std::string rep = key_for("rep@example.com", {"sales_rep"});
  const std::string manager = key_for("manager@example.com", {"manager"});
  const json legacy_user = ok(
      "POST", "/v1/users", {{"email", "old@example.com"}, {"name", "Old"}, {"external_id", "u-7"}});
  const json history = {{"last_name", "Lovelace"},
                        {"created_at", "2019-05-01T09:30:00Z"},
                        {"created_by", ext("u-7")}};

  const json made = ok("POST", "/v1/contacts", history, 0, as(bot));
  EXPECT_EQ(made["created_at"], "2019-05-01T09:30:00.000000Z");
  EXPECT_EQ(made["created_by"], legacy_user["id"]);
  EXPECT_NE(made["updated_at"], made["created_at"]);  // written now
  const std::string detail = scratch().raw(
      "SELECT detail FROM audit_log WHERE action = 'created' AND object_type = 'contact' AND "
      "object_id = " +
      made["id"].dump());
  EXPECT_EQ(detail, "supplied created_at, created_by");
  // Administrators may too; a plain create's entry says nothing of the kind.
  EXPECT_EQ(ok("POST", "/v1/contacts",
               {{"last_name", "B"}, {"created_at", "2020-01-01T00:00:00Z"}})["created_at"],
            "2020-01-01T00:00:00.000000Z");
  const json plain = ok("POST", "/v1/contacts", {{"last_name", "C"}}, 0, as(bot));
  EXPECT_EQ(scratch().raw("SELECT detail FROM audit_log WHERE action = 'created' AND "
                          "object_type = 'contact' AND object_id = " +
                          plain["id"].dump()),
            "");

  // Upserts keep them when they create, and leave them when they update.
  json keyed = history;
  keyed["external_id"] = "c-9";
  const json first = ok("POST", "/v1/contacts/upsert", keyed, 201, as(bot));
  EXPECT_EQ(first["record"]["created_at"], "2019-05-01T09:30:00.000000Z");
  keyed["created_at"] = "2018-01-01T00:00:00Z";
  keyed["title"] = "Countess";
  const json again = ok("POST", "/v1/contacts/upsert", keyed, 200, as(bot));
  EXPECT_EQ(again["outcome"], "updated");
  EXPECT_EQ(again["record"]["created_at"], "2019-05-01T09:30:00.000000Z");
  // A batch keeps each item's.
  const json batch =
      ok("POST", "/v1/contacts/batch", {{"items", {history, {{"last_name", "D"}}}}}, 0, as(bot));
  EXPECT_EQ(batch["items"][0]["created_at"], "2019-05-01T09:30:00.000000Z");
  EXPECT_NE(batch["items"][1]["created_at"], "2019-05-01T09:30:00.000000Z");

  // Who may not import is refused naming the field (the refusal is itself an audit entry,
  // so what is counted is the records); bad values are 422 and change nothing.
  ok("POST", "/v1/roles",
     {{"name", "loader"},
      {"grants",
       {{{"type", "contact"}, {"action", "read"}, {"scope", "all"}},
        {{"type", "contact"}, {"action", "create"}, {"scope", "all"}}}}});
  const std::string loader = key_for("loader@example.com", {"loader"});
  const auto denied = [&](const std::string& target, const json& body, const std::string& key,
                          const std::string& field) {
    const auto contacts = contacts_in_db();
    const auto r = call("POST", target, body, as(key));
    expect_problem(r, 403, "permission_denied");
    EXPECT_EQ(parsed(r)["field"], field) << r.body;
    EXPECT_EQ(contacts_in_db(), contacts);
  };
  denied("/v1/contacts", history, rep, "created_at");
  denied("/v1/contacts", {{"last_name", "L"}, {"created_by", legacy_user["id"]}}, manager,
         "created_by");
  denied("/v1/contacts/upsert", {{"external_id", "c-10"}, {"created_at", "2019-05-01T09:30:00Z"}},
         loader, "created_at");
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"created_at", "2999-01-01T00:00:00Z"}}, 422,
          "validation", "created_at", as(bot));
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"created_at", "yesterday"}}, 422,
          "validation", "created_at", as(bot));
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"created_by", 999999}}, 422, "validation",
          "created_by", as(bot));
  refused("POST", "/v1/contacts", {{"last_name", "L"}, {"created_by", ext("u-404")}}, 422,
          "validation", "created_by", as(bot));
  // History is set once: a patch may not name it.
  refused("PATCH", path("contacts", made), {{"created_at", "2017-01-01T00:00:00Z"}}, 422,
          "validation", "created_at", as(bot));
}

BANYAN_ON_BOTH_BACKENDS(ServerReferencesTest);

}  // namespace
}  // namespace banyan::test
