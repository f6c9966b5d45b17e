// Fault tests with real processes: workers and relays killed with SIGKILL mid-work, then
// restarted; three workers sharing one MariaDB database; the dead-letter CLI. Effects are
// counted exactly: one activity per contact.created event, never two.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "billing_stub.hpp"
#include "child_process.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 120s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class WorkerFaultTest : public StoreTest {
 protected:
  std::unique_ptr<ChildProcess> worker(std::vector<std::string> flags,
                                       const char* binary = BANYAN_FAULT_WORKER) {
    std::vector<std::string> argv{binary, "--database",     scratch().url(), "--relay-lease",
                                  "1s",   "--bus-key-file", bus_keys()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = std::make_unique<ChildProcess>(argv);
    // Fails the test at once (gtest reports the exception) rather than waiting on a
    // worker that never ran.
    if (!p->wait_for_output("banyan-worker: running"))
      throw std::runtime_error("the worker did not start:\n" + p->output());
    return p;
  }
  // The deployment's bus key file (its tcp:// endpoints speak CURVE), one per test.
  const std::string& bus_keys() {
    if (bus_keys_.empty()) {
      bus_keys_ = ::testing::TempDir() + "banyan-bus-keys-" + std::to_string(::getpid());
      std::ofstream(bus_keys_) << messaging::CurveKeys::generate();
    }
    return bus_keys_;
  }
  std::string bus_keys_;
  void TearDown() override {
    if (!bus_keys_.empty()) std::remove(bus_keys_.c_str());
    StoreTest::TearDown();
  }
  // Writes `n` contacts in transactions of 100.
  void write_contacts(int n, int first = 0) {
    for (int done = 0; done < n; done += 100) {
      db().transact([&](store::UnitOfWork& uow) {
        for (int i = done; i < std::min(n, done + 100); ++i)
          stores(db()).contacts().create(uow, contact("F", "n" + std::to_string(first + i)));
      });
    }
  }
  std::int64_t count(const std::string& sql) { return std::stoll(scratch().raw(sql)); }
  std::int64_t effects() { return count("SELECT COUNT(*) FROM activities"); }
  // Every contact.created has exactly one effect, and nothing is left in the queue.
  void expect_exactly_once(std::int64_t n) {
    ASSERT_TRUE(eventually([&] {
      return effects() >= n && count("SELECT COUNT(*) FROM queue_messages") == 0;
    })) << "effects "
        << effects() << " of " << n;
    EXPECT_EQ(effects(), n);
    EXPECT_EQ(count("SELECT COUNT(DISTINCT subject) FROM activities"), n);
    EXPECT_EQ(count("SELECT COUNT(*) FROM processed_messages WHERE consumer = 'effects'"), n);
    EXPECT_EQ(
        count("SELECT COUNT(*) FROM activities a JOIN outbox_events e ON e.event_id = a.subject "
              "WHERE e.event_type = 'contact.created'"),
        n);
    EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters WHERE replayed_at = 0"), 0);
  }
};
BANYAN_ON_BOTH_BACKENDS(WorkerFaultTest);

TEST_P(WorkerFaultTest, AWorkerKilledMidBatchLosesNothingAndAppliesEachEffectOnce) {
  write_contacts(3000);
  auto w = worker({"--lease", "1s", "--prefetch", "100", "--handler-delay-us", "300"});
  ASSERT_TRUE(eventually([&] { return effects() >= 400; }));
  w->signal(SIGKILL);
  EXPECT_EQ(w->wait(), 128 + SIGKILL);
  const auto before_restart = effects();
  EXPECT_LT(before_restart, 3000) << "the worker finished before it was killed";
  auto again = worker({"--lease", "1s", "--prefetch", "100"});
  expect_exactly_once(3000);
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait(), 0) << again->output();
}

TEST_P(WorkerFaultTest, ARelayKilledMidPublishLosesNothing) {
  const std::vector<std::string> relay_flags{
      "--no-consume",       "--node",           "relay", "--work-endpoint", "tcp://127.0.0.1:*",
      "--publish-endpoint", "tcp://127.0.0.1:*"};
  auto relay = worker(relay_flags);
  auto consumer = worker({"--no-relay", "--node", "consumer", "--lease", "1s"});
  // Events keep coming while the relay dies, and a third of them only after: the kill
  // lands mid-stream however fast the relay keeps up (it once relayed all 3,000 before the
  // test's poll saw 300, and the test failed).
  std::atomic<bool> killed{false};
  std::thread writer([&] {
    write_contacts(2000);
    while (!killed) std::this_thread::sleep_for(1ms);
    write_contacts(1000, 2000);
  });
  // Only the contacts' events: the consumer's notes add activity events of their own,
  // which the relay may have relayed too before it died.
  const std::string relayed_contacts =
      "SELECT COUNT(*) FROM outbox_events WHERE relayed_at IS NOT NULL AND event_type = "
      "'contact.created'";
  const bool mid = eventually([&] { return count(relayed_contacts) >= 300; });
  relay->signal(SIGKILL);
  EXPECT_EQ(relay->wait(), 128 + SIGKILL);
  killed = true;
  writer.join();
  ASSERT_TRUE(mid);
  EXPECT_LE(count(relayed_contacts), 2000) << "the relay relayed after it was killed";
  auto restarted = worker(relay_flags);
  expect_exactly_once(3000);
  for (auto* p : {restarted.get(), consumer.get()}) {
    p->signal(SIGTERM);
    EXPECT_EQ(p->wait(), 0) << p->output();
  }
}

TEST_P(WorkerFaultTest, ThreeWorkersShareTenThousandMessagesWithEachAppliedOnce) {
  if (GetParam() != Backend::kMariaDb) GTEST_SKIP() << "several workers share a MySQL database";
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (const char* node : {"w1", "w2", "w3"}) {
    workers.push_back(worker({"--node", node, "--work-endpoint", "tcp://127.0.0.1:*",
                              "--publish-endpoint", "tcp://127.0.0.1:*", "--prefetch", "32"}));
  }
  write_contacts(10000);
  expect_exactly_once(10000);
  long applied = 0;
  int busy = 0;
  for (auto& w : workers) {
    w->signal(SIGTERM);
    EXPECT_EQ(w->wait(), 0) << w->output();
    const auto out = w->output();
    const auto at = out.find("applied ");
    ASSERT_NE(at, std::string::npos) << out;
    const long n = std::stol(out.substr(at + 8));
    applied += n;
    busy += n > 0 ? 1 : 0;
  }
  EXPECT_EQ(applied, 10000);
  EXPECT_GE(busy, 2) << "the work was not shared";
}

TEST_P(WorkerFaultTest, TheDlqCliListsShowsReplaysAndPurgesWhatAFailingHandlerLeft) {
  auto broken = worker({"--always-fail", "--max-attempts", "3"});
  write_contacts(5);
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM dead_letters") == 5; }));
  broken->signal(SIGTERM);
  EXPECT_EQ(broken->wait(), 0);
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{BANYAN_CLI, "--database", scratch().url(), "dlq"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  auto list = cli({"list", "--queue", "effects"});
  EXPECT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("5 entries"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("the handler is broken"), std::string::npos);
  EXPECT_NE(
      cli({"list", "--error", "broken", "--type", "contact.created"}).output.find("5 entries"),
      std::string::npos);
  EXPECT_NE(cli({"list", "--older-than", "1h"}).output.find("0 entries"), std::string::npos);
  const auto id = std::to_string(std::stoll(scratch().raw("SELECT MIN(id) FROM dead_letters")));
  auto show = cli({"show", id});
  EXPECT_EQ(show.status, 0);
  EXPECT_NE(show.output.find("attempts:       3"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("contact.created"), std::string::npos);
  EXPECT_NE(show.output.find("\"last_name\""), std::string::npos);
  EXPECT_NE(cli({"stats"}).output.find("effects"), std::string::npos);

  // Bad requests: a clear error, nothing changed.
  auto missing = cli({"show", "999999"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("not_found"), std::string::npos);
  EXPECT_EQ(cli({"purge"}).status, 2);
  EXPECT_EQ(cli({"replay", id, "--queue", "effects"}).status, 2);
  EXPECT_EQ(cli({"list", "--older-than", "soon"}).status, 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters WHERE replayed_at = 0"), 5);

  // The handler is fixed: replay drains the dead letters into effects.
  auto fixed = worker({"--max-attempts", "3"});
  auto replay = cli({"replay", "--queue", "effects"});
  EXPECT_NE(replay.output.find("replayed 5 entries"), std::string::npos) << replay.output;
  expect_exactly_once(5);
  EXPECT_NE(cli({"list"}).output.find("0 entries"), std::string::npos);
  EXPECT_NE(cli({"list", "--replayed"}).output.find("5 entries"), std::string::npos);
  EXPECT_NE(cli({"purge", "--all", "--replayed"}).output.find("purged 5 entries"),
            std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
  fixed->signal(SIGTERM);
  EXPECT_EQ(fixed->wait(), 0);
}

// SIGKILL while the deal-won saga waits on billing, then restart: the saga resumes and
// completes, or compensates fully; never half.
class SagaFaultTest : public WorkerFaultTest {
 protected:
  std::optional<saga::SagaInstance> instance(Id deal) {
    return saga::SagaOrchestrator::find(db(), "deal_won", "deal-" + std::to_string(deal));
  }
  std::vector<std::string> billing_flags(const BillingStub& billing) {
    return {"--no-consume", "--billing-url", billing.url(), "--billing-timeout",
            "1s",           "--saga-lease",  "2s"};
  }
  // Kills a worker that is inside the billing step.
  void kill_during_billing(BillingStub& billing, Id& deal) {
    billing.set_mode(BillingStub::Mode::kHang);
    auto w = worker(billing_flags(billing));
    deal = won_deal("Kill me").id;
    ASSERT_TRUE(eventually([&] { return billing.posts() >= 1; }));
    w->signal(SIGKILL);
    EXPECT_EQ(w->wait(), 128 + SIGKILL);
    auto s = instance(deal);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->status, saga::SagaStatus::kRunning);
    EXPECT_EQ(s->step, 1);  // provision_billing, half way
  }
  std::int64_t deal_activities(Id deal) {
    return count("SELECT COUNT(*) FROM activity_links WHERE object_type = 'deal' AND object_id = " +
                 std::to_string(deal));
  }
};
BANYAN_ON_BOTH_BACKENDS(SagaFaultTest);

TEST_P(SagaFaultTest, AWorkerKilledMidSagaResumesAndCompletesItOnce) {
  BillingStub billing;
  Id deal = 0;
  kill_during_billing(billing, deal);
  billing.set_mode(BillingStub::Mode::kOk);
  auto again = worker(billing_flags(billing));
  ASSERT_TRUE(eventually([&] { return instance(deal)->status == saga::SagaStatus::kCompleted; }));
  EXPECT_EQ(billing.customers().size(), 1u);  // the retried POST reused its idempotency key
  EXPECT_EQ(deal_activities(deal), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM activities"), 1);
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait(), 0);
}

TEST_P(SagaFaultTest,
       AWorkerKilledMidSagaWhoseBillingThenFailsForGoodCompensatesFullyAndAReplayRunsItAgain) {
  BillingStub billing;
  Id deal = 0;
  kill_during_billing(billing, deal);
  billing.set_mode(BillingStub::Mode::kRefuse);
  auto again = worker(billing_flags(billing));
  ASSERT_TRUE(eventually([&] { return instance(deal)->status == saga::SagaStatus::kCompensated; }));
  EXPECT_TRUE(billing.customers().empty());
  EXPECT_EQ(deal_activities(deal), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tag_links l JOIN tags t ON t.id = l.tag_id WHERE t.name = "
                  "'billing-failed'"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tag_links l JOIN tags t ON t.id = l.tag_id WHERE t.name = "
                  "'onboarding'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters WHERE queue = 'saga.deal_won'"), 1);
  // Billing is fixed: replaying the dead letter runs the saga again, to the end (it used
  // to say "replayed" and drop the message as stale).
  billing.set_mode(BillingStub::Mode::kOk);
  auto replay = run_command(
      {BANYAN_CLI, "--database", scratch().url(), "dlq", "replay", "--queue", "saga.deal_won"});
  EXPECT_EQ(replay.status, 0) << replay.output;
  EXPECT_NE(replay.output.find("replayed 1 entries"), std::string::npos) << replay.output;
  ASSERT_TRUE(eventually([&] { return instance(deal)->status == saga::SagaStatus::kCompleted; }));
  EXPECT_EQ(billing.customers().size(), 1u);
  EXPECT_EQ(deal_activities(deal), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM tag_links l JOIN tags t ON t.id = l.tag_id WHERE t.name = "
                  "'billing-failed'"),
            0);
  again->signal(SIGTERM);
  EXPECT_EQ(again->wait(), 0);
}

TEST_P(WorkerFaultTest, BanyanWorkerStopsCleanlyOnSigtermAndReleasesTheRelayLease) {
  auto w = worker({}, BANYAN_WORKER);
  ASSERT_TRUE(eventually(
      [&] { return count("SELECT COUNT(*) FROM messaging_leases WHERE expires_at > 0") == 1; }));
  w->signal(SIGTERM);
  EXPECT_EQ(w->wait(), 0) << w->output();
  EXPECT_NE(w->output().find("banyan-worker: stopped"), std::string::npos);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messaging_leases WHERE expires_at > 0"), 0);
}

}  // namespace
}  // namespace banyan::test

namespace banyan::test {
namespace {

// A default banyan-server (relaying in-process, no endpoint configured) beside a default
// banyan-worker that runs the sagas, on one database: whichever holds the relay lease
// serves the other's consumers (it advertises a socket every process of the host can
// reach), so no saga waits behind a relay nobody can talk to.
class DefaultDeploymentTest : public SagaFaultTest {};
BANYAN_ON_BOTH_BACKENDS(DefaultDeploymentTest);

TEST_P(DefaultDeploymentTest, AServerHoldingTheRelayServesTheWorkersSagas) {
  ChildProcess server(
      {BANYAN_SERVER, "--listen", "127.0.0.1:0", "--database", scratch().url(), "--threads", "1"});
  ASSERT_TRUE(server.wait_for_output("listening on")) << server.output();
  // The server relays (it started first): the lease is its own.
  const std::string mine = ":" + std::to_string(server.pid()) + "@";
  ASSERT_TRUE(eventually(
      [&] {
        return scratch()
                   .raw("SELECT holder FROM messaging_leases WHERE name = 'relay'")
                   .find(mine) != std::string::npos;
      },
      20s));
  EXPECT_EQ(scratch()
                .raw("SELECT work_endpoint FROM messaging_leases WHERE name = 'relay'")
                .rfind("ipc://", 0),
            0u);
  BillingStub billing;
  ChildProcess worker(
      {BANYAN_WORKER, "--database", scratch().url(), "--billing-url", billing.url()});
  ASSERT_TRUE(worker.wait_for_output("banyan-worker: running")) << worker.output();
  std::vector<Id> deals;
  for (int i = 0; i < 5; ++i) deals.push_back(won_deal("Won " + std::to_string(i)).id);
  for (Id deal : deals)
    EXPECT_TRUE(eventually(
        [&] {
          const auto s = instance(deal);
          return s && s->status == saga::SagaStatus::kCompleted;
        },
        60s))
        << "deal " << deal << "; saga instances: "
        << scratch().raw("SELECT GROUP_CONCAT(saga || ':' || status) FROM saga_instances")
        << "\nworker:\n"
        << worker.output() << "\nserver:\n"
        << server.output();
  EXPECT_EQ(billing.customers().size(), deals.size());
  // Still the server's lease: the worker was served, not promoted.
  EXPECT_NE(scratch().raw("SELECT holder FROM messaging_leases WHERE name = 'relay'").find(mine),
            std::string::npos);
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(), 0) << worker.output();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0) << server.output();
}

}  // namespace
}  // namespace banyan::test
