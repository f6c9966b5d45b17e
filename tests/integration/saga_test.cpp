// Sagas on both backends: steps in order, compensation in reverse, retries, timeouts and
// dead letters (the sagas that ship with Banyan: builtin_saga_test.cpp).
#include <condition_variable>

#include "saga_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

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
  auto dlq = messaging::detail::dead_letter_store(db());
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
  auto dlq = messaging::detail::dead_letter_store(db(), saga::replay_guard());
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
      stores(db()).contacts().create(uow, c);
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

}  // namespace
}  // namespace banyan::test
