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

// A server without the rate limits: one request per documented path is more than a
// second's budget of writes.
class ServerDispatchTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--rate-reads", "off", "--rate-writes", "off"};
  }
};
BANYAN_ON_BOTH_BACKENDS(ServerDispatchTest);

// Dispatch and /openapi.json come from one route table: every documented path answers a
// method it does not document with 405 and an Allow header naming exactly the documented ones.
TEST_P(ServerDispatchTest, EveryDocumentedPathAllowsExactlyItsDocumentedMethods) {
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

TEST_P(ServerTest, EveryLineTheServerWritesIsJsonWithTimeLevelHostAndEvent) {
  HttpClient raw(port_);
  EXPECT_EQ(raw.raw("GET /v1/contacts HTTP/1.1\r\nHost: x\r\nX-Request-Id: last-1\r\n\r\n").status,
            401);
  ASSERT_TRUE(server_->wait_for_output("last-1", 5s)) << server_->output();
  std::istringstream lines(server_->output());
  std::set<std::string> events;
  for (std::string line; std::getline(lines, line);) {
    const json entry = json::parse(line);  // throws, failing the test, if the line is not JSON
    EXPECT_EQ(entry["host"], "banyan-server") << line;
    EXPECT_TRUE(entry["time"].is_string()) << line;
    EXPECT_TRUE(entry["level"] == "info" || entry["level"] == "warning" ||
                entry["level"] == "error")
        << line;
    events.insert(entry["event"].get<std::string>());
  }
  EXPECT_TRUE(events.count("listening")) << server_->output();
  EXPECT_TRUE(events.count("request")) << server_->output();
}

}  // namespace
}  // namespace banyan::test
