// The links between records over HTTP, on both backends (the fixture:
// server_writes_fixture.hpp): contacts and companies, deals and contacts, activities and
// their records, tags. Each change is listed from both sides, emits its event and leaves
// an audit entry in its own transaction; a refused one changes nothing.
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

class ServerRelationsTest : public ServerWritesTest {
 protected:
  std::string id(const json& record) { return record["id"].dump(); }
  // The outbox's events of this type, as their payloads, oldest first.
  std::vector<json> events(const std::string& type) {
    const std::string where = " FROM outbox_events WHERE event_type = '" + type + "'";
    const auto n = std::stoll(scratch().raw("SELECT COUNT(*)" + where));
    std::vector<json> out;
    for (std::int64_t i = 0; i < n; ++i)
      out.push_back(json::parse(scratch().raw("SELECT payload" + where +
                                              " ORDER BY id LIMIT 1 OFFSET " + std::to_string(i))));
    return out;
  }
  std::int64_t audit_entries(const std::string& action) {
    return std::stoll(
        scratch().raw("SELECT COUNT(*) FROM audit_log WHERE action = '" + action + "'"));
  }
};

TEST_P(ServerRelationsTest, ContactsAndCompaniesAreLinkedWithOnePrimaryListedFromBothSides) {
  const json ada = ok("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}});
  const json engines = ok("POST", "/v1/companies", {{"name", "Analytical Engines"}});
  const json society = ok("POST", "/v1/companies", {{"name", "Royal Society"}});
  const std::string links = "/v1/contacts/" + id(ada) + "/companies/";

  json link = ok("PUT", links + id(engines), {{"primary", true}});
  EXPECT_EQ(link, json({{"contact_id", ada["id"]},
                        {"company_id", engines["id"]},
                        {"primary", true},
                        {"changed", true}}));
  // The same again changes nothing and says so, with no event and no entry.
  const Traces before = traces();
  EXPECT_EQ(ok("PUT", links + id(engines), {{"primary", true}})["changed"], false);
  EXPECT_EQ(traces(), before);
  // A second primary demotes the first: both changes are events.
  ok("PUT", links + id(society), {{"primary", true}});
  const json listed = ok("GET", "/v1/contacts/" + id(ada) + "/companies")["items"];
  ASSERT_EQ(listed.size(), 2u) << listed.dump();
  EXPECT_EQ(listed[0]["company_id"], society["id"]);  // the primary first
  EXPECT_EQ(listed[0]["primary"], true);
  EXPECT_EQ(listed[1]["primary"], false);
  const json from_company = ok("GET", "/v1/companies/" + id(engines) + "/contacts")["items"];
  ASSERT_EQ(from_company.size(), 1u);
  EXPECT_EQ(from_company[0]["contact_id"], ada["id"]);
  const auto linked = events("contact.company_linked");
  ASSERT_EQ(linked.size(), 3u);  // engines primary, engines demoted, society primary
  EXPECT_EQ(linked[1],
            json({{"contact_id", ada["id"]}, {"company_id", engines["id"]}, {"primary", false}}));

  // A body is optional: no body links without the primary flag.
  const json third = ok("POST", "/v1/companies", {{"name", "Babbage & Co"}});
  EXPECT_EQ(ok("PUT", links + id(third))["primary"], false);

  EXPECT_EQ(ok("DELETE", links + id(engines))["changed"], true);
  EXPECT_EQ(ok("DELETE", links + id(engines))["changed"], false);
  EXPECT_EQ(ok("GET", "/v1/companies/" + id(engines) + "/contacts")["items"].size(), 0u);
  EXPECT_EQ(events("contact.company_unlinked").size(), 1u);

  // The contact's history has each change, by the link's name.
  const json history = ok("GET", "/v1/contacts/" + id(ada) + "/history")["items"];
  std::vector<std::string> seen;
  for (const auto& change : history)
    if (change["field"] == "company." + id(engines))
      seen.push_back(change["action"].get<std::string>() + ":" + change["after"].dump());
  EXPECT_EQ(seen, (std::vector<std::string>{"linked:{\"primary\":true}",
                                            "linked:{\"primary\":false}", "unlinked:null"}));
}

TEST_P(ServerRelationsTest, DealsTakeContactsInARoleListedFromBothSides) {
  const Pipe p = pipeline();
  const json deal =
      ok("POST", "/v1/deals",
         {{"title", "Engine"}, {"pipeline_id", p.pipeline["id"]}, {"stage_id", p.qualify["id"]}});
  const json ada = ok("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}});
  const std::string link = "/v1/deals/" + id(deal) + "/contacts/" + id(ada);

  EXPECT_EQ(ok("PUT", link)["role"], "other");  // the default
  EXPECT_EQ(ok("PUT", link, {{"role", "champion"}})["changed"], true);
  EXPECT_EQ(ok("PUT", link, {{"role", "champion"}})["changed"], false);
  const json of_deal = ok("GET", "/v1/deals/" + id(deal) + "/contacts")["items"];
  EXPECT_EQ(
      of_deal,
      json::array({{{"deal_id", deal["id"]}, {"contact_id", ada["id"]}, {"role", "champion"}}}));
  EXPECT_EQ(ok("GET", "/v1/contacts/" + id(ada) + "/deals")["items"], of_deal);
  EXPECT_EQ(events("deal.contact_linked").size(), 2u);

  refused("PUT", link, {{"role", "boss"}}, 422, "validation", "role");
  refused("PUT", link, {{"role", 3}}, 422, "validation", "role");
  refused("PUT", link, {{"rank", "x"}}, 422, "validation", "rank");

  EXPECT_EQ(ok("DELETE", link)["changed"], true);
  EXPECT_EQ(ok("GET", "/v1/contacts/" + id(ada) + "/deals")["items"].size(), 0u);
  EXPECT_EQ(events("deal.contact_unlinked").size(), 1u);
  EXPECT_EQ(audit_entries("unlinked"), 1);
}

TEST_P(ServerRelationsTest, ActivitiesAreAttachedToTheRecordsTheyConcern) {
  const json call = ok("POST", "/v1/activities", {{"kind", "call"}, {"subject", "Intro"}});
  const json ada = ok("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}});
  const json engines = ok("POST", "/v1/companies", {{"name", "Analytical Engines"}});
  const std::string targets = "/v1/activities/" + id(call) + "/targets/";

  EXPECT_EQ(ok("PUT", targets + "contacts/" + id(ada)), json({{"activity_id", call["id"]},
                                                              {"object_type", "contact"},
                                                              {"object_id", ada["id"]},
                                                              {"changed", true}}));
  ok("PUT", targets + "companies/" + id(engines));
  EXPECT_EQ(ok("GET", "/v1/activities/" + id(call) + "/targets")["items"],
            json::array({{{"object_type", "contact"}, {"object_id", ada["id"]}},
                         {{"object_type", "company"}, {"object_id", engines["id"]}}}));
  EXPECT_EQ(ok("GET", "/v1/companies/" + id(engines) + "/activities")["items"],
            json::array({{{"activity_id", call["id"]}}}));
  const auto linked = events("activity.target_linked");
  ASSERT_EQ(linked.size(), 2u);
  EXPECT_EQ(
      linked[0],
      json({{"activity_id", call["id"]}, {"object_type", "contact"}, {"object_id", ada["id"]}}));

  // A record that does not exist, and a collection activities do not concern.
  refused("PUT", targets + "contacts/999999", nullptr, 404, "not_found", "");
  refused("PUT", targets + "users/1", nullptr, 404, "no_route", "");
  refused("PUT", "/v1/activities/999999/targets/contacts/" + id(ada), nullptr, 404, "not_found",
          "");

  EXPECT_EQ(ok("DELETE", targets + "contacts/" + id(ada))["changed"], true);
  EXPECT_EQ(ok("GET", "/v1/contacts/" + id(ada) + "/activities")["items"].size(), 0u);
  EXPECT_EQ(events("activity.target_unlinked").size(), 1u);
}

TEST_P(ServerRelationsTest, TagsGoOnAnyRecordAndAreListedFromTheTag) {
  const json vip = ok("POST", "/v1/tags", {{"name", "vip"}});
  const json ada = ok("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}});
  const json lead = ok("POST", "/v1/leads", {{"last_name", "Hopper"}});
  EXPECT_EQ(ok("PUT", "/v1/contacts/" + id(ada) + "/tags/" + id(vip))["changed"], true);
  EXPECT_EQ(ok("PUT", "/v1/contacts/" + id(ada) + "/tags/" + id(vip))["changed"], false);
  ok("PUT", "/v1/leads/" + id(lead) + "/tags/" + id(vip));
  EXPECT_EQ(ok("GET", "/v1/contacts/" + id(ada) + "/tags")["items"],
            json::array({{{"tag_id", vip["id"]}}}));
  EXPECT_EQ(ok("GET", "/v1/tags/" + id(vip) + "/records")["items"],
            json::array({{{"object_type", "contact"}, {"object_id", ada["id"]}},
                         {{"object_type", "lead"}, {"object_id", lead["id"]}}}));
  // The event is the tagged record's.
  EXPECT_EQ(events("contact.tagged"),
            std::vector<json>{json(
                {{"tag_id", vip["id"]}, {"object_type", "contact"}, {"object_id", ada["id"]}})});
  EXPECT_EQ(events("lead.tagged").size(), 1u);
  refused("PUT", "/v1/contacts/" + id(ada) + "/tags/999999", nullptr, 404, "not_found", "");
  EXPECT_EQ(ok("DELETE", "/v1/leads/" + id(lead) + "/tags/" + id(vip))["changed"], true);
  EXPECT_EQ(events("lead.untagged").size(), 1u);
  EXPECT_EQ(ok("GET", "/v1/tags/" + id(vip) + "/records")["items"].size(), 1u);
}

TEST_P(ServerRelationsTest, ARecordIsLinkedAtCreateTimeInTheSameTransaction) {
  const json engines = ok("POST", "/v1/companies", {{"name", "Analytical Engines"}});
  const json society = ok("POST", "/v1/companies", {{"name", "Royal Society"}});
  const json vip = ok("POST", "/v1/tags", {{"name", "vip"}});
  const json ada = ok("POST", "/v1/contacts",
                      {{"first_name", "Ada"},
                       {"last_name", "Lovelace"},
                       {"companies", {engines["id"], {{"id", society["id"]}, {"primary", true}}}},
                       {"tags", {vip["id"]}}},
                      201);
  EXPECT_FALSE(ada.contains("companies"));  // the answer is the record, as for any create
  const json links = ok("GET", "/v1/contacts/" + id(ada) + "/companies")["items"];
  ASSERT_EQ(links.size(), 2u) << links.dump();
  EXPECT_EQ(links[0]["company_id"], society["id"]);
  EXPECT_EQ(links[0]["primary"], true);
  EXPECT_EQ(ok("GET", "/v1/contacts/" + id(ada) + "/tags")["items"],
            json::array({{{"tag_id", vip["id"]}}}));
  EXPECT_EQ(events("contact.company_linked").size(), 2u);
  EXPECT_EQ(events("contact.tagged").size(), 1u);

  // A bad link refuses the whole create, naming its place; nothing is written.
  const json missing = {{"last_name", "X"}, {"companies", {engines["id"], 999999}}};
  refused("POST", "/v1/contacts", missing, 422, "validation", "companies[1]");
  refused(
      "POST", "/v1/contacts",
      {{"last_name", "X"},
       {"companies",
        {{{"id", engines["id"]}, {"primary", true}}, {{"id", society["id"]}, {"primary", true}}}}},
      422, "validation", "companies");
  refused("POST", "/v1/contacts", {{"last_name", "X"}, {"tags", {0}}}, 422, "validation",
          "tags[0]");
  refused("POST", "/v1/contacts", {{"last_name", "X"}, {"tags", "vip"}}, 422, "validation", "tags");
  refused("POST", "/v1/contacts", {{"last_name", "X"}, {"companies", {{{"primary", true}}}}}, 422,
          "validation", "companies[0]");
  // Leads have no companies to link.
  refused("POST", "/v1/leads", {{"last_name", "X"}, {"companies", {engines["id"]}}}, 422,
          "validation", "companies");

  // A batch links each item, and names the item whose link is bad.
  const json made =
      ok("POST", "/v1/leads/batch",
         {{"items", {{{"last_name", "A"}, {"tags", {vip["id"]}}}, {{"last_name", "B"}}}}}, 201);
  ASSERT_EQ(made["items"].size(), 2u);
  EXPECT_EQ(ok("GET", "/v1/leads/" + id(made["items"][0]) + "/tags")["items"].size(), 1u);
  EXPECT_EQ(ok("GET", "/v1/leads/" + id(made["items"][1]) + "/tags")["items"].size(), 0u);
  refused("POST", "/v1/leads/batch",
          {{"items", {{{"last_name", "C"}}, {{"last_name", "D"}, {"tags", {999999}}}}}}, 422,
          "validation", "items[1].tags[0]");
}

TEST_P(ServerRelationsTest, EveryRelationRouteIsDocumented) {
  const json paths = ok("GET", "/openapi.json")["paths"];
  for (const char* path :
       {"/v1/contacts/{id}/companies", "/v1/companies/{id}/contacts",
        "/v1/contacts/{id}/companies/{company_id}", "/v1/deals/{id}/contacts",
        "/v1/contacts/{id}/deals", "/v1/deals/{id}/contacts/{contact_id}",
        "/v1/activities/{id}/targets", "/v1/activities/{id}/targets/{collection}/{target_id}",
        "/v1/leads/{id}/activities", "/v1/tags/{id}/records", "/v1/deals/{id}/tags",
        "/v1/activities/{id}/tags/{tag_id}"})
    EXPECT_TRUE(paths.contains(path)) << path;
  const json& put = paths["/v1/contacts/{id}/companies/{company_id}"];
  EXPECT_TRUE(put.contains("put"));
  EXPECT_TRUE(put.contains("delete"));
  EXPECT_EQ(put["parameters"][1]["schema"]["type"], "integer");
}

BANYAN_ON_BOTH_BACKENDS(ServerRelationsTest);

}  // namespace
}  // namespace banyan::test
