// Issue 20's acceptance: a SuiteCRM-shaped data set (accounts, contacts with two emails
// and an address, notes on contacts and accounts, opportunities with contact roles) loaded
// entirely over HTTP by an integration key, every reference by external id, then read back
// whole (the fixture: server_writes_fixture.hpp; its instantiation: server_writes_test.cpp).
#include <algorithm>
#include <tuple>

#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

constexpr int kAccounts = 4;
constexpr int kContactsPerAccount = 3;

std::string n(const char* prefix, int i) { return prefix + std::to_string(i); }

json account(int i) {
  return {{"external_id", n("acct-", i)},
          {"name", n("Account ", i)},
          {"industry", "Manufacturing"},
          {"phones", {{{"value", n("+49 30 5550 10", i)}, {"label", "office"}}}},
          {"emails", {{{"value", n("info", i) + "@account.example"}, {"label", "info"}}}},
          {"addresses",
           {{{"kind", "billing"},
             {"street", n("Hauptstrasse ", i)},
             {"city", "Berlin"},
             {"postal_code", "10115"},
             {"country", "DE"}},
            {{"kind", "shipping"}, {"street", "Hafen 1"}, {"city", "Hamburg"}, {"country", "DE"}}}},
          {"created_at", "2019-03-0" + std::to_string(i + 1) + "T09:00:00.000000Z"}};
}

json contact_row(int a, int c) {
  const std::string id = n("ct-", a * 10 + c);
  return {{"external_id", id},
          {"first_name", n("First", c)},
          {"last_name", n("Last", a * 10 + c)},
          {"title", "Buyer"},
          {"emails",
           {{{"value", id + "@work.example"}, {"label", "work"}, {"primary", true}},
            {{"value", id + "@home.example"}, {"label", "home"}}}},
          {"addresses",
           {{{"kind", "mailing"},
             {"street", n("Gartenweg ", c)},
             {"city", "Potsdam"},
             {"region", "Brandenburg"},
             {"postal_code", "14467"},
             {"country", "DE"}}}},
          {"companies", {{{"external_id", n("acct-", a)}, {"primary", true}}}}};
}

TEST_P(ServerWritesTest, ASuiteCrmShapedDataSetLoadsByExternalIdsAndReadsBackWhole) {
  // An administrator sets the pipeline up; the integration key loads the data.
  const auto loader = as(key_for("loader@example.com", {"integration"}));
  ok("POST", "/v1/pipelines", {{"name", "Sales"}, {"external_id", "pipe-sales"}});
  for (const auto& [name, kind, position] :
       {std::tuple{"Prospecting", "open", 1}, std::tuple{"Negotiation", "open", 2},
        std::tuple{"Closed Won", "won", 3}, std::tuple{"Closed Lost", "lost", 4}})
    ok("POST", "/v1/stages",
       {{"pipeline_id", {{"external_id", "pipe-sales"}}},
        {"name", name},
        {"kind", kind},
        {"position", position},
        {"win_probability", 10 * position}});

  // Accounts, then contacts, opportunities and notes, each a batch naming what it links
  // by external id.
  json accounts = json::array(), contacts = json::array(), deals = json::array(),
       notes = json::array();
  for (int a = 0; a < kAccounts; ++a) {
    accounts.push_back(account(a));
    json roles = json::array();
    for (int c = 0; c < kContactsPerAccount; ++c) {
      contacts.push_back(contact_row(a, c));
      roles.push_back({{"external_id", n("ct-", a * 10 + c)},
                       {"role", c == 0 ? "decision_maker" : "influencer"}});
      notes.push_back(
          {{"external_id", n("note-c", a * 10 + c)},
           {"kind", "note"},
           {"subject", "Met at the fair"},
           {"body", "Interested in the\nnew line."},
           {"targets", {{{"type", "contact"}, {"external_id", n("ct-", a * 10 + c)}}}}});
    }
    deals.push_back({{"external_id", n("opp-", a)},
                     {"title", n("Opportunity ", a)},
                     {"company", {{"external_id", n("acct-", a)}}},
                     {"pipeline", {{"external_id", "pipe-sales"}}},
                     {"stage", {{"name", a % 2 == 0 ? "Negotiation" : "Closed Won"}}},
                     {"amount", {{"minor_units", 100000 * (a + 1)}, {"currency", "EUR"}}},
                     {"contacts", roles}});
    notes.push_back({{"external_id", n("note-a", a)},
                     {"kind", "note"},
                     {"subject", "Account review"},
                     {"targets",
                      {{{"type", "company"}, {"external_id", n("acct-", a)}},
                       {{"type", "deal"}, {"external_id", n("opp-", a)}}}}});
  }
  ok("POST", "/v1/companies/batch", {{"items", accounts}}, 201, loader);
  ok("POST", "/v1/contacts/batch", {{"items", contacts}}, 201, loader);
  ok("POST", "/v1/deals/batch", {{"items", deals}}, 201, loader);
  ok("POST", "/v1/activities/batch", {{"items", notes}}, 201, loader);

  // Read back by external id: every field, list and link as loaded.
  auto by_key = [&](const std::string& collection, const std::string& key) {
    const json page = ok("GET", "/v1/" + collection + "?external_id=" + key, nullptr, 200, loader);
    EXPECT_EQ(page["items"].size(), 1u) << collection << " " << key;
    return page["items"].empty() ? json::object() : page["items"][0];
  };
  auto path = [](const std::string& collection, const json& record) {
    return "/v1/" + collection + "/" + record["id"].dump();
  };
  for (int a = 0; a < kAccounts; ++a) {
    const json expected = account(a);
    const json acct = by_key("companies", n("acct-", a));
    for (const char* field : {"name", "industry", "created_at"})
      EXPECT_EQ(acct[field], expected[field]) << field;
    EXPECT_EQ(acct["addresses"].size(), 2u);
    EXPECT_EQ(acct["addresses"][1]["city"], "Hamburg");
    EXPECT_EQ(acct["phone"], expected["phones"][0]["value"]);
    EXPECT_EQ(
        ok("GET", path("companies", acct) + "/contacts", nullptr, 200, loader)["items"].size(),
        static_cast<std::size_t>(kContactsPerAccount));
    const json account_notes =
        ok("GET", path("companies", acct) + "/activities", nullptr, 200, loader)["items"];
    ASSERT_EQ(account_notes.size(), 1u);
    EXPECT_EQ(ok("GET", "/v1/activities/" + account_notes[0]["activity_id"].dump(), nullptr, 200,
                 loader)["external_id"],
              n("note-a", a));

    const json deal = by_key("deals", n("opp-", a));
    EXPECT_EQ(deal["company_id"], acct["id"]);
    EXPECT_EQ(deal["amount"], deals[a]["amount"]);
    EXPECT_EQ(deal["status"], a % 2 == 0 ? "open" : "won");
    const json roles = ok("GET", path("deals", deal) + "/contacts", nullptr, 200, loader)["items"];
    ASSERT_EQ(roles.size(), static_cast<std::size_t>(kContactsPerAccount));

    for (int c = 0; c < kContactsPerAccount; ++c) {
      const json expected_person = contact_row(a, c);
      const json ct = by_key("contacts", n("ct-", a * 10 + c));
      for (const char* field : {"first_name", "last_name", "title"})
        EXPECT_EQ(ct[field], expected_person[field]) << field;
      EXPECT_EQ(ct["email"], expected_person["emails"][0]["value"]);
      ASSERT_EQ(ct["emails"].size(), 2u);
      EXPECT_EQ(ct["emails"][1]["value"], expected_person["emails"][1]["value"]);
      EXPECT_EQ(ct["emails"][1]["label"], "home");
      EXPECT_EQ(ct["addresses"][0]["postal_code"], "14467");
      const json companies =
          ok("GET", path("contacts", ct) + "/companies", nullptr, 200, loader)["items"];
      ASSERT_EQ(companies.size(), 1u);
      EXPECT_EQ(companies[0]["company_id"], acct["id"]);
      EXPECT_EQ(companies[0]["primary"], true);
      const json role = *std::find_if(roles.begin(), roles.end(),
                                      [&](const json& r) { return r["contact_id"] == ct["id"]; });
      EXPECT_EQ(role["role"], c == 0 ? "decision_maker" : "influencer");
      EXPECT_EQ(
          ok("GET", path("contacts", ct) + "/activities", nullptr, 200, loader)["items"].size(),
          1u);
      // The second email finds the contact, as a legacy system's lookups would.
      EXPECT_EQ(
          ids_of("/v1/contacts?email=" + expected_person["emails"][1]["value"].get<std::string>()),
          std::vector<std::int64_t>{ct["id"].get<std::int64_t>()});
    }
  }
  EXPECT_EQ(ok("GET", "/v1/contacts?country=DE&city=Potsdam&count=true&limit=1", nullptr, 200,
               loader)["total"],
            kAccounts * kContactsPerAccount);

  // A reference to a record that is not there refuses its batch, naming the item's member.
  refused("POST", "/v1/deals/batch",
          {{"items",
            {{{"title", "Ghost"},
              {"pipeline", {{"external_id", "pipe-sales"}}},
              {"stage", {{"name", "Prospecting"}}},
              {"contacts", {{{"external_id", "ct-missing"}, {"role", "champion"}}}}}}}},
          422, "validation", "items[0].contacts[0]", loader);
  refused(
      "POST", "/v1/activities/batch",
      {{"items",
        {{{"kind", "note"}, {"subject", "Ghost"}, {"targets", {{{"type", "user"}, {"id", 1}}}}}}}},
      422, "validation", "items[0].targets[0].type", loader);
}

}  // namespace
}  // namespace banyan::test
