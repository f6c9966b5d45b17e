// The message bus on both backends: routing from the outbox, competing consumers, acks,
// leases, retries, dead letters and fan-out with back-pressure.
#include <unistd.h>

#include <filesystem>
#include <set>

#include "messaging_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using messaging::Message;
using messaging::MessageBus;
using namespace std::chrono_literals;

class MessageBusTest : public MessagingTest {};
BANYAN_ON_BOTH_BACKENDS(MessageBusTest);

TEST_P(MessageBusTest, DeliversCommittedEventsToMatchingQueuesInCommitOrderAndDeletesAcked) {
  MessageBus& b = bus();
  b.declare_queue(queue("contacts", {"contact.*"}));
  b.declare_queue(queue("companies", {"company.created"}));
  Seen contacts, companies;
  b.consume("contacts", [&](const Message& m) { contacts.add(m); });
  b.consume("companies", [&](const Message& m) { companies.add(m); });
  b.start();

  std::vector<Id> ids;
  for (const char* last : {"Lovelace", "Hopper", "Turing"}) ids.push_back(add_contact(last).id);
  db().transact([&](store::UnitOfWork& uow) {
    stores(db()).companies().create(uow, named<Company>("Acme"));
  });
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Never", "Committed"));
    throw std::runtime_error("roll back");
  }),
               std::runtime_error);

  ASSERT_TRUE(eventually([&] { return contacts.size() == 3 && companies.size() == 1; }));
  auto got = contacts.copy();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].event.type, "contact.created");
    EXPECT_EQ(got[i].event.aggregate_id, ids[i]);  // commit order
    EXPECT_EQ(got[i].queue, "contacts");
    EXPECT_EQ(got[i].attempt, 1);
  }
  EXPECT_EQ(companies.copy()[0].event.type, "company.created");
  // Acked messages leave the queue; every event is marked relayed.
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events WHERE relayed_at IS NULL"), 0);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(contacts.size(), 3u);  // the rolled-back write was never delivered
}

// Routing does not copy an event's body into the queue: a message leased later (its
// consumer came after the event) or dead-lettered reads it from the outbox, whole.
TEST_P(MessageBusTest, MessagesRoutedBeforeTheirConsumerCameCarryTheWholeEventAndSoDoDeadLetters) {
  MessageBus& b = bus();
  b.declare_queue(queue("later", {"contact.created"}));
  b.declare_queue(queue("refused", {"contact.created"}));
  b.start();
  for (const char* last : {"Lovelace", "Hopper"}) add_contact(last);
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 4; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages WHERE payload = ''"), 4);
  const auto outbox =
      db().transact([&](store::UnitOfWork& uow) { return stores(db()).outbox().read(uow); });
  ASSERT_EQ(outbox.size(), 2u);

  Seen later;
  b.consume("later", [&](const Message& m) { later.add(m); });
  b.consume("refused", [&](const Message&) { throw messaging::PermanentError("no"); });
  ASSERT_TRUE(eventually(
      [&] { return later.size() == 2 && count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  auto got = later.copy();
  EXPECT_EQ(got[0].event, outbox[0]);
  EXPECT_EQ(got[1].event, outbox[1]);
  auto dead = messaging::detail::dead_letter_store(db()).list();
  ASSERT_EQ(dead.size(), 2u);
  for (const auto& d : dead)
    EXPECT_EQ(d.event, d.event.sequence == outbox[0].sequence ? outbox[0] : outbox[1]);
}

TEST_P(MessageBusTest, TheBacklogShowsAQueueNobodyServesAgeing) {
  MessageBus& b = bus();
  b.declare_queue(queue("unserved", {"contact.created"}));
  b.declare_queue(queue("served", {"contact.created"}));
  b.start();
  Seen served;
  b.consume("served", [&](const Message& m) { served.add(m); });
  for (const char* last : {"Lovelace", "Hopper", "Noether"}) add_contact(last);
  ASSERT_TRUE(eventually(
      [&] { return served.size() == 3 && count("SELECT COUNT(*) FROM queue_messages") == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto backlog = b.backlog();
  ASSERT_EQ(backlog.size(), 1u) << "a served queue with nothing left is not listed";
  EXPECT_EQ(backlog[0].queue, "unserved");
  EXPECT_EQ(backlog[0].depth, 3);
  EXPECT_GE(backlog[0].oldest_age, std::chrono::milliseconds(20));
}

// Retention deletes what is past its window, a batch at a time, and never the body of a
// message still waiting in a queue nobody serves.
TEST_P(MessageBusTest, RetentionKeepsTheTablesBoundedAndNeverDropsABodyAQueueStillNeeds) {
  messaging::BusOptions options;
  options.retention.outbox = 1s;
  options.retention.processed = 1s;
  options.retention.dead_letters = 1s;
  options.retention.batch_size = 40;  // several batches per table
  options.retention.interval = 100ms;
  MessageBus& b = bus(options);
  b.declare_queue(queue("work", {"contact.created"}));
  b.declare_queue(queue("poison", {"contact.created"}, 1, 0));
  b.declare_queue(queue("later", {"contact.created"}));
  std::atomic<int> applied{0};
  b.consume("work", [&](const Message& m) {
    db().transact([&](store::UnitOfWork& uow) {
      if (messaging::record_processed(uow, "work", m.event.id)) applied.fetch_add(1);
    });
  });
  b.consume("poison", [](const Message&) { throw messaging::PermanentError("never"); });
  b.start();
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 150; ++i)
      stores(db()).contacts().create(uow, contact("C", "n" + std::to_string(i)));
  });
  ASSERT_TRUE(
      eventually([&] { return applied.load() == 150 && b.metrics().dead_lettered == 150; }));
  // Past the windows: the claims and the dead letters go; the events stay while "later"
  // (unserved) still reads its 150 bodies from them.
  ASSERT_TRUE(eventually([&] {
    return count("SELECT COUNT(*) FROM processed_messages") == 0 &&
           count("SELECT COUNT(*) FROM dead_letters") == 0;
  }));
  std::this_thread::sleep_for(300ms);  // a few more retention passes
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox_events"), 150);
  const auto m = b.metrics();
  EXPECT_EQ(m.purged_claims, 150u);
  EXPECT_EQ(m.purged_dead_letters, 150u);
  EXPECT_EQ(m.purged_events, 0u);
  Seen later;
  b.consume("later", [&](const Message& msg) { later.add(msg); });
  ASSERT_TRUE(eventually([&] { return later.size() == 150; }));
  for (const auto& msg : later.copy()) EXPECT_NE(msg.event.payload, "") << msg.event.id;
  // Served at last: nothing needs the events, and they go too.
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM outbox_events") == 0; }));
  EXPECT_EQ(b.metrics().purged_events, 150u);
  std::map<std::string, std::int64_t> sizes;
  for (const auto& t : b.table_sizes()) sizes[t.table] = t.rows;
  EXPECT_EQ(sizes, (std::map<std::string, std::int64_t>{{"dead_letters", 0},
                                                        {"outbox_events", 0},
                                                        {"processed_messages", 0},
                                                        {"queue_messages", 0}}));
}

// A scrape's count may be a few seconds old: counting reads every row.
TEST_P(MessageBusTest, TableSizesAreCountedAgainOnlyWhenTheLastCountIsTooOld) {
  MessageBus& b = bus();
  auto outbox_rows = [&](std::chrono::milliseconds max_age) {
    for (const auto& t : b.table_sizes(max_age))
      if (t.table == "outbox_events") return t.rows;
    return std::int64_t{-1};
  };
  const std::int64_t before = outbox_rows(0ms);
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("C", "one")); });
  EXPECT_EQ(outbox_rows(1h), before);       // the cached count
  EXPECT_EQ(outbox_rows(0ms), before + 1);  // counted now
  EXPECT_EQ(outbox_rows(1h), before + 1);   // and cached again
}

TEST(RetentionPolicyTest, RefusesWindowsThatCouldApplyAReplayedMessageTwice) {
  messaging::RetentionPolicy r;
  EXPECT_NO_THROW(r.validate());
  r.processed = std::chrono::hours(24);
  EXPECT_THROW(r.validate(), ValidationError);    // claims gone before the dead letters
  r.dead_letters = std::chrono::microseconds(0);  // dead letters kept forever: so must claims be
  EXPECT_THROW(r.validate(), ValidationError);
  r.processed = std::chrono::microseconds(0);
  EXPECT_NO_THROW(r.validate());
  r.outbox = -std::chrono::seconds(1);
  EXPECT_THROW(r.validate(), ValidationError);
  r.outbox = std::chrono::seconds(1);
  r.batch_size = 0;
  EXPECT_THROW(r.validate(), ValidationError);
  r.batch_size = 100;
  r.interval = std::chrono::milliseconds(10);
  EXPECT_THROW(r.validate(), ValidationError);
}

TEST_P(MessageBusTest, CompetingConsumersShareAQueueWithEachMessageHandledOnce) {
  MessageBus& b = bus();
  b.declare_queue(queue("work", {"contact.created"}));
  Seen first, second;
  b.consume("work", [&](const Message& m) { first.add(m); }, {"first", 4});
  b.consume("work", [&](const Message& m) { second.add(m); }, {"second", 4});
  b.start();
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 300; ++i)
      stores(db()).contacts().create(uow, contact("C", "n" + std::to_string(i)));
  });
  ASSERT_TRUE(eventually([&] { return first.size() + second.size() >= 300; }));
  std::this_thread::sleep_for(100ms);
  std::multiset<std::string> ids;
  for (auto* s : {&first, &second})
    for (const auto& m : s->copy()) ids.insert(m.event.id);
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 300u);
  EXPECT_GT(first.size(), 0u);
  EXPECT_GT(second.size(), 0u);
}

TEST_P(MessageBusTest, AnExpiredLeaseIsRedeliveredAndTheIdempotentConsumerAppliesItOnce) {
  MessageBus& b = bus();
  auto spec = queue("slow", {"contact.created"});
  spec.lease = 300ms;
  b.declare_queue(spec);
  std::atomic<int> effects{0};
  Seen seen;
  // Effects counted in the database, guarded by record_processed in the same transaction.
  auto effect = [&](const Message& m) {
    db().transact([&](store::UnitOfWork& uow) {
      if (messaging::record_processed(uow, "slow-consumer", m.event.id)) effects.fetch_add(1);
    });
  };
  // Whichever consumer gets the message first stalls past the lease; the redelivery
  // goes to whichever has room.
  std::atomic<bool> stalled{false};
  auto handler = [&](const Message& m) {
    seen.add(m);
    if (!stalled.exchange(true)) std::this_thread::sleep_for(1200ms);
    effect(m);
  };
  b.consume("slow", handler, {"one", 1});
  b.consume("slow", handler, {"two", 1});
  b.start();
  add_contact("Lease");
  ASSERT_TRUE(eventually([&] { return seen.size() >= 2; }));
  auto got = seen.copy();
  EXPECT_EQ(got[0].event.id, got[1].event.id);
  EXPECT_EQ(got[1].attempt, 2);  // the expiry counted as an attempt
  EXPECT_GE(b.metrics().redelivered, 1u);
  EXPECT_EQ(b.metrics().retried, 0u);  // no handler failed
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  std::this_thread::sleep_for(1300ms);  // the stalled handler finishes too
  EXPECT_EQ(effects.load(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_messages WHERE consumer = 'slow-consumer'"), 1);
}

// New events are leased as they are routed, each queue for its own lease: a queue with a
// long lease, served first, must not stretch the lease of a short one.
TEST_P(MessageBusTest, EachQueueLeasesForItsOwnTimeWhenAnotherQueueLeasesLonger) {
  MessageBus& b = bus();
  auto long_lease = queue("a-long", {"contact.created"});
  long_lease.lease = 1h;
  auto short_lease = queue("b-short", {"contact.created"});
  short_lease.lease = 300ms;
  b.declare_queue(long_lease);
  b.declare_queue(short_lease);
  Seen archived, seen;
  b.consume("a-long", [&](const Message& m) { archived.add(m); }, {"archive", 1});
  // Stalls well past the short lease (and holds no other message meanwhile).
  b.consume("b-short",
            [&](const Message& m) {
              seen.add(m);
              std::this_thread::sleep_for(3s);
            },
            {"stalls", 1});
  b.start();
  // The consumers are connected before the event: it is leased as it is routed.
  ASSERT_TRUE(eventually([&] { return b.metrics().relay_holder; }));
  std::this_thread::sleep_for(300ms);
  add_contact("Lease");
  ASSERT_TRUE(eventually([&] { return archived.size() == 1 && seen.size() == 1; }));
  // The relay sees the short lease run out while the handler still stalls.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return b.metrics().redelivered >= 1; }, 2500ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages WHERE queue = 'a-long' AND state = 1"), 0);
}

TEST_P(MessageBusTest, TransientFailuresAreRetriedAtOnceThenWithBackoffUntilTheySucceed) {
  MessageBus& b = bus();
  b.declare_queue(queue("flaky", {"contact.created"}, /*max_attempts=*/5, /*immediate_retries=*/1));
  Seen seen;
  b.consume("flaky", [&](const Message& m) {
    seen.add(m);
    if (m.attempt < 4) throw messaging::TransientError("try again");
  });
  b.start();
  add_contact("Flaky");
  ASSERT_TRUE(eventually([&] { return seen.size() == 4; }));
  auto got = seen.copy();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i].attempt, i + 1);
  ASSERT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
  EXPECT_EQ(b.metrics().retried, 2u);  // two delayed rounds after the immediate pair
}

TEST_P(MessageBusTest, APermanentErrorSkipsTheRetriesAndDeadLettersTheMessage) {
  MessageBus& b = bus({.node = "node-a"});
  b.declare_queue(queue("strict", {"contact.created"}, 5, 2));
  Seen seen;
  b.consume("strict",
            [&](const Message& m) {
              seen.add(m);
              throw messaging::PermanentError("malformed customer record");
            },
            {"validator", 8});
  b.start();
  Contact c = add_contact("Broken");
  auto dlq = messaging::detail::dead_letter_store(db());
  ASSERT_TRUE(eventually([&] { return dlq.list().size() == 1; }));
  EXPECT_EQ(seen.size(), 1u);
  auto d = dlq.list().front();
  EXPECT_EQ(d.queue, "strict");
  EXPECT_EQ(d.event.type, "contact.created");
  EXPECT_EQ(d.event.aggregate_id, c.id);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.error_class, messaging::ErrorClass::kPermanent);
  EXPECT_EQ(d.last_error, "malformed customer record");
  EXPECT_EQ(d.consumer, "node-a/validator");
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages"), 0);
}

TEST_P(MessageBusTest, AHandlerThatAlwaysThrowsEndsInTheDlqAndReplayAfterTheFixDrainsIt) {
  MessageBus& b = bus();
  b.declare_queue(
      queue("billing", {"contact.created"}, /*max_attempts=*/3, /*immediate_retries=*/1));
  std::atomic<bool> fixed{false};
  Seen handled;
  std::atomic<int> calls{0};
  b.consume("billing", [&](const Message& m) {
    calls.fetch_add(1);
    if (!fixed.load()) throw std::runtime_error("billing service says 503");
    handled.add(m);
  });
  b.start();
  for (int i = 0; i < 5; ++i) add_contact("Customer" + std::to_string(i));
  auto dlq = messaging::detail::dead_letter_store(db());
  ASSERT_TRUE(eventually([&] { return dlq.list().size() == 5; }));
  EXPECT_EQ(calls.load(), 15);  // exactly max_attempts each
  for (const auto& d : dlq.list()) {
    EXPECT_EQ(d.attempts, 3);
    EXPECT_EQ(d.error_class, messaging::ErrorClass::kTransient);
    EXPECT_EQ(d.last_error, "billing service says 503");
    EXPECT_LE(d.first_failed_at, d.last_failed_at);
  }
  ASSERT_EQ(dlq.stats().size(), 1u);
  EXPECT_EQ(dlq.stats()[0].depth, 5);

  fixed.store(true);
  messaging::DeadLetterFilter f;
  f.queue = "billing";
  const auto report = dlq.replay(f);
  EXPECT_EQ(report.replayed, 5u);
  EXPECT_TRUE(report.refused.empty());
  ASSERT_TRUE(eventually([&] { return handled.size() == 5; }));
  for (const auto& m : handled.copy()) EXPECT_EQ(m.attempt, 1);  // attempts reset
  EXPECT_TRUE(dlq.list().empty());
  EXPECT_TRUE(dlq.stats().empty());
  f.include_replayed = true;
  auto history = dlq.list(f);
  ASSERT_EQ(history.size(), 5u);  // kept as history
  for (const auto& d : history) {
    EXPECT_TRUE(d.replayed_at.has_value());
    EXPECT_EQ(d.replays, 1);
  }
}

TEST_P(MessageBusTest, ASlowSubscriberGetsEveryEventInOrderBecauseTheRelayWaits) {
  MessageBus& b = bus({.high_water_mark = 5});
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  b.subscribe("contact.*", [&](const store::DomainEvent& e) {
    std::this_thread::sleep_for(1ms);
    std::lock_guard<std::mutex> lock(mutex);
    sequences.push_back(e.sequence);
  });
  b.start();
  // The subscriber connects asynchronously; what is published before it does is missed
  // by design, so wait for a first event to arrive before the real burst.
  ASSERT_TRUE(eventually([&] {
    add_contact("Probe");
    std::this_thread::sleep_for(50ms);
    std::lock_guard<std::mutex> lock(mutex);
    return !sequences.empty();
  }));
  std::uint64_t after;
  {
    std::this_thread::sleep_for(100ms);
    std::lock_guard<std::mutex> lock(mutex);
    sequences.clear();
    after = db().transact([&](store::UnitOfWork& uow) {
      auto all = stores(db()).outbox().read(uow, 0, 10000);
      return all.back().sequence;
    });
  }
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 400; ++i)
      stores(db()).contacts().create(uow, contact("S", "n" + std::to_string(i)));
  });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return sequences.size() >= 400;
  }));
  std::lock_guard<std::mutex> lock(mutex);
  ASSERT_EQ(sequences.size(), 400u);
  for (std::size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], after + 1 + i);
}

TEST_P(MessageBusTest, AConsumerInAnotherBusReachesTheRelayOverTcp) {
  const auto keys = messaging::CurveKeys::parse(messaging::CurveKeys::generate());
  MessageBus& relay = bus({.node = "relay",
                           .work_endpoint = "tcp://127.0.0.1:*",
                           .publish_endpoint = "tcp://127.0.0.1:*",
                           .curve = keys});
  relay.declare_queue(queue("remote", {"contact.created"}));
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.metrics().relay_holder; }));
  EXPECT_EQ(relay.work_endpoint().rfind("tcp://127.0.0.1:", 0), 0u);

  MessageBus& worker = bus({.node = "worker", .relay = false, .curve = keys});
  Seen seen;
  std::atomic<int> published{0};
  worker.consume("remote", [&](const Message& m) { seen.add(m); });
  worker.subscribe("*", [&](const store::DomainEvent&) { published.fetch_add(1); });
  worker.start();
  std::this_thread::sleep_for(500ms);  // the subscriber connects
  add_contact("Remote");
  ASSERT_TRUE(eventually([&] { return seen.size() == 1 && published.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return relay.metrics().acked == 1; }));
}

TEST_P(MessageBusTest, AConsumerInAnotherBusReachesTheRelayOverIpc) {
  const std::string dir = ::testing::TempDir();
  const std::string work = "ipc://" + dir + "banyan-work-" + std::to_string(::getpid()) + ".sock";
  const std::string events =
      "ipc://" + dir + "banyan-events-" + std::to_string(::getpid()) + ".sock";
  MessageBus& relay = bus({.node = "relay", .work_endpoint = work, .publish_endpoint = events});
  relay.declare_queue(queue("local", {"contact.created"}));
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.metrics().relay_holder; }));
  EXPECT_EQ(relay.work_endpoint(), work);
  MessageBus& worker = bus({.node = "worker", .relay = false});
  Seen seen;
  worker.consume("local", [&](const Message& m) { seen.add(m); });
  worker.start();
  add_contact("Ipc");
  ASSERT_TRUE(eventually([&] { return seen.size() == 1; }));
  EXPECT_TRUE(eventually([&] { return relay.metrics().acked == 1; }));
  // The socket files go with the bus that bound them.
  const std::string work_file = work.substr(6);
  EXPECT_TRUE(std::filesystem::exists(work_file));
  worker.stop();
  relay.stop();
  EXPECT_FALSE(std::filesystem::exists(work_file));
  EXPECT_FALSE(std::filesystem::exists(events.substr(6)));
}

TEST_P(MessageBusTest, AnEndpointThatCannotBeBoundIsRefusedAtStart) {
  MessageBus& b = bus({.work_endpoint = "tcp://256.0.0.1:1",
                       .curve = messaging::CurveKeys::parse(messaging::CurveKeys::generate())});
  EXPECT_THROW(b.start(), Unavailable);
}

TEST_P(MessageBusTest, WhenTheRelayStopsAnotherBusTakesOverAndNothingIsLost) {
  MessageBus& a = bus({.node = "a", .relay_lease = 500ms});
  a.declare_queue(queue("q", {"contact.created"}));
  Seen seen;
  a.start();
  ASSERT_TRUE(eventually([&] { return a.metrics().relay_holder; }));
  MessageBus& b = bus({.node = "b", .relay_lease = 500ms});
  b.consume("q", [&](const Message& m) { seen.add(m); });
  b.start();
  add_contact("One");
  ASSERT_TRUE(eventually([&] { return a.metrics().relayed == 1; }));
  a.stop();  // gives the lease up: b takes over and serves its own consumer
  add_contact("Two");
  ASSERT_TRUE(eventually([&] { return seen.size() == 2; }));
  EXPECT_TRUE(b.metrics().relay_holder);
  EXPECT_TRUE(eventually([&] { return count("SELECT COUNT(*) FROM queue_messages") == 0; }));
}

TEST_P(MessageBusTest, StopGivesPrefetchedMessagesBackWithoutCountingAnAttempt) {
  auto bus_a = std::make_unique<MessageBus>(db(), messaging::BusOptions{.node = "a"});
  bus_a->declare_queue(queue("q", {"contact.created"}));
  std::atomic<int> handled{0};
  bus_a->consume("q",
                 [&](const Message&) {
                   handled.fetch_add(1);
                   std::this_thread::sleep_for(50ms);
                 },
                 {"slow", 50});
  bus_a->start();
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 40; ++i)
      stores(db()).contacts().create(uow, contact("P", "n" + std::to_string(i)));
  });
  ASSERT_TRUE(eventually([&] { return handled.load() >= 2; }));
  bus_a->stop();
  const int done = handled.load();
  EXPECT_LT(done, 40);
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages"), 40 - done);
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages WHERE state <> 0 OR attempts <> 0"), 0);
  bus_a.reset();

  Seen rest;
  MessageBus& b = bus({.node = "b"});
  b.consume("q", [&](const Message& m) { rest.add(m); });
  b.start();
  ASSERT_TRUE(eventually([&] { return rest.size() == static_cast<std::size_t>(40 - done); }));
  for (const auto& m : rest.copy()) EXPECT_EQ(m.attempt, 1);
}

TEST_P(MessageBusTest, BadQueueSpecsAndUnknownQueuesAreRefused) {
  MessageBus& b = bus();
  auto bad = [&](messaging::QueueSpec q, const char* field) {
    try {
      b.declare_queue(q);
      ADD_FAILURE() << "accepted a bad " << field;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field);
    }
  };
  bad(queue("has space", {"contact.created"}), "name");
  bad(queue("", {"contact.created"}), "name");
  bad(queue("ok", {}), "event_types");
  bad(queue("ok", {"contact.*x"}), "event_types");
  for (const char* never : {"contact", "contact.", ".created"})  // no event type has these
    bad(queue("ok", {never}), "event_types");
  bad(queue("ok", {"contact.created"}, /*max_attempts=*/0), "max_attempts");
  auto q = queue("ok", {"*"});
  q.retry.jitter = 2;
  bad(q, "jitter");
  EXPECT_EQ(count("SELECT COUNT(*) FROM message_queues"), 0);
  EXPECT_THROW(b.consume("nowhere", [](const Message&) {}), ValidationError);
  EXPECT_THROW(b.subscribe("deal.**", [](const store::DomainEvent&) {}), ValidationError);
}

}  // namespace
}  // namespace banyan::test
