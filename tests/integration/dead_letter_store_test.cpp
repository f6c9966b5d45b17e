// The dead-letter store's filters, replay and purge rules, and the idempotent-consumer
// helper, on both backends.
#include "messaging_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using messaging::DeadLetterFilter;
using messaging::DeadLetterStore;
using namespace std::chrono_literals;

class DeadLetterStoreTest : public MessagingTest {
 protected:
  // Five dead letters: three contact.created in queue "people" (one error has a literal
  // "50%"), two company.created in queue "firms". No bus is left running.
  void fill() {
    messaging::MessageBus& b = bus();
    b.declare_queue(queue("people", {"contact.created"}));
    b.declare_queue(queue("firms", {"company.created"}));
    auto reject = [](const messaging::Message& m) {
      throw messaging::PermanentError(m.event.type == "company.created" ? "no VAT number"
                                      : m.event.payload.find("Half") != std::string::npos
                                          ? "discount over 50% needs approval"
                                          : "no email");
    };
    b.consume("people", reject);
    b.consume("firms", reject);
    b.start();
    for (const char* last : {"Lovelace", "Half", "Hopper"}) add_contact(last);
    db().transact([&](store::UnitOfWork& uow) {
      stores(db()).companies().create(uow, named<Company>("Acme"));
      stores(db()).companies().create(uow, named<Company>("Initech"));
    });
    auto dlq = messaging::detail::dead_letter_store(db());
    ASSERT_TRUE(eventually([&] { return dlq.list().size() == 5; }));
    b.stop();
  }
  std::size_t listed(const DeadLetterFilter& f) {
    return messaging::detail::dead_letter_store(db()).list(f).size();
  }
};
BANYAN_ON_BOTH_BACKENDS(DeadLetterStoreTest);

TEST_P(DeadLetterStoreTest, ListFiltersByQueueTypeErrorTextAndAge) {
  fill();
  auto dlq = messaging::detail::dead_letter_store(db());
  EXPECT_EQ(listed({.queue = "people"}), 3u);
  EXPECT_EQ(listed({.queue = "firms"}), 2u);
  EXPECT_EQ(listed({.event_type = "company.created"}), 2u);
  EXPECT_EQ(listed({.queue = "people", .event_type = "company.created"}), 0u);
  EXPECT_EQ(listed({.error_contains = "50%"}), 1u);  // % is literal
  EXPECT_EQ(listed({.error_contains = "5_%"}), 0u);  // _ is literal
  EXPECT_EQ(listed({.error_contains = "VAT"}), 2u);
  EXPECT_EQ(listed({.older_than = std::chrono::hours(1)}), 0u);
  EXPECT_EQ(listed({.newer_than = std::chrono::hours(1)}), 5u);
  // Newest first, paged by id.
  auto page = dlq.list({}, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_GT(page[0].id, page[1].id);
  auto rest = dlq.list({}, 10, page[1].id);
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_LT(rest[0].id, page[1].id);
  EXPECT_THROW(dlq.list({}, 0), ValidationError);
}

TEST_P(DeadLetterStoreTest, GetShowsOneEntryAndUnknownIdsAreNotFound) {
  fill();
  auto dlq = messaging::detail::dead_letter_store(db());
  auto first = dlq.list({.queue = "firms"}).back();
  auto got = dlq.get(first.id);
  EXPECT_EQ(got.queue, "firms");
  EXPECT_EQ(got.last_error, "no VAT number");
  EXPECT_NE(got.event.payload.find("Acme"), std::string::npos);
  EXPECT_THROW(dlq.get(999999), NotFound);
  EXPECT_THROW(dlq.replay(999999), NotFound);
}

TEST_P(DeadLetterStoreTest, ReplayPutsTheMessageBackOnceAndKeepsHistory) {
  fill();
  auto dlq = messaging::detail::dead_letter_store(db());
  auto entry = dlq.list({.queue = "people"}).front();
  dlq.replay(entry.id);
  EXPECT_THROW(dlq.replay(entry.id), Conflict);
  EXPECT_EQ(count("SELECT COUNT(*) FROM queue_messages WHERE queue = 'people' AND attempts = 0"),
            1);
  EXPECT_EQ(dlq.list({.queue = "people"}).size(), 2u);
  auto history = dlq.history("people", entry.event.id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].replayed_at.has_value());
  // It fails again: a second entry joins the history.
  messaging::MessageBus& b = bus();
  b.consume("people",
            [](const messaging::Message&) { throw messaging::PermanentError("still bad"); });
  b.start();
  ASSERT_TRUE(eventually([&] { return dlq.history("people", entry.event.id).size() == 2; }));
  EXPECT_EQ(dlq.history("people", entry.event.id)[1].last_error, "still bad");
}

TEST_P(DeadLetterStoreTest, PurgeDeletesByIdByFilterAndByRetention) {
  fill();
  auto dlq = messaging::detail::dead_letter_store(db());
  auto one = dlq.list({.queue = "firms"}).front();
  EXPECT_TRUE(dlq.purge(one.id));
  EXPECT_FALSE(dlq.purge(one.id));
  EXPECT_EQ(dlq.purge({.error_contains = "VAT"}), 1u);
  EXPECT_EQ(dlq.purge_older_than(std::chrono::hours(24)), 0u);  // all are new
  ASSERT_EQ(dlq.stats().size(), 1u);
  EXPECT_EQ(dlq.stats()[0].queue, "people");
  EXPECT_EQ(dlq.stats()[0].depth, 3);
  EXPECT_GE(dlq.stats()[0].oldest_age.count(), 0);
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(dlq.purge_older_than(1ms), 3u);
  EXPECT_TRUE(dlq.list({.include_replayed = true}).empty());
}

TEST_P(DeadLetterStoreTest, RecordProcessedIsTrueOncePerConsumerAndMessageAndUndoneByRollback) {
  auto record = [&](const std::string& consumer, const std::string& id, bool commit) {
    auto uow = db().begin();
    const bool first = messaging::record_processed(uow, consumer, id);
    if (commit) uow.commit();
    return first;
  };
  EXPECT_TRUE(record("mailer", "m1", false));  // rolled back: not recorded
  EXPECT_TRUE(record("mailer", "m1", true));
  EXPECT_FALSE(record("mailer", "m1", true));
  EXPECT_TRUE(record("billing", "m1", true));  // per consumer
  EXPECT_EQ(count("SELECT COUNT(*) FROM processed_messages"), 2);
  auto uow = db().begin();
  EXPECT_THROW((void)messaging::record_processed(uow, "", "m2"), ValidationError);
  EXPECT_THROW((void)messaging::record_processed(uow, "mailer", std::string(191, 'x')),
               ValidationError);
}

}  // namespace
}  // namespace banyan::test
