// banyan-server's rate limits and anomaly signals over real HTTP: 429 with Retry-After
// and RateLimit headers per principal and route class, failed authentications throttled
// per address and logged, and denied bursts, mass deletion and mass export counted in
// /metrics and logged.
#include <algorithm>
#include <chrono>
#include <regex>

#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

// Low limits, so a test reaches them in a few requests.
class ServerLimitsTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--rate-reads", "5/1m,5", "--rate-bulk", "2/1m,2", "--rate-auth-failures", "3/1m,3"};
  }
};
BANYAN_ON_BOTH_BACKENDS(ServerLimitsTest);

TEST_P(ServerLimitsTest, ReadsPastThePrincipalsLimitGet429WithRetryAfterAndRateLimitHeaders) {
  for (int i = 0; i < 5; ++i) {
    const auto r = call("GET", "/v1/contacts");
    ASSERT_EQ(r.status, 200) << i << r.body;
    EXPECT_EQ(
        r.header("ratelimit").rfind("limit=5, remaining=" + std::to_string(4 - i) + ", reset=", 0),
        0u)
        << r.header("ratelimit");
    EXPECT_FALSE(r.header("ratelimit-policy").empty());
  }
  const auto refused = call("GET", "/v1/contacts");
  expect_problem(refused, 429, "rate_limited");
  EXPECT_GE(std::stoi(refused.header("retry-after")), 1);
  EXPECT_LE(std::stoi(refused.header("retry-after")), 12)
      << "one more read every 12 s at 5 a minute";
  EXPECT_EQ(refused.header("ratelimit").rfind("limit=5, remaining=0, reset=", 0), 0u)
      << refused.header("ratelimit");
  // Writes are another class; another principal has its own budget.
  EXPECT_EQ(call("POST", "/v1/contacts", {{"first_name", "Still"}, {"last_name", "Writes"}}).status,
            201);
  const std::string other = key_for("other@example.com", {"read_only"});
  EXPECT_EQ(call("GET", "/v1/contacts", nullptr, {{"Authorization", "Bearer " + other}}).status,
            200);
  // Bulk routes have their own, smaller budget.
  const json batch = {{"items", {{{"first_name", "B"}, {"last_name", "Atch"}}}}};
  EXPECT_EQ(call("POST", "/v1/contacts/batch", batch).status, 201);
  EXPECT_EQ(call("POST", "/v1/contacts/batch", batch).status, 201);
  const auto bulk = call("POST", "/v1/contacts/batch", batch);
  expect_problem(bulk, 429, "rate_limited");
  EXPECT_EQ(std::stoll(scratch().raw("SELECT COUNT(*) FROM contacts")), 3)
      << "the refused batch wrote nothing";
}

TEST_P(ServerLimitsTest, RepeatedAuthenticationFailuresFromOneAddressAreThrottledAndLogged) {
  for (int i = 0; i < 3; ++i)
    expect_problem(call("GET", "/v1/contacts", nullptr, {{"Authorization", "Bearer wrong"}}), 401,
                   "invalid_token");
  // The budget is spent: the address is refused, even with a good key, until it recovers.
  const auto r = call("GET", "/v1/contacts");
  expect_problem(r, 429, "rate_limited");
  EXPECT_GE(std::stoi(r.header("retry-after")), 1);
  EXPECT_EQ(call("GET", "/healthz").status, 200) << "the health checks stay open";
  EXPECT_TRUE(
      server_->wait_for_output(R"("event":"authentication_failures","remote":"127.0.0.1")", 5s))
      << server_->output();
}

// Default limits: the anomaly thresholds are what this exercises.
class ServerAnomalyTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--rate-writes", "1000/1s,1000"};
  }
  // The value of one series in /metrics.
  std::int64_t metric(const std::string& series) {
    const auto r = call("GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    const std::regex line(
        "(^|\n)" + std::regex_replace(series, std::regex(R"([{}\[\]()|.*+?^$\\])"), R"(\$&)") +
        " ([0-9]+)");
    std::smatch m;
    return std::regex_search(r.body, m, line) ? std::stoll(m[2]) : -1;
  }
};
BANYAN_ON_BOTH_BACKENDS(ServerAnomalyTest);

TEST_P(ServerAnomalyTest, DeniedBurstsMassDeletionAndFailedAuthenticationAreCountedAndLogged) {
  EXPECT_EQ(metric(R"(banyan_anomalies_total{kind="denied_burst"})"), 0);
  const std::string reader = key_for("reader@example.com", {"read_only"});
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(call("POST", "/v1/contacts", {{"first_name", "No"}},
                   {{"Authorization", "Bearer " + reader}})
                  .status,
              403);
  }
  EXPECT_EQ(metric("banyan_access_denied_total"), 25);
  EXPECT_EQ(metric(R"(banyan_anomalies_total{kind="denied_burst"})"), 5)
      << "each denial past 20 in a minute";
  EXPECT_TRUE(
      server_->wait_for_output(R"("event":"denied_burst","principal":"reader@example.com")", 5s));

  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 120; ++i)
      stores(db()).contacts().create(uow, contact("Bulk", "Delete" + std::to_string(i)));
  });
  const auto ids = db().read([&](store::UnitOfWork& uow) {
    store::PageRequest all;
    all.limit = 1000;
    std::vector<Id> out;
    for (const auto& c : stores(db()).contacts().query(uow, all).items) out.push_back(c.id);
    return out;
  });
  const auto started = std::chrono::steady_clock::now();
  for (Id id : ids) ASSERT_EQ(call("DELETE", "/v1/contacts/" + std::to_string(id)).status, 204);
  // Each deletion past 100 in a minute is one: 20 of these 120, less one for every 0.6 s
  // the deletions took (the budget refills at 100 a minute; a loaded machine is slow).
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto flagged = metric(R"(banyan_anomalies_total{kind="mass_deletion"})");
  EXPECT_LE(flagged, 20) << "never the first 100";
  EXPECT_GE(flagged, std::max<std::int64_t>(1, 20 - static_cast<std::int64_t>(took / 0.6) - 1))
      << took << " s";
  EXPECT_TRUE(
      server_->wait_for_output(R"("event":"mass_deletion","principal":"admin@example.com")", 5s));

  call("GET", "/v1/contacts", nullptr, {{"Authorization", ""}});
  call("GET", "/v1/contacts", nullptr, {{"Authorization", "Bearer forged"}});
  EXPECT_EQ(metric(R"(banyan_auth_failures_total{reason="missing"})"), 1);
  EXPECT_EQ(metric(R"(banyan_auth_failures_total{reason="invalid"})"), 1);
}

}  // namespace
}  // namespace banyan::test
