// The bus and the sagas keep time by the database's clock (DatabaseOptions::clock): the
// times they write (enqueued, available, leased, failed, dead, processed) and the ones
// they compare (a retry's backoff, a lease's expiry, retention windows). A ManualClock
// moves them, so these tests need not wait an hour for an hour's backoff.
#include "banyan/clock.hpp"
#include "messaging_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using messaging::Message;
using messaging::MessageBus;
using namespace std::chrono_literals;

class BusClockTest : public MessagingTest {
 protected:
  store::DatabaseOptions database_options() override {
    store::DatabaseOptions options;
    options.clock = clock;
    return options;
  }
  std::int64_t clock_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock->wall().time_since_epoch())
        .count();
  }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
};
BANYAN_ON_BOTH_BACKENDS(BusClockTest);

TEST_P(BusClockTest, ARetryBackedOffForAnHourComesOnceTheClockHasMovedAnHour) {
  MessageBus& b = bus();
  auto spec = queue("slow", {"contact.created"}, /*max_attempts=*/3, /*immediate_retries=*/0);
  spec.retry.initial_delay = 1h;
  spec.retry.max_delay = 1h;
  spec.retry.jitter = 0;
  b.declare_queue(spec);
  Seen seen;
  b.consume("slow", [&](const Message& m) {
    seen.add(m);
    if (m.attempt == 1) throw messaging::TransientError("not yet");
  });
  b.start();
  const std::int64_t written = clock_us();
  add_contact("Patient");
  ASSERT_TRUE(eventually([&] {
    return seen.size() == 1 && count(
                                   "SELECT COUNT(*) FROM queue_messages WHERE attempts = 1 AND "
                                   "state = 0") == 1;
  }));
  // Due an hour after the failure, by the database's clock (which has not moved).
  EXPECT_EQ(count("SELECT available_at FROM queue_messages"), written + 3'600'000'000);
  EXPECT_EQ(count("SELECT first_failed_at FROM queue_messages"), written);
  clock->advance(1h);
  ASSERT_TRUE(eventually([&] { return seen.size() == 2; }));
  EXPECT_EQ(seen.copy()[1].attempt, 2);
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
}

TEST_P(BusClockTest, RetentionWindowsPassByTheDatabaseClock) {
  messaging::BusOptions options;
  options.retention.outbox = 1h;
  options.retention.processed = 1h;
  options.retention.dead_letters = 1h;
  options.retention.interval = 100ms;
  MessageBus& b = bus(options);
  b.declare_queue(queue("work", {"contact.created"}));
  b.declare_queue(queue("poison", {"contact.created"}, 1, 0));
  std::atomic<int> applied{0};
  b.consume("work", [&](const Message& m) {
    db().transact([&](store::UnitOfWork& uow) {
      if (messaging::record_processed(uow, "work", m.event.id)) applied.fetch_add(1);
    });
  });
  b.consume("poison", [](const Message&) { throw messaging::PermanentError("never"); });
  b.start();
  for (const char* last : {"Lovelace", "Hopper", "Noether"}) add_contact(last);
  ASSERT_TRUE(eventually([&] { return applied.load() == 3 && b.metrics().dead_lettered == 3; }));
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  EXPECT_EQ(count("SELECT MIN(dead_at) FROM dead_letters"), clock_us());
  EXPECT_EQ(count("SELECT MIN(processed_at) FROM processed_messages"), clock_us());
  // Several retention passes while the clock stands still: nothing is old enough.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_messages"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 3);
  // A minute short of the windows, still nothing; past them, everything goes.
  clock->advance(59min);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 3);
  clock->advance(2min);
  ASSERT_TRUE(eventually([&] {
    return count("SELECT COUNT(*) FROM processed_messages") == 0 &&
           count("SELECT COUNT(*) FROM dead_letters") == 0 &&
           count("SELECT COUNT(*) FROM outbox_events") == 0;
  }));
  EXPECT_EQ(b.metrics().purged_events, 3u);
}

}  // namespace
}  // namespace banyan::test
