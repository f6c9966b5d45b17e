// Sagas on both backends: steps in order, compensation in reverse, retries, timeouts,
// dead letters, and the two sagas that ship with Banyan.
#include <condition_variable>

#include "billing_stub.hpp"
#include "messaging_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;
using saga::SagaInstance;
using saga::SagaOrchestrator;
using saga::SagaStatus;
using saga::StepContext;

class SagaTest : public MessagingTest {
 protected:
  static messaging::RetryPolicy quick(int max_attempts = 3) {
    messaging::RetryPolicy r;
    r.immediate_retries = 0;
    r.max_attempts = max_attempts;
    r.initial_delay = 10ms;
    r.max_delay = 50ms;
    return r;
  }
  // Steps that log what they do; `fail_at` names a step whose action throws `error`.
  saga::SagaDefinition recorder(std::vector<std::string>& log, std::mutex& mutex,
                                const std::string& fail_at = "", bool permanent = true) {
    saga::SagaDefinition def;
    def.name = "recorder";
    def.retry = quick();
    def.lease = 5s;
    for (const char* name : {"one", "two", "three"}) {
      saga::Step s;
      s.name = name;
      s.timeout = 2s;
      s.action = [&log, &mutex, name = std::string(name), fail_at, permanent](StepContext& ctx) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          log.push_back("do " + name);
        }
        if (name == fail_at) {
          if (permanent) throw messaging::PermanentError(name + " cannot be done");
          throw std::runtime_error(name + " is down");
        }
        ctx.data[name] = "done";
      };
      s.compensation = [&log, &mutex, name = std::string(name)](StepContext&) {
        std::lock_guard<std::mutex> lock(mutex);
        log.push_back("undo " + name);
      };
      def.steps.push_back(s);
    }
    return def;
  }
  std::uint64_t start(const std::string& saga_name, const std::string& key) {
    return db().transact([&](store::UnitOfWork& uow) {
      return SagaOrchestrator::start(uow, saga_name,
                                     {key, {ObjectType::kContact, 1}, {{"who", "test"}}});
    });
  }
  bool ends_as(std::uint64_t id, SagaStatus status) {
    return eventually([&] { return SagaOrchestrator::get(db(), id).status == status; });
  }
};
BANYAN_ON_BOTH_BACKENDS(SagaTest);

TEST_P(SagaTest, RunsEveryStepInOrderAndRecordsDataAndHistory) {
  std::vector<std::string> log;
  std::mutex mutex;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(recorder(log, mutex));
  b.start();
  const auto id = start("recorder", "k1");
  EXPECT_EQ(start("recorder", "k1"), id);  // one instance per key
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompleted));
  const SagaInstance s = SagaOrchestrator::get(db(), id);
  EXPECT_EQ(log, (std::vector<std::string>{"do one", "do two", "do three"}));
  EXPECT_EQ(s.data.at("who"), "test");
  EXPECT_EQ(s.data.at("three"), "done");
  ASSERT_EQ(s.history.size(), 3u);
  EXPECT_EQ(s.history[2].step, "three");
  EXPECT_EQ(s.history[2].what, "done");
  EXPECT_THROW(SagaOrchestrator::get(db(), 987654), NotFound);
}

TEST_P(SagaTest, AStepThatFailsForGoodCompensatesTheCompletedStepsInReverseAndIsDeadLettered) {
  std::vector<std::string> log;
  std::mutex mutex;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(recorder(log, mutex, "three", /*permanent=*/true));
  b.start();
  const auto id = start("recorder", "k2");
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompensated));
  EXPECT_EQ(log,
            (std::vector<std::string>{"do one", "do two", "do three", "undo two", "undo one"}));
  const SagaInstance s = SagaOrchestrator::get(db(), id);
  EXPECT_EQ(s.error, "three: three cannot be done");
  messaging::DeadLetterStore dlq(db());
  ASSERT_TRUE(eventually([&] { return dlq.list().size() == 1; }));
  EXPECT_EQ(dlq.list()[0].queue, "saga.recorder");
  EXPECT_EQ(dlq.list()[0].last_error, "three cannot be done");
}

TEST_P(SagaTest, TransientFailuresRetryUntilTheLastAttemptThenCompensate) {
  std::vector<std::string> log;
  std::mutex mutex;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(recorder(log, mutex, "two", /*permanent=*/false));
  b.start();
  const auto id = start("recorder", "k3");
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompensated));
  EXPECT_EQ(log, (std::vector<std::string>{"do one", "do two", "do two", "do two", "undo one"}));
  EXPECT_EQ(SagaOrchestrator::get(db(), id).history[1].attempt, 3);
}

TEST_P(SagaTest, ALocalStepPastItsTimeoutFails) {
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  saga::SagaDefinition def;
  def.name = "slow";
  def.retry = quick(1);
  def.lease = 5s;
  saga::Step s;
  s.name = "sleepy";
  s.timeout = 100ms;
  s.action = [](StepContext&) { std::this_thread::sleep_for(300ms); };
  def.steps = {s};
  o.define(def);
  b.start();
  const auto id = start("slow", "k4");
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompensated));
  EXPECT_NE(SagaOrchestrator::get(db(), id).error.find("ran past its timeout"), std::string::npos);
}

// The step below never returns until the test lets it: only giving up on it at its
// timeout lets the saga end (one consumer, so nothing else could run the compensation).
TEST_P(SagaTest, ACompensationThatFailsForGoodLeavesTheInstanceFailedUntilItsMessageIsReplayed) {
  std::atomic<bool> undo_works{false};
  std::atomic<bool> charge_works{false};
  std::atomic<int> reservations{0};
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  saga::SagaDefinition def;
  def.name = "stuck";
  def.retry = quick(2);
  def.lease = 5s;
  saga::Step first;
  first.name = "reserve";
  first.timeout = 1s;
  first.action = [&](StepContext&) { reservations.fetch_add(1); };
  first.compensation = [&](StepContext&) {
    if (!undo_works.load()) throw std::runtime_error("cannot release the reservation");
  };
  saga::Step second;
  second.name = "charge";
  second.timeout = 1s;
  second.action = [&](StepContext&) {
    if (!charge_works.load()) throw messaging::PermanentError("card declined");
  };
  def.steps = {first, second};
  o.define(def);
  b.start();
  const auto id = start("stuck", "k5");
  ASSERT_TRUE(ends_as(id, SagaStatus::kFailed));
  messaging::DeadLetterStore dlq(db(), saga::replay_guard());
  ASSERT_TRUE(eventually([&] { return dlq.list().size() == 2; }));  // the charge and the undo
  const auto charge = dlq.list({.error_contains = "card declined"}).at(0).id;
  // The charge cannot go first: the compensation it caused has not finished.
  try {
    dlq.replay(charge);
    ADD_FAILURE() << "the charge was replayed while its compensation was stuck";
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find("compensation failed"), std::string::npos) << e.what();
  }
  undo_works.store(true);
  // Everything at once: the undo goes back, the charge is refused with why, and stays.
  const auto report = dlq.replay(messaging::DeadLetterFilter{});
  EXPECT_EQ(report.replayed, 1u);
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_EQ(report.refused[0].id, charge);
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompensated));
  EXPECT_EQ(dlq.list().size(), 1u);
  // Compensated because of the charge: replaying it runs the saga again from the start.
  charge_works.store(true);
  dlq.replay(charge);
  ASSERT_TRUE(ends_as(id, SagaStatus::kCompleted));
  EXPECT_EQ(reservations.load(), 2);
  EXPECT_TRUE(dlq.list().empty());
  // Nothing is left to replay into a completed instance, and the guard says so.
  const auto decision = db().transact(
      [&](store::UnitOfWork& uow) { return saga::replay_guard()(uow, dlq.get(charge)); });
  EXPECT_EQ(decision.kind, messaging::ReplayDecision::Kind::kRefuse);
  EXPECT_NE(decision.reason.find("completed"), std::string::npos) << decision.reason;
}

TEST_P(SagaTest, StatsCountInstancesPerSagaAndStatus) {
  std::vector<std::string> log;
  std::mutex mutex;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(recorder(log, mutex, "two", /*permanent=*/true));
  b.start();
  const auto first = start("recorder", "s1");
  const auto second = start("recorder", "s2");
  ASSERT_TRUE(ends_as(first, SagaStatus::kCompensated));
  ASSERT_TRUE(ends_as(second, SagaStatus::kCompensated));
  const auto stats = SagaOrchestrator::stats(db());
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].saga, "recorder");
  EXPECT_EQ(stats[0].status, SagaStatus::kCompensated);
  EXPECT_EQ(stats[0].count, 2);
}

TEST_P(SagaTest, BadDefinitionsAreRefused) {
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  std::vector<std::string> log;
  std::mutex mutex;
  auto def = recorder(log, mutex);
  def.name = "Bad Name";
  EXPECT_THROW(o.define(def), ValidationError);
  def = recorder(log, mutex);
  def.steps.clear();
  EXPECT_THROW(o.define(def), ValidationError);
  def = recorder(log, mutex);
  def.lease = 1s;  // shorter than a step's timeout
  EXPECT_THROW(o.define(def), ValidationError);
  o.define(recorder(log, mutex));
  EXPECT_THROW(o.define(recorder(log, mutex)), ValidationError);  // twice
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    return SagaOrchestrator::start(uow, "recorder", {"", {ObjectType::kContact, 1}, {}});
  }),
               ValidationError);
}

// A gate a step or a start rule waits at until the test opens it; shared, so a thread
// still waiting when the test ends finds it alive.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
};

// One instance stuck on a slow dependency: with two step consumers, the others still run.
TEST_P(SagaTest, AnInstanceStuckOnASlowDependencyDoesNotStallTheOthers) {
  auto gate = std::make_shared<Gate>();
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  saga::SagaDefinition def;
  def.name = "billing_like";
  def.retry = quick(1);
  def.lease = 60s;
  saga::Step call;
  call.name = "call";
  call.kind = saga::Step::Kind::kRemote;
  call.timeout = 50s;  // longer than the test waits: only the second consumer can help
  call.action = [gate](StepContext& ctx) {
    if (ctx.data.at("who") == "slow") gate->wait();
  };
  def.steps = {call};
  o.define(def, {.steps = 2});
  b.start();
  const auto slow = db().transact([&](store::UnitOfWork& uow) {
    return SagaOrchestrator::start(uow, "billing_like",
                                   {"slow", {ObjectType::kContact, 1}, {{"who", "slow"}}});
  });
  ASSERT_TRUE(
      eventually([&] { return SagaOrchestrator::get(db(), slow).status == SagaStatus::kRunning; }));
  std::vector<std::uint64_t> fast;
  for (int i = 0; i < 3; ++i) {
    fast.push_back(db().transact([&](store::UnitOfWork& uow) {
      return SagaOrchestrator::start(
          uow, "billing_like",
          {"fast" + std::to_string(i), {ObjectType::kContact, 1}, {{"who", "fast"}}});
    }));
  }
  bool all_done = true;
  for (auto id : fast) all_done = ends_as(id, SagaStatus::kCompleted) && all_done;
  const bool slow_still_running = SagaOrchestrator::get(db(), slow).status == SagaStatus::kRunning;
  gate->release();
  EXPECT_TRUE(all_done);
  EXPECT_TRUE(slow_still_running);
  EXPECT_TRUE(ends_as(slow, SagaStatus::kCompleted));
}

// The events that may start a saga have a queue of their own: steps never wait behind
// them, even while the start consumer is stuck.
TEST_P(SagaTest, StepsRunOnTheirOwnQueueNotBehindTriggerEvents) {
  auto gate = std::make_shared<Gate>();
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  std::vector<std::string> log;
  std::mutex mutex;
  saga::SagaDefinition def = recorder(log, mutex);
  def.trigger_events = {"contact.created"};
  def.start_rule = [gate](const store::DomainEvent&) -> std::optional<saga::StartRequest> {
    gate->wait();
    return std::nullopt;
  };
  o.define(def);
  b.start();
  for (int i = 0; i < 5; ++i) {
    db().transact([&](store::UnitOfWork& uow) {
      Contact c;
      c.first_name = "Trigger";
      c.last_name = std::to_string(i);
      db().contacts().create(uow, c);
    });
  }
  ASSERT_TRUE(eventually([&] {
    for (const auto& q : b.backlog())
      if (q.queue == saga::start_queue("recorder") && q.depth == 5) return true;
    return false;
  }));
  const auto id = start("recorder", "direct");
  const bool completed = ends_as(id, SagaStatus::kCompleted);
  gate->release();
  EXPECT_TRUE(completed);
  EXPECT_EQ(saga::step_queue("recorder"), "saga.recorder");
}

TEST_P(SagaTest, ARemoteStepThatHangsIsGivenUpOnAtItsTimeoutAndUndone) {
  auto gate = std::make_shared<Gate>();
  std::atomic<int> undone{0};
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  saga::SagaDefinition def;
  def.name = "hung";
  def.retry = quick(1);
  def.lease = 30s;
  saga::Step s;
  s.name = "call";
  s.kind = saga::Step::Kind::kRemote;
  s.timeout = 200ms;
  s.action = [gate](StepContext&) { gate->wait(); };
  s.compensation = [&undone](StepContext&) { undone.fetch_add(1); };
  def.steps = {s};
  o.define(def);
  b.start();
  const auto id = start("hung", "k6");
  const bool ended = ends_as(id, SagaStatus::kCompensated);
  gate->release();
  ASSERT_TRUE(ended);
  EXPECT_EQ(undone.load(), 1);  // it may have happened: undone too
  const auto i = SagaOrchestrator::get(db(), id);
  EXPECT_NE(i.error.find("did not return within its timeout"), std::string::npos) << i.error;
  EXPECT_EQ(i.history.front().what, "outcome_unknown");
}

// --- the sagas that ship with Banyan ------------------------------------------------------

class BuiltinSagaTest : public SagaTest {
 protected:
  std::vector<std::string> tags_of(ObjectRef target) {
    return db().transact([&](store::UnitOfWork& uow) {
      std::vector<std::string> out;
      for (Id t : db().relations().tags_of(uow, target))
        out.push_back(db().tags().get(uow, t).name);
      return out;
    });
  }
  std::size_t activities_of(ObjectRef target) {
    return db().transact(
        [&](store::UnitOfWork& uow) { return db().relations().activities_of(uow, target).size(); });
  }
  // The deal_won saga of a deal, if one started.
  std::optional<saga::SagaInstance> deal_saga(Id deal) {
    return SagaOrchestrator::find(db(), "deal_won", "deal-" + std::to_string(deal));
  }
  // Whether the deal's saga comes to `status` in time.
  bool deal_saga_ends_as(Id deal, SagaStatus status) {
    return eventually([&] {
      const auto s = deal_saga(deal);
      return s && s->status == status;
    });
  }
  // Runs the lead conversion saga for `request` on the bus: its instance id once it comes
  // to `status`, none if it does not in time.
  std::optional<std::uint64_t> run_lead_conversion(const saga::LeadConversionRequest& request,
                                                   SagaStatus status) {
    messaging::MessageBus& b = bus();
    SagaOrchestrator o(db(), b);
    o.define(saga::lead_conversion_saga(quick()));
    b.start();
    const auto id = db().transact(
        [&](store::UnitOfWork& uow) { return saga::start_lead_conversion(uow, request); });
    if (!ends_as(id, status)) return std::nullopt;
    return id;
  }
};
BANYAN_ON_BOTH_BACKENDS(BuiltinSagaTest);

TEST_P(BuiltinSagaTest, AWonDealIsProvisionedInBillingAndGetsAnOnboardingTask) {
  BillingStub billing;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(
      saga::deal_won_saga({.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick()}));
  b.start();
  const Deal deal = won_deal("Big account", {500000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompleted));
  EXPECT_EQ(billing.customers().size(), 1u);
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"onboarding"});
  // Later updates of the won deal start nothing new.
  db().transact([&](store::UnitOfWork& uow) {
    Deal d = db().deals().get(uow, deal.id);
    d.title = "Bigger account";
    db().deals().update(uow, d);
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(billing.posts(), 1);
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
}

// The issue this pins: a deal moved to the "Closed won" stage stayed open and the saga never
// ran. Every way of winning a deal starts it: a move to a won stage, and a status.
TEST_P(BuiltinSagaTest, AMoveToAWonStageOrAWonStatusStartsTheDealWonSaga) {
  BillingStub billing;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(
      saga::deal_won_saga({.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick()}));
  b.start();
  const auto p = make_pipeline();
  auto open_deal = [&](const char* title) {
    return db().transact([&](store::UnitOfWork& uow) {
      Deal d;
      d.title = title;
      d.pipeline_id = p.pipeline.id;
      d.stage_id = p.proposal.id;
      return db().deals().create(uow, d);
    });
  };
  const Deal moved = open_deal("Moved"), set = open_deal("Set");
  db().transact([&](store::UnitOfWork& uow) {
    Patch<Deal> to_won;
    to_won.values.stage_id = p.won.id;
    to_won.name("stage_id");
    db().deals().patch(uow, moved.id, to_won);
    Patch<Deal> won;
    won.values.status = DealStatus::kWon;
    won.name("status");
    db().deals().patch(uow, set.id, won);
  });
  for (const Deal& d : {moved, set}) {
    EXPECT_TRUE(deal_saga_ends_as(d.id, SagaStatus::kCompleted)) << d.title;
  }
  EXPECT_EQ(billing.customers().size(), 2u);
}

TEST_P(BuiltinSagaTest, WhenBillingFailsForGoodTheDealIsFlaggedAndTheFailureIsInTheDlq) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kFail);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick(3)}));
  b.start();
  const Deal deal = won_deal("Big account", {500000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  EXPECT_EQ(billing.posts(), 3);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"billing-failed"});
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 0u);
  messaging::DeadLetterStore dlq(db());
  ASSERT_TRUE(eventually([&] { return dlq.list({.queue = "saga.deal_won"}).size() == 1; }));
  EXPECT_NE(dlq.list()[0].last_error.find("billing answered 500"), std::string::npos)
      << dlq.list()[0].last_error;
}

// Billing did the work but its answer never came (timed out, twice): when the saga gives
// up, the billing step is undone too, not only the steps before it.
// The issue this pins: "banyan dlq replay" of the failed billing step said "replayed" and
// did nothing, because the saga had compensated already. Now the replay runs it again.
TEST_P(BuiltinSagaTest, ReplayingTheFailedBillingStepRunsTheSagaAgainToTheEnd) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kFail);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick(2)}));
  b.start();
  const Deal deal = won_deal("Second try", {250000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  messaging::DeadLetterStore dlq(db(), saga::replay_guard());
  ASSERT_TRUE(eventually([&] { return dlq.list({.queue = "saga.deal_won"}).size() == 1; }));
  billing.set_mode(BillingStub::Mode::kOk);
  const auto report = dlq.replay(messaging::DeadLetterFilter{.queue = "saga.deal_won"});
  EXPECT_EQ(report.replayed, 1u);
  EXPECT_TRUE(report.refused.empty());
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompleted));
  EXPECT_EQ(billing.customers().size(), 1u);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"onboarding"});
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
  const auto instance = *deal_saga(deal.id);
  std::vector<std::string> what;
  for (const auto& h : instance.history) what.push_back(h.step + " " + h.what);
  EXPECT_EQ(what,
            (std::vector<std::string>{"flag_onboarding done", "provision_billing failed",
                                      "flag_onboarding compensated", "provision_billing replayed",
                                      "flag_onboarding done", "provision_billing done",
                                      "create_onboarding_task done"}));
  EXPECT_TRUE(dlq.list({.queue = "saga.deal_won"}).empty()) << "the entry is history now";
}

TEST_P(BuiltinSagaTest, ABillingCallThatMayHaveSucceededIsUndoneWhenTheSagaGivesUp) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kSilentOk);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 1s, .retry = quick(2)}));
  b.start();
  const Deal deal = won_deal("Silent", {100000, "EUR"});
  ASSERT_TRUE(eventually([&] { return billing.posts() == 2; }));
  EXPECT_EQ(billing.customers().size(), 1u) << "both unanswered calls made the one customer";
  billing.set_mode(BillingStub::Mode::kOk);  // the compensation is answered
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  EXPECT_TRUE(billing.customers().empty())
      << "the customer the unanswered call made is left in billing";
  EXPECT_EQ(billing.deletes(), 1);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"billing-failed"});
  const auto s = *deal_saga(deal.id);
  std::vector<std::string> what;
  for (const auto& h : s.history) what.push_back(h.step + " " + h.what);
  EXPECT_EQ(what, (std::vector<std::string>{
                      "flag_onboarding done", "provision_billing outcome_unknown",
                      "provision_billing compensated", "flag_onboarding compensated"}));
}

TEST_P(BuiltinSagaTest, ALeadIsConvertedAcrossMessages) {
  auto p = make_pipeline();
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Lead l;
    l.first_name = "Grace";
    l.last_name = "Hopper";
    l.email = "grace@navy.example";
    l.company_name = "Navy";
    return db().leads().create(uow, l);
  });
  const auto run =
      run_lead_conversion({lead.id, p.pipeline.id, Money{120000, "USD"}}, SagaStatus::kCompleted);
  ASSERT_TRUE(run.has_value());
  const std::uint64_t id = *run;
  const auto s = SagaOrchestrator::get(db(), id);
  db().transact([&](store::UnitOfWork& uow) {
    const Lead converted = db().leads().get(uow, lead.id);
    EXPECT_EQ(converted.status, LeadStatus::kConverted);
    EXPECT_EQ(converted.converted_contact_id, std::stoull(s.data.at("contact_id")));
    EXPECT_EQ(converted.converted_company_id, std::stoull(s.data.at("company_id")));
    const Deal deal = db().deals().get(uow, std::stoull(s.data.at("deal_id")));
    EXPECT_EQ(deal.stage_id, p.lead.id);  // the pipeline's first stage
    EXPECT_EQ(deal.amount.minor_units, 120000);
    EXPECT_EQ(db().companies().get(uow, *deal.company_id).name, "Navy");
  });
  // The saga's writes are the system principal's, and the trail names the saga and step.
  const auto trail = db().read([&](store::UnitOfWork& uow) {
    store::AuditQuery q;
    q.object = ObjectRef{ObjectType::kContact, std::stoull(s.data.at("contact_id"))};
    return db().audit().query(uow, q);
  });
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].action, "created");
  EXPECT_EQ(trail[0].actor, "system");
  EXPECT_EQ(trail[0].actor_id, std::nullopt);
  EXPECT_EQ(trail[0].origin, "saga lead_conversion #" + std::to_string(id) + " create_contact");
}

// The saga and a direct conversion (LeadConverter::convert) run the same steps: twin leads
// become twin records, custom values and company matching included.
TEST_P(BuiltinSagaTest, TheSagaMakesWhatADirectConversionMakes) {
  auto p = make_pipeline();
  db().transact([&](store::UnitOfWork& uow) {
    for (ObjectType on : {ObjectType::kLead, ObjectType::kContact}) {
      CustomFieldDefinition d;
      d.object_type = on;
      d.name = "campaign";
      d.type = CustomFieldType::kText;
      db().custom_fields().define(uow, d);
    }
    Company known;
    known.name = "Initech Inc.";
    known.domain = "initech.example";
    db().companies().create(uow, known);
  });
  const auto twin = [&](const char* email) {
    return db().transact([&](store::UnitOfWork& uow) {
      Lead l;
      l.first_name = "Peter";
      l.last_name = "Gibbons";
      l.email = email;
      l.phone = "+1 555 0100";
      l.company_name = "Initech";
      l.custom = {{"campaign", std::string("spring")}};
      return db().leads().create(uow, l);
    });
  };
  const Lead direct_lead = twin("peter@initech.example");
  const Lead saga_lead = twin("peter@initech.example");

  const store::ConversionResult direct = db().transact([&](store::UnitOfWork& uow) {
    store::LeadConversion request;
    request.lead_id = direct_lead.id;
    request.deal = store::LeadConversion::NewDeal{};
    request.deal->pipeline_id = p.pipeline.id;
    request.deal->amount = Money{120000, "USD"};
    return db().lead_converter().convert(uow, request);
  });
  ASSERT_TRUE(run_lead_conversion({saga_lead.id, p.pipeline.id, Money{120000, "USD"}},
                                  SagaStatus::kCompleted)
                  .has_value());
  db().transact([&](store::UnitOfWork& uow) {
    const Lead converted = db().leads().get(uow, saga_lead.id);
    const Contact contact = db().contacts().get(uow, *converted.converted_contact_id);
    EXPECT_EQ(contact.first_name, direct.contact.first_name);
    EXPECT_EQ(contact.email, direct.contact.email);
    EXPECT_EQ(contact.phone, direct.contact.phone);
    EXPECT_EQ(contact.custom, direct.contact.custom);
    EXPECT_EQ(contact.custom.count("campaign"), 1u) << "the custom value carried over";
    EXPECT_EQ(converted.converted_company_id, direct.company.id)
        << "both matched the company by the email domain";
    EXPECT_FALSE(direct.company_created);
    const Deal deal = db().deals().get(uow, *converted.converted_deal_id);
    EXPECT_EQ(deal.title, direct.deal->title);
    EXPECT_EQ(deal.stage_id, direct.deal->stage_id);
    EXPECT_EQ(deal.stage_id, p.lead.id) << "the pipeline's first stage";
    EXPECT_EQ(deal.amount.minor_units, direct.deal->amount.minor_units);
    EXPECT_EQ(deal.company_id, direct.deal->company_id);
  });
}

// A company the saga matched rather than made is not its to undo.
TEST_P(BuiltinSagaTest, AFailedLeadConversionLeavesAMatchedCompanyAlone) {
  const Pipeline empty = db().transact([&](store::UnitOfWork& uow) {
    return db().pipelines().create(uow, named<Pipeline>("Empty"));
  });
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Company known;
    known.name = "Initech";
    known.domain = "initech.example";
    db().companies().create(uow, known);
    Lead l;
    l.first_name = "Peter";
    l.last_name = "Gibbons";
    l.email = "peter@initech.example";
    return db().leads().create(uow, l);
  });
  ASSERT_TRUE(
      run_lead_conversion({lead.id, empty.id, std::nullopt}, SagaStatus::kCompensated).has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM contacts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM companies WHERE archived_at IS NULL"), 1);
}

TEST_P(BuiltinSagaTest, AFailedLeadConversionUndoesWhatItCreated) {
  const Pipeline empty = db().transact([&](store::UnitOfWork& uow) {
    return db().pipelines().create(uow, named<Pipeline>("Empty"));
  });
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Lead l;
    l.first_name = "Ada";
    l.last_name = "Lovelace";
    l.company_name = "Analytical Engines";
    return db().leads().create(uow, l);
  });
  const auto run = run_lead_conversion({lead.id, empty.id, std::nullopt}, SagaStatus::kCompensated);
  ASSERT_TRUE(run.has_value());
  const std::uint64_t id = *run;
  EXPECT_EQ(count("SELECT COUNT(*) FROM contacts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM companies"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deals"), 0);
  db().transact(
      [&](store::UnitOfWork& uow) { EXPECT_FALSE(db().leads().get(uow, lead.id).converted()); });
  EXPECT_NE(SagaOrchestrator::get(db(), id).error.find("has no stages"), std::string::npos);
}

}  // namespace
}  // namespace banyan::test
