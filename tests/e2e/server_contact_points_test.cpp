// Contact points over HTTP on both backends: every email, phone and address of contacts,
// leads and companies, written, read, patched, filtered, masked, refused by name and
// documented (the fixture: server_writes_fixture.hpp; its instantiation:
// server_writes_test.cpp).
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

const json kGrace = {{"first_name", "Grace"},
                     {"last_name", "Hopper"},
                     {"emails",
                      {{{"value", "grace@navy.mil"}, {"label", "work"}},
                       {{"value", "grace@home.example"}, {"label", "home"}, {"primary", true}}}},
                     {"phones", {{{"value", "+1 202 555 0101"}, {"label", "mobile"}}}},
                     {"addresses",
                      {{{"kind", "billing"},
                        {"street", "1 Navy Yard\nBuilding 2"},
                        {"city", "Arlington"},
                        {"region", "VA"},
                        {"postal_code", "22201"},
                        {"country", "us"}}}}};

TEST_P(ServerWritesTest, ContactPointsAreWrittenReadAndPatchedWithTheirPrimaryInStep) {
  const json grace = ok("POST", "/v1/contacts", kGrace);
  EXPECT_EQ(grace["email"], "grace@home.example") << "the primary entry is the email";
  EXPECT_EQ(grace["phone"], "+1 202 555 0101") << "the first phone, none being flagged";
  EXPECT_EQ(grace["emails"][0],
            json({{"value", "grace@navy.mil"}, {"label", "work"}, {"primary", false}}));
  EXPECT_EQ(grace["addresses"][0], json({{"kind", "billing"},
                                         {"label", nullptr},
                                         {"primary", false},
                                         {"street", "1 Navy Yard\nBuilding 2"},
                                         {"city", "Arlington"},
                                         {"region", "VA"},
                                         {"postal_code", "22201"},
                                         {"country", "US"}}));
  const std::string path = "/v1/contacts/" + grace["id"].dump();
  EXPECT_EQ(ok("GET", path), grace);

  // A patch of the email changes the primary entry; one of the list replaces it whole.
  const json renamed = ok("PATCH", path, {{"email", "admiral@home.example"}});
  EXPECT_EQ(renamed["emails"][1]["value"], "admiral@home.example");
  EXPECT_EQ(renamed["emails"][1]["label"], "home");
  EXPECT_EQ(renamed["emails"].size(), 2u);
  const json relisted = ok("PATCH", path, {{"emails", {{{"value", "only@example.com"}}}}});
  EXPECT_EQ(relisted["email"], "only@example.com");
  EXPECT_EQ(relisted["emails"].size(), 1u);

  // A contact written the old way has its email as its one entry.
  const json plain =
      ok("POST", "/v1/contacts", {{"last_name", "Plain"}, {"email", "p@example.com"}});
  EXPECT_EQ(plain["emails"],
            json::array({{{"value", "p@example.com"}, {"label", nullptr}, {"primary", true}}}));

  // Leads and companies have them too; conversion gives the lead's to the contact.
  json lead_body = kGrace;
  lead_body["last_name"] = "Lead";
  lead_body["company_name"] = "Navy";
  const json lead = ok("POST", "/v1/leads", lead_body);
  EXPECT_EQ(lead["emails"].size(), 2u);
  const json converted =
      ok("POST", "/v1/leads/" + lead["id"].dump() + "/convert", json::object(), 200);
  EXPECT_EQ(converted["contact"]["emails"], lead["emails"]);
  EXPECT_EQ(converted["contact"]["addresses"], lead["addresses"]);
  const json acme =
      ok("POST", "/v1/companies",
         {{"name", "Acme"},
          {"emails", {{{"value", "billing@acme.example"}, {"label", "billing"}}}},
          {"addresses", {{{"kind", "shipping"}, {"city", "Berlin"}, {"country", "DE"}}}}});
  EXPECT_EQ(acme["emails"][0]["primary"], true);
}

TEST_P(ServerWritesTest, ContactPointFiltersMatchAnyEmailCityOrCountry) {
  const auto grace = ok("POST", "/v1/contacts", kGrace)["id"].get<std::int64_t>();
  const auto alan = ok("POST", "/v1/contacts",
                       {{"last_name", "Turing"},
                        {"email", "alan@example.com"},
                        {"addresses", {{{"city", "Manchester"}, {"country", "GB"}}}}})["id"]
                        .get<std::int64_t>();
  EXPECT_EQ(ids_of("/v1/contacts?email=grace@navy.mil"), std::vector<std::int64_t>{grace})
      << "a secondary email finds the contact";
  EXPECT_EQ(ids_of("/v1/contacts?email[contains]=NAVY"), std::vector<std::int64_t>{grace});
  EXPECT_EQ(ids_of("/v1/contacts?phone=%2B1%20202%20555%200101"), std::vector<std::int64_t>{grace});
  EXPECT_EQ(ids_of("/v1/contacts?city=Arlington"), std::vector<std::int64_t>{grace});
  EXPECT_EQ(ids_of("/v1/contacts?city[starts_with]=man"), std::vector<std::int64_t>{alan});
  EXPECT_EQ(ids_of("/v1/contacts?country=gb"), std::vector<std::int64_t>{alan});
  EXPECT_EQ(ids_of("/v1/contacts?country[in]=US,GB&sort=id"),
            (std::vector<std::int64_t>{grace, alan}));
  EXPECT_EQ(ok("GET", "/v1/contacts?country=US&count=true")["total"], 1);
  const auto acme = ok("POST", "/v1/companies",
                       {{"name", "Acme"}, {"emails", {{{"value", "sales@acme.example"}}}}})["id"]
                        .get<std::int64_t>();
  EXPECT_EQ(ids_of("/v1/companies?email=sales@acme.example"), std::vector<std::int64_t>{acme});
  refused("GET", "/v1/contacts?emails=x", nullptr, 422, "validation", "emails");
  refused("GET", "/v1/contacts?sort=addresses", nullptr, 422, "validation", "sort");
  refused("GET", "/v1/deals?city=Berlin", nullptr, 422, "validation", "city");
}

TEST_P(ServerWritesTest, BadContactPointsAreRefusedByNameAndChangeNothing) {
  auto with = [](const char* member, json value) {
    json body = {{"last_name", "X"}};
    body[member] = std::move(value);
    return body;
  };
  const std::pair<json, std::string> cases[] = {
      {with("emails", "a@example.com"), "emails"},
      {with("emails", {{{"value", "not an email"}}}), "emails[0].value"},
      {with("emails", {{{"label", "work"}}}), "emails[0].value"},
      {with("emails", {{{"value", "a@example.com"}, {"kind", "work"}}}), "emails[0].kind"},
      {with("emails", {{{"value", "a@example.com"}, {"primary", "yes"}}}), "emails[0].primary"},
      {with("emails", {{{"value", "a@example.com"}, {"primary", true}},
                       {{"value", "b@example.com"}, {"primary", true}}}),
       "emails[1].primary"},
      {with("phones", {{{"value", ""}}}), "phones[0].value"},
      {with("addresses", {{{"city", "Berlin"}, {"country", "Germany"}}}), "addresses[0].country"},
      {with("addresses", {{{"kind", "home"}, {"city", "Berlin"}}}), "addresses[0].kind"},
      {with("addresses", {{{"label", "empty"}}}), "addresses[0]"},
      {with("addresses", {{{"city", 7}}}), "addresses[0].city"},
  };
  for (const auto& [body, field] : cases)
    refused("POST", "/v1/contacts", body, 422, "validation", field);
  json conflicting = kGrace;
  conflicting["email"] = "someone@else.example";
  refused("POST", "/v1/contacts", conflicting, 422, "validation", "email");
}

TEST_P(ServerWritesTest, EmailsAndPhonesAreMaskedAddressesAreNotAndTheDocumentSaysSo) {
  const json grace = ok("POST", "/v1/contacts", kGrace);
  const auto reader = as(key_for("reader@example.com", {"read_only"}));
  const json seen = ok("GET", "/v1/contacts/" + grace["id"].dump(), nullptr, 200, reader);
  EXPECT_TRUE(seen["email"].is_null());
  EXPECT_EQ(seen["emails"], json::array());
  EXPECT_EQ(seen["phones"], json::array());
  EXPECT_EQ(seen["addresses"], grace["addresses"]);
  const auto r = call("GET", "/v1/contacts?email=grace@navy.mil", nullptr, reader);
  expect_problem(r, 403, "permission_denied");
  EXPECT_EQ(ok("GET", "/v1/contacts?city=Arlington", nullptr, 200, reader)["items"].size(), 1u);

  const json doc = ok("GET", "/openapi.json");
  const json& contact = doc["components"]["schemas"]["Contact"]["properties"];
  EXPECT_EQ(contact["emails"]["type"], "array");
  EXPECT_EQ(contact["addresses"]["items"]["properties"]["kind"]["enum"],
            json({"billing", "shipping", "mailing", "other"}));
  EXPECT_NE(doc["paths"]["/v1/contacts"]["get"]["description"].get<std::string>().find("city"),
            std::string::npos);
}

}  // namespace
}  // namespace banyan::test
