// banyan-server as a real process on a free loopback port, on SQLite and on MariaDB,
// driven over real HTTP: the contacts resource, its error paths, malformed JSON and
// malformed HTTP (each a 4xx that changes nothing), timeouts and a graceful stop.
#include <signal.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

BANYAN_ON_BOTH_BACKENDS(ServerTest);

constexpr const char* kMethods[] = {"PUT", "PATCH", "DELETE", "POST", "GET"};

TEST_P(ServerTest, HealthAndReadinessAnswerWithARequestIdEchoedWhenGiven) {
  auto r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(parsed(r)["status"], "ok");
  EXPECT_EQ(r.header("x-request-id").size(), 16u);
  r = call("GET", "/readyz", nullptr, {{"X-Request-Id", "trace-42"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-request-id"), "trace-42");
  // An unusable id is replaced, not echoed.
  r = call("GET", "/readyz", nullptr, {{"X-Request-Id", "bad id\x01"}});
  EXPECT_EQ(r.header("x-request-id").size(), 16u);
  expect_problem(call("POST", "/healthz", json::object()), 405, "method_not_allowed");
  expect_problem(call("GET", "/v1/nothing"), 404, "no_route");
  // Every request was logged as one JSON line with its id.
  EXPECT_TRUE(server_->wait_for_output(R"("request_id":"trace-42")", 5s)) << server_->output();
}

// Dispatch and /openapi.json come from one route table: every documented path answers a
// method it does not document with 405 and an Allow header naming exactly the documented ones.
TEST_P(ServerTest, EveryDocumentedPathAllowsExactlyItsDocumentedMethods) {
  const json doc = parsed(call("GET", "/openapi.json"));
  std::size_t checked = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> documented;
    for (const auto& [method, op] : item.items())
      if (method != "parameters") {
        std::string upper = method;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        documented.insert(upper);
      }
    std::string target = path;
    for (std::size_t open; (open = target.find('{')) != std::string::npos;)
      target.replace(open, target.find('}') - open + 1,
                     target.substr(open + 1, 2) == "id" ? "1" : "x");
    const auto other = std::find_if(std::begin(kMethods), std::end(kMethods),
                                    [&](const char* m) { return documented.count(m) == 0; });
    ASSERT_NE(other, std::end(kMethods)) << path;
    const auto r =
        call(*other, target, *other == std::string("GET") ? json(nullptr) : json::object());
    EXPECT_EQ(r.status, 405) << *other << " " << path << ": " << r.body;
    std::set<std::string> allowed;
    std::istringstream allow(r.header("allow"));
    for (std::string m; std::getline(allow >> std::ws, m, ',');) allowed.insert(m);
    EXPECT_EQ(allowed, documented) << path;
    ++checked;
  }
  EXPECT_GT(checked, 60u);
}

TEST_P(ServerTest, AContactGoesThroughCreateReadPatchArchiveRestoreAndDelete) {
  auto r = call("POST", "/v1/contacts",
                {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"email", "ada@example.com"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = parsed(r);
  const std::string path = "/v1/contacts/" + std::to_string(created["id"].get<std::uint64_t>());
  EXPECT_EQ(r.header("location"), path);
  EXPECT_EQ(r.header("etag"), "\"1\"");
  EXPECT_EQ(created["version"], 1);
  EXPECT_EQ(created["email"], "ada@example.com");
  EXPECT_TRUE(created["archived_at"].is_null());

  r = call("GET", path);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(parsed(r), created);
  r = call("GET", path + "?fields=email");
  EXPECT_EQ(parsed(r), (json{{"id", created["id"]}, {"email", "ada@example.com"}}));

  r = call("PATCH", path, {{"title", "Countess"}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["title"], "Countess");
  EXPECT_EQ(parsed(r)["last_name"], "Lovelace");  // a patch keeps what it does not name
  EXPECT_EQ(r.header("etag"), "\"2\"");
  // A stale version is refused and changes nothing.
  expect_problem(call("PATCH", path, {{"title", "Stale"}}, {{"If-Match", "\"1\""}}), 412,
                 "stale_version");
  EXPECT_EQ(parsed(call("GET", path))["title"], "Countess");
  // Without If-Match the patch applies to the current version.
  EXPECT_EQ(call("PATCH", path, {{"phone", "+44 20 7946 0000"}}).status, 200);

  r = call("POST", path + "/archive");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(parsed(r)["archived_at"].is_null());
  EXPECT_EQ(parsed(call("GET", "/v1/contacts"))["items"].size(), 0u);
  EXPECT_EQ(parsed(call("GET", "/v1/contacts?include_archived=true"))["items"].size(), 1u);
  r = call("POST", path + "/restore");
  EXPECT_TRUE(parsed(r)["archived_at"].is_null());

  EXPECT_EQ(call("DELETE", path).status, 204);
  expect_problem(call("GET", path), 404, "not_found");
  expect_problem(call("DELETE", path), 404, "not_found");
  expect_problem(call("GET", "/v1/contacts/abc"), 404, "not_found");
  expect_problem(call("PUT", path, json::object()), 405, "method_not_allowed");
  EXPECT_EQ(contacts_in_db(), 0);
}

// Every record type has the same resource shape; each one's own fields go through it.
TEST_P(ServerTest, EveryRecordTypeIsAResourceWithItsOwnFields) {
  auto create = [&](const std::string& base, const json& body) {
    auto r = call("POST", "/v1/" + base, body);
    EXPECT_EQ(r.status, 201) << base << ": " << r.body;
    return r.status == 201 ? parsed(r) : json::object();
  };
  const json team = create("teams", {{"name", "EMEA"}});
  const json user =
      create("users", {{"email", "grace@example.com"}, {"name", "Grace"}, {"team_id", team["id"]}});
  const json tag = create("tags", {{"name", "vip"}, {"color", "#d4a017"}});
  const json company =
      create("companies", {{"name", "Acme"}, {"domain", "acme.example"}, {"employee_count", 1200}});
  const json pipeline = create("pipelines", {{"name", "New business"}});
  const json stage = create("stages", {{"pipeline_id", pipeline["id"]},
                                       {"name", "Qualify"},
                                       {"position", 1},
                                       {"win_probability", 10}});
  const json won = create("stages", {{"pipeline_id", pipeline["id"]},
                                     {"name", "Signed"},
                                     {"position", 2},
                                     {"win_probability", 100},
                                     {"kind", "won"}});
  create("stages",
         {{"pipeline_id", pipeline["id"]}, {"name", "Gone"}, {"position", 3}, {"kind", "lost"}});
  EXPECT_EQ(stage["kind"], "open") << "a stage is open unless told";
  EXPECT_EQ(won["kind"], "won");
  const json deal = create("deals", {{"title", "Fleet"},
                                     {"pipeline_id", pipeline["id"]},
                                     {"stage_id", stage["id"]},
                                     {"amount", {{"minor_units", 1200000}, {"currency", "EUR"}}},
                                     {"expected_close", "2027-03-31"},
                                     {"company_id", company["id"]},
                                     {"owner_id", user["id"]}});
  const json lead = create(
      "leads", {{"first_name", "Grace"}, {"last_name", "Brewster"}, {"status", "contacted"}});
  const json activity = create(
      "activities", {{"kind", "call"}, {"subject", "Pricing"}, {"due_at", "2027-01-02T09:30:00Z"}});
  EXPECT_EQ(user["team_id"], team["id"]);
  EXPECT_EQ(deal["amount"], (json{{"minor_units", 1200000}, {"currency", "EUR"}}));
  EXPECT_EQ(deal["expected_close"], "2027-03-31");
  EXPECT_EQ(deal["status"], "open");
  EXPECT_EQ(lead["status"], "contacted");
  EXPECT_EQ(activity["due_at"], "2027-01-02T09:30:00.000000Z");
  EXPECT_EQ(company["employee_count"], 1200);
  EXPECT_EQ(tag["color"], "#d4a017");
  // Typed filters: a date, a boolean, an enumeration, a time.
  EXPECT_EQ(parsed(call("GET", "/v1/deals?expected_close[lt]=2027-04-01"))["items"].size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/deals?expected_close[lt]=2027-03-31"))["items"].size(), 0u);
  EXPECT_EQ(parsed(call("GET", "/v1/users?active=true"))["items"].size(), 2u)
      << "the user made and the test's admin";
  EXPECT_EQ(parsed(call("GET", "/v1/leads?status=contacted"))["items"].size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/activities?due_at[ge]=2027-01-02T09:30:00Z"))["items"].size(),
            1u);
  expect_problem(call("GET", "/v1/users?active=maybe"), 422, "validation");
  expect_problem(call("GET", "/v1/deals?expected_close=someday"), 422, "validation");
  // Each type's own rules, with the field named.
  auto refused = [&](const std::string& base, const json& body, const std::string& field) {
    auto r = call("POST", "/v1/" + base, body);
    expect_problem(r, r.status == 409 ? 409 : 422, r.status == 409 ? "conflict" : "validation");
    if (r.header("content-type") == "application/problem+json") {
      EXPECT_EQ(parsed(r)["field"], field) << base << " " << r.body;
    }
  };
  refused("deals",
          {{"title", "x"},
           {"pipeline_id", pipeline["id"]},
           {"stage_id", stage["id"]},
           {"status", "maybe"}},
          "status");
  refused("deals",
          {{"title", "x"},
           {"pipeline_id", pipeline["id"]},
           {"stage_id", stage["id"]},
           {"amount", {{"minor_units", "lots"}}}},
          "amount.minor_units");
  refused("deals",
          {{"title", "x"},
           {"pipeline_id", pipeline["id"]},
           {"stage_id", stage["id"]},
           {"expected_close", "2027-02-30"}},
          "expected_close");
  refused("activities", {{"kind", "telepathy"}, {"subject", "x"}}, "kind");
  refused("activities", {{"subject", "x"}, {"due_at", "tomorrow"}}, "due_at");
  refused("users", {{"email", "grace@example.com"}, {"name", "Twin"}}, "email");  // unique
  refused("leads", {{"first_name", "A"}, {"converted_at", "2027-01-02T09:30:00Z"}}, "converted_at");
  // Patches on a few of them.
  auto r = call("PATCH", "/v1/deals/" + deal["id"].dump(), {{"status", "won"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["status"], "won");
  EXPECT_EQ(parsed(r)["stage_id"], won["id"]) << "a won deal is in the won stage";
  r = call("PATCH", "/v1/users/" + user["id"].dump(), {{"active", false}});
  EXPECT_EQ(parsed(r)["active"], false);
  // A stage still holding deals cannot be deleted.
  expect_problem(call("DELETE", "/v1/stages/" + won["id"].dump()), 409, "conflict");
}

TEST_P(ServerTest, ARetriedPostWithAnIdempotencyKeyReturnsTheFirstResultAndCreatesNothing) {
  const json body{{"first_name", "Ada"}, {"last_name", "Once"}};
  auto first = call("POST", "/v1/contacts", body, {{"Idempotency-Key", "order-7"}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto again = call("POST", "/v1/contacts", body, {{"Idempotency-Key", "order-7"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("location"), first.header("location"));
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(contacts_in_db(), 1);
  // The same key with another request is refused, and creates nothing.
  expect_problem(
      call("POST", "/v1/contacts", {{"first_name", "Eve"}}, {{"Idempotency-Key", "order-7"}}), 422,
      "idempotency_key_reused");
  expect_problem(call("POST", "/v1/contacts", body, {{"Idempotency-Key", std::string(300, 'k')}}),
                 400, "bad_request");
  // A request that failed keeps no answer: fixed, it goes through under the same key.
  expect_problem(call("POST", "/v1/contacts", {{"first_name", "A"}, {"email", "bad"}},
                      {{"Idempotency-Key", "k2"}}),
                 422, "validation");
  EXPECT_EQ(call("POST", "/v1/contacts", {{"first_name", "A"}, {"email", "bad"}},
                 {{"Idempotency-Key", "k2"}})
                .status,
            422);
  EXPECT_EQ(contacts_in_db(), 1);
  // Twins racing on one key: one record, one answer.
  std::vector<std::thread> twins;
  std::vector<HttpReply> replies(4);
  for (int i = 0; i < 4; ++i) {
    twins.emplace_back([&, i] {
      HttpClient own(port_);
      own.set_default_header("authorization", "Bearer " + admin_key_);
      replies[static_cast<std::size_t>(i)] =
          own.request("POST", "/v1/contacts", json{{"first_name", "Twin"}}.dump(),
                      {{"Idempotency-Key", "race-1"}});
    });
  }
  for (auto& t : twins) t.join();
  for (const auto& r : replies) {
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.body, replies[0].body);
  }
  EXPECT_EQ(contacts_in_db(), 2);
}

TEST_P(ServerTest,
       MetricsCountRequestsPerRouteTemplateWithLatencyAndReportPoolOutboxDeadLettersAndTableSizes) {
  ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "Ada"}}).status, 201);
  ASSERT_EQ(call("GET", "/v1/contacts/1").status, 200);
  ASSERT_EQ(call("GET", "/v1/contacts/2").status, 404);
  ASSERT_EQ(call("BREW", "/v1/contacts").status, 405);
  add_dead_letter("billing", 1);
  const auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4");
  const std::string& m = r.body;
  for (const char* line :
       {R"(banyan_http_requests_total{route="/v1/contacts",method="POST",status="201"} 1)",
        R"(banyan_http_requests_total{route="/v1/contacts/{id}",method="GET",status="200"} 1)",
        R"(banyan_http_requests_total{route="/v1/contacts/{id}",method="GET",status="404"} 1)",
        R"(banyan_http_requests_total{route="/v1/contacts",method="other",status="405"} 1)",
        R"(banyan_http_request_duration_seconds_bucket{route="/v1/contacts/{id}",le="+Inf"} 2)",
        R"(banyan_http_request_duration_seconds_count{route="/v1/contacts/{id}"} 2)",
        "# TYPE banyan_http_request_duration_seconds histogram",
        "banyan_db_pool_in_use ",
        "banyan_db_pool_acquired_total ",
        "banyan_outbox_pending ",
        R"(banyan_dlq_depth{queue="billing"} 1)",
        R"(banyan_dlq_oldest_age_seconds{queue="billing"} )",
        "# TYPE banyan_queue_depth gauge",
        "# TYPE banyan_queue_oldest_age_seconds gauge",
        R"(banyan_table_rows{table="dead_letters"} 1)",
        R"(banyan_table_rows{table="outbox_events"} )",
        R"(banyan_table_rows{table="processed_messages"} )",
        R"(banyan_table_rows{table="queue_messages"} )",
        "banyan_retention_purged_events_total 0",
        "banyan_retention_purged_claims_total 0",
        "banyan_retention_purged_dead_letters_total 0"})
    EXPECT_NE(m.find(line), std::string::npos) << line << "\n" << m;
  // Raw paths never become series of their own.
  EXPECT_EQ(m.find("/v1/contacts/1\""), std::string::npos);
}

TEST_P(ServerTest, LeadConversionMergeAndStageMovesAreEndpoints) {
  auto create = [&](const std::string& base, const json& body) {
    auto r = call("POST", "/v1/" + base, body);
    EXPECT_EQ(r.status, 201) << base << ": " << r.body;
    return parsed(r);
  };
  const json pipeline = create("pipelines", {{"name", "New"}});
  const json qualify =
      create("stages", {{"pipeline_id", pipeline["id"]}, {"name", "Qualify"}, {"position", 1}});
  const json propose =
      create("stages", {{"pipeline_id", pipeline["id"]}, {"name", "Propose"}, {"position", 2}});
  create("stages",
         {{"pipeline_id", pipeline["id"]}, {"name", "Won"}, {"position", 3}, {"kind", "won"}});
  create("stages",
         {{"pipeline_id", pipeline["id"]}, {"name", "Lost"}, {"position", 4}, {"kind", "lost"}});
  const json lead = create("leads", {{"first_name", "Grace"},
                                     {"last_name", "Brewster"},
                                     {"email", "grace@umbrella.example"},
                                     {"company_name", "Umbrella"}});
  const std::string convert = "/v1/leads/" + lead["id"].dump() + "/convert";
  // A bad deal is refused with the field named, and converts nothing.
  auto r = call(
      "POST", convert,
      {{"deal", {{"pipeline_id", pipeline["id"]}, {"stage_id", qualify["id"]}, {"colour", 1}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "deal.colour");
  r = call("POST", convert,
           {{"deal",
             {{"pipeline_id", pipeline["id"]},
              {"stage_id", qualify["id"]},
              {"amount", {{"minor_units", 500000}, {"currency", "USD"}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json done = parsed(r);
  EXPECT_FALSE(done["lead"]["converted_at"].is_null());
  EXPECT_EQ(done["contact"]["email"], "grace@umbrella.example");
  EXPECT_EQ(done["company"]["name"], "Umbrella");
  EXPECT_TRUE(done["company_created"].get<bool>());
  EXPECT_EQ(done["deal"]["stage_id"], qualify["id"]);
  expect_problem(call("POST", convert, json::object()), 409, "conflict");  // converted already
  expect_problem(call("POST", "/v1/leads/999/convert", json::object()), 404, "not_found");

  // The deal moves a stage; its history shows both entries.
  const std::string deal = "/v1/deals/" + done["deal"]["id"].dump();
  r = call("POST", deal + "/stage", {{"stage_id", propose["id"]}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["stage_id"], propose["id"]);
  expect_problem(
      call("POST", deal + "/stage", {{"stage_id", qualify["id"]}}, {{"If-Match", "\"1\""}}), 412,
      "stale_version");
  expect_problem(call("POST", deal + "/stage", {{"stage_id", "next"}}), 422, "validation");
  const json history = parsed(call("GET", deal + "/stage-history"))["items"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0]["from_stage_id"].is_null());
  EXPECT_EQ(history[1]["from_stage_id"], qualify["id"]);
  EXPECT_EQ(history[1]["to_stage_id"], propose["id"]);

  // Two contacts merge into one; the survivor keeps the email the request names.
  const json keep =
      create("contacts", {{"first_name", "Ada"}, {"last_name", "L"}, {"email", "ada@old.example"}});
  const json dup = create(
      "contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"email", "ada@new.example"}});
  r = call("POST", "/v1/contacts/" + keep["id"].dump() + "/merge",
           {{"losers", {dup["id"]}}, {"winners", {{"email", dup["id"]}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["survivor"]["email"], "ada@new.example");
  EXPECT_EQ(parsed(r)["merged"], json::array({dup["id"]}));
  EXPECT_EQ(parsed(call("GET", "/v1/contacts/" + dup["id"].dump()))["merged_into"], keep["id"]);
  expect_problem(
      call("POST", "/v1/contacts/" + keep["id"].dump() + "/merge", {{"losers", json::array()}}),
      422, "validation");
  expect_problem(call("POST", "/v1/deals/1/merge", {{"losers", {2}}}), 404, "no_route");
  expect_problem(call("GET", convert), 405, "method_not_allowed");
}

TEST_P(ServerTest, BatchCreateAndUpsertAreAllOrNothingAndNameTheBadItem) {
  auto r = call(
      "POST", "/v1/contacts/batch",
      {{"items",
        {{{"first_name", "A"}}, {{"first_name", "B"}, {"email", "bad"}}, {{"first_name", "C"}}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "items[1].email");
  EXPECT_EQ(contacts_in_db(), 0);
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back({{"first_name", "N" + std::to_string(i)}});
  expect_problem(call("POST", "/v1/contacts/batch", {{"items", many}}), 422, "validation");
  many.erase(many.begin());
  r = call("POST", "/v1/contacts/batch", {{"items", many}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parsed(r)["items"].size(), 100u);
  EXPECT_EQ(contacts_in_db(), 100);

  // Upsert by external id: created, then updated in place; a duplicate in the database
  // fails the whole call.
  r = call("POST", "/v1/companies/upsert",
           {{"items",
             {{{"external_id", "crm-1"}, {"name", "Acme"}},
              {{"external_id", "crm-2"}, {"name", "Globex"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto first = parsed(r)["items"];
  EXPECT_EQ(first[0]["outcome"], "created");
  EXPECT_EQ(parsed(r)["created"], 2);
  r = call("POST", "/v1/companies/upsert",
           {{"items", {{{"external_id", "crm-1"}, {"name", "Acme Corp"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["items"][0]["outcome"], "updated");
  EXPECT_EQ(parsed(r)["items"][0]["record"]["id"], first[0]["record"]["id"]);
  EXPECT_EQ(parsed(r)["items"][0]["record"]["name"], "Acme Corp");
  EXPECT_EQ(parsed(r)["items"][0]["record"]["version"], 2);
  r = call("POST", "/v1/companies/upsert", {{"items", {{{"name", "No key"}}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "items[0].external_id");
  r = call("POST", "/v1/users/batch",
           {{"items",
             {{{"email", "a@example.com"}, {"name", "A"}},
              {{"email", "a@example.com"}, {"name", "Twin"}}}}});
  expect_problem(r, 409, "conflict");
  EXPECT_EQ(parsed(r)["field"], "items[1].email");
  EXPECT_EQ(std::stoll(scratch().raw("SELECT COUNT(*) FROM users")), 1) << "only the test's admin";
  expect_problem(call("POST", "/v1/contacts/batch", {{"items", json::array()}}), 422, "validation");
  expect_problem(call("GET", "/v1/contacts/batch"), 405, "method_not_allowed");
}

TEST_P(ServerTest, ListsFilterOnCustomFieldsByTheirDefinedType) {
  db().transact([&](store::UnitOfWork& uow) {
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kEnum;
    tier.options = {"gold", "silver"};
    db().custom_fields().define(uow, tier);
    CustomFieldDefinition seats;
    seats.object_type = ObjectType::kContact;
    seats.name = "seats";
    seats.type = CustomFieldType::kNumber;
    db().custom_fields().define(uow, seats);
  });
  // The server rereads definitions within a second.
  HttpReply r;
  for (int i = 0; i < 100 && r.status != 201; ++i) {
    r = call("POST", "/v1/contacts",
             {{"first_name", "G"}, {"custom", {{"tier", "gold"}, {"seats", 12}}}});
    if (r.status != 201) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parsed(r)["custom"], (json{{"tier", "gold"}, {"seats", 12}}));
  ASSERT_EQ(call("POST", "/v1/contacts",
                 {{"first_name", "S"}, {"custom", {{"tier", "silver"}, {"seats", 3}}}})
                .status,
            201);
  auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    const json page = parsed(call("GET", "/v1/contacts?" + query));
    for (const auto& item : page["items"]) out.push_back(item["first_name"]);
    return out;
  };
  EXPECT_EQ(names("custom.tier=gold"), std::vector<std::string>{"G"});
  EXPECT_EQ(names("custom.seats[gt]=5"), std::vector<std::string>{"G"});
  EXPECT_EQ(names("custom.seats[le]=5&custom.tier[in]=gold,silver"), std::vector<std::string>{"S"});
  expect_problem(call("GET", "/v1/contacts?custom.seats=many"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?custom.tier=bronze"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?custom.colour=red"), 422, "validation");
  expect_problem(
      call("POST", "/v1/contacts", {{"first_name", "B"}, {"custom", {{"tier", "bronze"}}}}), 422,
      "validation");
}

TEST_P(ServerTest, CustomFieldDefinitionsAreAResourceAndTheirRulesApplyToRecords) {
  auto r = call("POST", "/v1/custom-fields",
                {{"object_type", "contact"},
                 {"name", "tier"},
                 {"type", "enum"},
                 {"options", {"gold", "silver"}},
                 {"label", "Tier"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json tier = parsed(r);
  const std::string path = "/v1/custom-fields/" + tier["id"].dump();
  EXPECT_EQ(r.header("location"), path);
  EXPECT_EQ(tier["type"], "enum");
  EXPECT_EQ(tier["options"], (json{"gold", "silver"}));
  expect_problem(call("POST", "/v1/custom-fields",
                      {{"object_type", "contact"}, {"name", "tier"}, {"type", "text"}}),
                 409, "conflict");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "contact"}, {"name", "Bad Name"}, {"type", "text"}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "name");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "planet"}, {"name", "x"}, {"type", "text"}});
  expect_problem(r, 422, "validation");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "contact"}, {"name", "x"}, {"type", "colour"}});
  expect_problem(r, 422, "validation");

  EXPECT_EQ(parsed(call("GET", "/v1/custom-fields?object_type=contact"))["items"].size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/custom-fields?object_type=deal"))["items"].size(), 0u);
  EXPECT_EQ(parsed(call("GET", path))["label"], "Tier");
  r = call("PATCH", path, {{"options", {"gold", "silver", "bronze"}}}, {{"If-Match", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["options"].size(), 3u);
  expect_problem(call("PATCH", path, {{"label", "Stale"}}, {{"If-Match", "1"}}), 412,
                 "stale_version");
  expect_problem(call("PATCH", path, {{"name", "level"}}), 422,
                 "validation");  // rename has its own call
  r = call("POST", path + "/rename", {{"name", "level"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["name"], "level");
  // Records follow the definition, also when the server learnt it from its own API.
  HttpReply made;
  for (int i = 0; i < 60 && made.status != 201; ++i) {
    made = call("POST", "/v1/contacts", {{"first_name", "A"}, {"custom", {{"level", "bronze"}}}});
    if (made.status != 201) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(made.status, 201) << made.body;
  expect_problem(
      call("POST", "/v1/contacts", {{"first_name", "B"}, {"custom", {{"level", "platinum"}}}}), 422,
      "validation");
  r = call("POST", path + "/type", {{"type", "text"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["type"], "text");
  EXPECT_EQ(call("DELETE", path).status, 204);
  expect_problem(call("GET", path), 404, "not_found");
}

TEST_P(ServerTest, AdminEndpointsListShowReplayAndPurgeDeadLettersAndReportSagas) {
  for (int i = 1; i <= 3; ++i) add_dead_letter(i == 3 ? "mail" : "billing", i);
  auto r = call("GET", "/v1/admin/dead-letters?queue=billing");
  ASSERT_EQ(r.status, 200) << r.body;
  const json items = parsed(r)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["last_error"], "billing says 503");
  EXPECT_EQ(items[0]["event"]["type"], "deal.won");
  const std::string one = "/v1/admin/dead-letters/" + items[0]["id"].dump();
  EXPECT_EQ(parsed(call("GET", one))["id"], items[0]["id"]);
  const json stats = parsed(call("GET", "/v1/admin/dead-letters/stats"))["items"];
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0]["queue"], "billing");
  EXPECT_EQ(stats[0]["depth"], 2);
  r = call("POST", one + "/replay");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      std::stoll(scratch().raw("SELECT COUNT(*) FROM queue_messages WHERE queue = 'billing'")), 1);
  expect_problem(call("POST", one + "/replay"), 409, "conflict");  // replayed already
  EXPECT_EQ(parsed(call("POST", "/v1/admin/dead-letters/replay?queue=mail"))["replayed"], 1);
  EXPECT_EQ(parsed(call("GET", "/v1/admin/dead-letters"))["items"].size(),
            1u);  // replayed ones are history
  EXPECT_EQ(call("DELETE", one).status, 204);
  expect_problem(call("GET", one), 404, "not_found");
  expect_problem(call("GET", "/v1/admin/dead-letters?colour=red"), 422, "validation");
  EXPECT_EQ(parsed(call("GET", "/v1/admin/sagas"))["items"], json::array());
  expect_problem(call("GET", "/v1/admin/sagas/999"), 404, "not_found");
  expect_problem(call("POST", "/v1/admin/sagas"), 405, "method_not_allowed");
}

// The server runs the relay and the built-in sagas in-process: a lead conversion started
// by another process (here, the test) is carried out by the server and visible in admin.
TEST_P(ServerTest, TheServerRunsTheLeadConversionSagaInProcess) {
  const json lead = parsed(
      call("POST", "/v1/leads",
           {{"first_name", "Grace"}, {"last_name", "Brewster"}, {"company_name", "Umbrella"}}));
  const auto id = db().transact([&](store::UnitOfWork& uow) {
    return saga::start_lead_conversion(uow, {lead["id"].get<Id>(), std::nullopt, std::nullopt});
  });
  json instance;
  for (int i = 0; i < 400; ++i) {
    instance = parsed(call("GET", "/v1/admin/sagas/" + std::to_string(id)));
    if (instance["status"] == "completed") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(instance["status"], "completed") << instance.dump();
  EXPECT_EQ(instance["saga"], "lead_conversion");
  const json converted = parsed(call("GET", "/v1/leads/" + lead["id"].dump()));
  EXPECT_EQ(converted["status"], "converted");
  EXPECT_FALSE(converted["converted_contact_id"].is_null());
  const json stats = parsed(call("GET", "/v1/admin/sagas"))["items"];
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["count"], 1);
}

TEST_P(ServerTest, ListsFilterSortSelectFieldsAndPageWithACursor) {
  for (const char* last : {"Hopper", "Lovelace", "Turing", "Liskov", "Knuth"})
    ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "X"}, {"last_name", last}}).status, 201);
  std::vector<std::string> names;
  std::string target = "/v1/contacts?limit=2&sort=-last_name&fields=last_name";
  for (int pages = 0; pages < 10; ++pages) {
    const json page = parsed(call("GET", target));
    EXPECT_LE(page["items"].size(), 2u);
    for (const auto& item : page["items"]) {
      EXPECT_EQ(item.size(), 2u);  // id and the field asked for
      names.push_back(item["last_name"]);
    }
    if (page["next"].is_null()) break;
    target = "/v1/contacts?limit=2&sort=-last_name&fields=last_name&cursor=" +
             page["next"].get<std::string>();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Turing", "Lovelace", "Liskov", "Knuth", "Hopper"}));
  auto items = parsed(call("GET", "/v1/contacts?last_name[starts_with]=L&sort=last_name"))["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["last_name"], "Liskov");
  items =
      parsed(call("GET", "/v1/contacts?last_name[in]=Knuth,Hopper&email[is_null]=true"))["items"];
  EXPECT_EQ(items.size(), 2u);
  items = parsed(call("GET", "/v1/contacts?id[gt]=4"))["items"];
  EXPECT_EQ(items.size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/contacts?created_at[lt]=2100-01-01T00:00:00Z"))["items"].size(),
            5u);
  // Bad parameters name what is wrong.
  expect_problem(call("GET", "/v1/contacts?limit=201"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?limit=0"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?shoe_size=9"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?id[gt]=many"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?last_name[like]=x"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?created_at[gt]=yesterday"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?sort=shoe_size"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?cursor=garbage"), 422, "validation");
}

TEST_P(ServerTest, BadBodiesGetATypedProblemAndChangeNothing) {
  ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "Keep"}, {"last_name", "Me"}}).status,
            201);
  const auto before = contacts_in_db();
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    return client_->request("POST", "/v1/contacts", body, {{"Content-Type", type}});
  };
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  const std::string deep_object = R"({"first_name":)" + deep + "}";
  for (const std::string& body :
       {std::string(R"({"first_name":"Ada")"), std::string(R"({"first_name":"Ada"} trailing)"),
        std::string(R"({"first_name":"Ada","first_name":"Eve"})"), deep_object,
        std::string(R"({"first_name":"\ud800"})"), std::string("{\"first_name\":\"\xff\xfe\"}"),
        std::string(R"({"first_name":1e999999})"), std::string("{'first_name':'Ada'}"),
        std::string("nul"), std::string(R"({"first_name":"Ada",})")}) {
    const auto r = post(body);
    EXPECT_TRUE(r.status == 400 || r.status == 422) << r.status << " for " << body;
    expect_problem(r, r.status, r.status == 400 ? "malformed_json" : "validation");
  }
  expect_problem(post(R"([1,2])"), 422, "validation");
  expect_problem(post(R"({"first_name":"Ada"})", "text/plain"), 415, "unsupported_media_type");
  expect_problem(post(R"({"first_name":")" + std::string(70000, 'x') + R"("})"), 413,
                 "body_too_large");
  // Library validation: the field is named.
  auto r = post(R"({"first_name":"Ada","email":"not an address"})");
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "email");
  r = post(R"({"first_name":"Ada","id":99})");
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "id");
  r = post(R"({"first_name":"Ada","shoe_size":9})");
  EXPECT_EQ(parsed(r)["field"], "shoe_size");
  r = post(R"({"first_name":42})");
  EXPECT_EQ(parsed(r)["field"], "first_name");
  r = post(R"({"first_name":"Ada","owner_id":-3})");
  EXPECT_EQ(parsed(r)["field"], "owner_id");
  EXPECT_EQ(contacts_in_db(), before);
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // still up
}

TEST_P(ServerTest, MalformedHttpGetsA4xxOrIsCutOffAndTheServerStaysUp) {
  HttpClient raw(port_);
  EXPECT_EQ(raw.raw("GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(raw.raw("GET / HTTP/9.9\r\n\r\n").status, 400);
  EXPECT_EQ(raw.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").status, 400);
  EXPECT_EQ(
      raw.raw("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n").status,
      431);
  EXPECT_EQ(raw.raw("POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 999999999\r\n\r\n{")
                .status,
            413);
  EXPECT_EQ(raw.raw("POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: "
                    "7\r\n\r\n{}")
                .status,
            400);
  EXPECT_EQ(raw.raw("GET /v1/contacts/%zz HTTP/1.1\r\nHost: x\r\n\r\n").status, 400);
  EXPECT_EQ(raw.raw("GET /v1/contacts?last_name=%ff HTTP/1.1\r\nHost: x\r\n\r\n").status, 400);
  // A client that trickles its request is cut off at the request deadline (2 s here).
  HttpClient slow(port_);
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {
    slow.send("X-Drip: 1\r\n");
    cut = slow.closed_by_server(200ms);
  }
  EXPECT_TRUE(cut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(contacts_in_db(), 0);
}

TEST_P(ServerTest, KeepAliveServesManyRequestsOnOneConnectionAndSigtermStopsCleanly) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(call("GET", "/healthz").status, 200);
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->wait(), 0) << server_->output();
  EXPECT_NE(server_->output().find("banyan-server: stopped"), std::string::npos);
}

TEST_P(ServerTest, SigtermStopsAcceptingButFinishesTheRequestInFlight) {
  const std::string body = R"({"first_name":"Grace","last_name":"Hopper"})";
  HttpClient in_flight(port_);
  ASSERT_TRUE(in_flight.send(
      "POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth_line() +
      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
  std::this_thread::sleep_for(300ms);  // the server holds half a request
  server_->signal(SIGTERM);
  // It stops accepting: a new connection is refused.
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    try {
      HttpClient(port_).raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200ms);
      std::this_thread::sleep_for(50ms);
    } catch (const std::runtime_error&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(server_->running());
  // The rest of the request arrives, and it is served in full before the process exits.
  ASSERT_TRUE(in_flight.send(body.substr(10)));
  const HttpReply r = in_flight.receive(10s);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_EQ(server_->wait(), 0) << server_->output();
  EXPECT_EQ(contacts_in_db(), 1);
}

TEST_P(ServerTest, TheAccessLogIsOneJsonLinePerRequestEvenForHostileTargets) {
  HttpClient raw(port_);
  EXPECT_EQ(raw.raw("GET /v1/contacts?q=\"%5C\\ HTTP/1.1\r\nHost: x\r\n" + auth_line() +
                    "X-Request-Id: hostile-1\r\n\r\n")
                .status,
            422);
  ASSERT_TRUE(server_->wait_for_output("hostile-1", 5s)) << server_->output();
  std::istringstream lines(server_->output());
  std::string line;
  bool found = false;
  while (std::getline(lines, line)) {
    if (line.find("hostile-1") == std::string::npos) continue;
    const json entry = json::parse(line);  // throws, failing the test, if the line is not JSON
    EXPECT_EQ(entry["request_id"], "hostile-1");
    EXPECT_EQ(entry["method"], "GET");
    EXPECT_EQ(entry["target"], "/v1/contacts?q=\"%5C\\");
    EXPECT_EQ(entry["status"], 422);
    EXPECT_TRUE(entry["duration_ms"].is_number());
    EXPECT_TRUE(entry["time"].is_string());
    found = true;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace banyan::test
