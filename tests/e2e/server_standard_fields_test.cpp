// A standard field added through its descriptor line alone (banyan/model/fields.hpp):
// a lead's job title, over HTTP on both backends (the fixture: server_writes_fixture.hpp;
// its instantiation: server_writes_test.cpp).
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

TEST_P(ServerWritesTest, ALeadTitleIsWrittenReadFilteredSortedDocumentedAndConverted) {
  const json ada = ok("POST", "/v1/leads",
                      {{"first_name", "Ada"},
                       {"last_name", "Lovelace"},
                       {"title", "CTO"},
                       {"company_name", "Analytical Engines"}});
  EXPECT_EQ(ada["title"], "CTO");
  const json grace = ok("POST", "/v1/leads", {{"last_name", "Hopper"}, {"title", "Admiral"}});
  const std::string path = "/v1/leads/" + ada["id"].dump();
  EXPECT_EQ(ok("GET", path)["title"], "CTO");
  const auto a = ada["id"].get<std::int64_t>(), g = grace["id"].get<std::int64_t>();
  EXPECT_EQ(ids_of("/v1/leads?title=CTO"), std::vector<std::int64_t>{a});
  EXPECT_EQ(ids_of("/v1/leads?title[starts_with]=Adm"), std::vector<std::int64_t>{g});
  EXPECT_EQ(ids_of("/v1/leads?sort=title"), (std::vector<std::int64_t>{g, a}));
  EXPECT_EQ(ids_of("/v1/leads?sort=-title"), (std::vector<std::int64_t>{a, g}));
  EXPECT_EQ(ok("GET", "/v1/leads?fields=title")["items"][0].size(), 2u);  // id and title

  // Its bad values are refused by name, by the checks every text gets.
  refused("POST", "/v1/leads", {{"last_name", "X"}, {"title", 12}}, 422, "validation", "title");
  refused("POST", "/v1/leads", {{"last_name", "X"}, {"title", std::string(256, 'x')}}, 422,
          "validation", "title");
  refused("PATCH", path, {{"title", std::string("a\0b", 3)}}, 422, "validation", "title");

  // A patch names it; null clears it.
  EXPECT_TRUE(ok("PATCH", path, {{"title", nullptr}})["title"].is_null());
  EXPECT_EQ(ok("PATCH", path, {{"title", "Countess"}})["title"], "Countess");

  // The audit trail keeps its changes.
  const json history = ok("GET", path + "/history?field=title")["items"];
  ASSERT_EQ(history.size(), 3u) << history.dump();  // CTO, cleared, Countess
  EXPECT_EQ(history[2]["after"], "Countess");

  // A merge takes it from a duplicate when told to, and fills it when blank.
  const json twin =
      ok("POST", "/v1/leads", {{"last_name", "Lovelace"}, {"title", "Countess of Lovelace"}});
  const json merged = ok("POST", path + "/merge",
                         {{"losers", {twin["id"]}}, {"winners", {{"title", twin["id"]}}}}, 200);
  EXPECT_EQ(merged["survivor"]["title"], "Countess of Lovelace");
  const json blank = ok("POST", "/v1/leads", {{"last_name", "Hopper"}});
  const json filled =
      ok("POST", "/v1/leads/" + blank["id"].dump() + "/merge", {{"losers", {grace["id"]}}}, 200);
  EXPECT_EQ(filled["survivor"]["title"], "Admiral");

  // The OpenAPI document has it, from the same line.
  const json doc = ok("GET", "/openapi.json");
  EXPECT_EQ(doc["components"]["schemas"]["Lead"]["properties"]["title"]["type"],
            json({"string", "null"}));
  EXPECT_TRUE(doc["components"]["schemas"]["LeadInput"]["properties"].contains("title"));

  // Conversion gives it to the contact.
  const json done = ok("POST", path + "/convert", json::object(), 200);
  EXPECT_EQ(done["contact"]["title"], "Countess of Lovelace");
}

}  // namespace
}  // namespace banyan::test
