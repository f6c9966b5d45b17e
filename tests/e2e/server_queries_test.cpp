// Queries over HTTP on both backends: full-text search as the caller may see it, list
// totals, field selection by name, case-insensitive contains.
#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

class ServerQueriesTest : public ServerWritesTest {
 protected:
  // The titles of the hits of a search, in order.
  std::vector<std::string> titles(const std::string& query,
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::vector<std::string> out;
    const json page = ok("GET", "/v1/search?" + query, nullptr, 200, std::move(headers));
    for (const auto& hit : page["items"]) out.push_back(hit["title"].get<std::string>());
    return out;
  }
};

using Titles = std::vector<std::string>;

TEST_P(ServerQueriesTest, SearchFindsOnlyWhatTheCallerMayReadAndNeverByAHiddenEmail) {
  const json ada = ok(
      "POST", "/v1/contacts",
      {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"email", "countess.secret@example.com"}});
  ok("POST", "/v1/companies", {{"name", "Analytical Engines"}, {"domain", "engines.example"}});

  // The administrator finds by name, by prefix, by email, and across types.
  const json hits = ok("GET", "/v1/search?q=lovel", nullptr, 200)["items"];
  ASSERT_EQ(hits.size(), 1u) << hits.dump();
  EXPECT_EQ(hits[0]["type"], "contact");
  EXPECT_EQ(hits[0]["id"], ada["id"]);
  EXPECT_EQ(hits[0]["path"], "/v1/contacts/" + ada["id"].dump());
  EXPECT_EQ(titles("q=countess"), Titles{"Ada Lovelace"});
  EXPECT_EQ(titles("q=analytical&types=companies"), Titles{"Analytical Engines"});
  EXPECT_TRUE(titles("q=analytical&types=contacts").empty());

  // A reader without read_sensitive finds Ada by her name, never by her email.
  const std::string reader = key_for("reader@example.com", {"read_only"});
  EXPECT_EQ(titles("q=lovelace", as(reader)), Titles{"Ada Lovelace"});
  EXPECT_TRUE(titles("q=countess", as(reader)).empty());
  EXPECT_TRUE(titles("q=ada+countess", as(reader)).empty());

  // A sales rep in no team reads only its own records.
  const std::string rep = key_for("rep@example.com", {"sales_rep"});
  EXPECT_TRUE(titles("q=lovelace", as(rep)).empty());
  ok("POST", "/v1/contacts", {{"first_name", "Adam"}, {"last_name", "Lovelace"}}, 201, as(rep));
  EXPECT_EQ(titles("q=lovelace", as(rep)), Titles{"Adam Lovelace"});
  EXPECT_EQ(titles("q=lovelace").size(), 2u);

  // Refusals: no words, a type that is not searchable or not a collection, a type the
  // caller may not read, a principal that reads nothing, an unknown parameter.
  refused("GET", "/v1/search", nullptr, 422, "validation", "q");
  refused("GET", "/v1/search?q=ada&types=users", nullptr, 422, "validation", "types");
  refused("GET", "/v1/search?q=ada&types=nope", nullptr, 422, "validation", "types");
  refused("GET", "/v1/search?q=ada&limit=0", nullptr, 422, "validation", "limit");
  refused("GET", "/v1/search?q=ada&sort=title", nullptr, 422, "validation", "sort");
  const std::string nobody = key_for("nobody@example.com", {});
  expect_problem(call("GET", "/v1/search?q=ada", nullptr, as(nobody)), 403, "permission_denied");
}

TEST_P(ServerQueriesTest, ListsCountTheirTotalSelectFieldsByNameAndContainsIgnoresCase) {
  define({{"object_type", "contact"}, {"name", "tier"}, {"type", "text"}});
  define({{"object_type", "contact"}, {"name", "region"}, {"type", "text"}});
  ok("POST", "/v1/contacts",
     {{"first_name", "Ada"},
      {"last_name", "Lovelace"},
      {"custom", {{"tier", "gold"}, {"region", "emea"}}}});
  ok("POST", "/v1/contacts", {{"first_name", "Émile"}, {"last_name", "Zola"}});
  ok("POST", "/v1/contacts", {{"first_name", "Charles"}, {"last_name", "Babbage"}});

  // A total beside the page, for the same filter.
  const json page = ok("GET", "/v1/contacts?count=true&limit=1");
  EXPECT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["total"], 3);
  EXPECT_EQ(ok("GET", "/v1/contacts?count=true&last_name[contains]=a")["total"], 3);
  EXPECT_FALSE(ok("GET", "/v1/contacts").contains("total"));
  refused("GET", "/v1/contacts?count=yes", nullptr, 422, "validation", "count");

  // contains and starts_with ignore case; eq does not.
  const json ada = ok("GET", "/v1/contacts?first_name[contains]=ada&count=true");
  EXPECT_EQ(ada["total"], 1);
  EXPECT_EQ(ada["items"][0]["last_name"], "Lovelace");
  EXPECT_EQ(ok("GET", "/v1/contacts?first_name[starts_with]=%C3%A9m")["items"][0]["last_name"],
            "Zola");
  EXPECT_EQ(ok("GET", "/v1/contacts?first_name=ada")["items"].size(), 0u);

  // fields: standard names, custom.<name>, custom; anything else is a 422.
  const json picked = ok("GET", "/v1/contacts?last_name=Lovelace&fields=last_name,custom.tier");
  EXPECT_EQ(picked["items"][0], json({{"id", picked["items"][0]["id"]},
                                      {"last_name", "Lovelace"},
                                      {"custom", {{"tier", "gold"}}}}));
  const std::string one = "/v1/contacts/" + picked["items"][0]["id"].dump();
  EXPECT_EQ(ok("GET", one + "?fields=custom")["custom"],
            json({{"tier", "gold"}, {"region", "emea"}}));
  refused("GET", "/v1/contacts?fields=last_name,nickname", nullptr, 422, "validation", "fields");
  refused("GET", "/v1/contacts?fields=custom.nickname", nullptr, 422, "validation", "fields");
  refused("GET", one + "?fields=nickname", nullptr, 422, "validation", "fields");
}

TEST_P(ServerQueriesTest, DealsFilterAndSortByAmountAndCurrency) {
  const Pipe p = pipeline();
  auto deal = [&](const char* title, std::int64_t minor, const char* currency) {
    ok("POST", "/v1/deals",
       {{"title", title},
        {"pipeline_id", p.pipeline["id"]},
        {"stage_id", p.qualify["id"]},
        {"amount", {{"minor_units", minor}, {"currency", currency}}}});
  };
  deal("Big", 15000000, "EUR");
  deal("Dollars", 5000000, "USD");
  deal("Small", 2000000, "EUR");
  auto titles_of = [&](const std::string& query) {
    std::vector<std::string> out;
    const json page = ok("GET", "/v1/deals?" + query);
    for (const auto& d : page["items"]) out.push_back(d["title"].get<std::string>());
    return out;
  };
  EXPECT_EQ(titles_of("amount[gt]=10000000"), Titles{"Big"});
  EXPECT_EQ(titles_of("amount.minor_units[le]=5000000&sort=amount"), (Titles{"Small", "Dollars"}));
  EXPECT_EQ(titles_of("amount.currency=EUR&sort=-amount"), (Titles{"Big", "Small"}));
  EXPECT_EQ(titles_of("sort=amount.currency&amount[ge]=5000000"), (Titles{"Big", "Dollars"}));
  refused("GET", "/v1/deals?amount[gt]=lots", nullptr, 422, "validation", "amount");
  refused("GET", "/v1/contacts?amount[gt]=1", nullptr, 422, "validation", "amount");

  // Several keys: currency ascending, then amount descending; pages of one follow them.
  deal("Tiny", 100, "USD");
  const Titles by_currency_then_amount{"Big", "Small", "Dollars", "Tiny"};
  EXPECT_EQ(titles_of("sort=amount.currency,-amount"), by_currency_then_amount);
  Titles paged;
  const std::string first = "/v1/deals?sort=amount.currency,-amount&limit=1";
  std::string target = first;
  for (int page = 0; page < 10; ++page) {
    const json body = ok("GET", target);
    for (const auto& d : body["items"]) paged.push_back(d["title"].get<std::string>());
    if (body["next"].is_null()) break;
    target = first + "&cursor=" + body["next"].get<std::string>();
  }
  EXPECT_EQ(paged, by_currency_then_amount);
  refused("GET", "/v1/deals?sort=title,-title", nullptr, 422, "validation", "sort");
  refused("GET", "/v1/deals?sort=title,-", nullptr, 422, "validation", "sort");
  refused("GET", "/v1/deals?sort=,", nullptr, 422, "validation", "sort");
  refused("GET", "/v1/deals?sort=title,probability,currency,id,amount", nullptr, 422, "validation",
          "sort");
}

BANYAN_ON_BOTH_BACKENDS(ServerQueriesTest);

}  // namespace
}  // namespace banyan::test
