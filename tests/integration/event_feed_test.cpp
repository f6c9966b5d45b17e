// The event feed through the Engine, on both backends: commit order whatever the sequence
// says, each event shown only to who may read its record and masked as the record is,
// type patterns, and cursors past the outbox's retention.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine_fixture.hpp"
#include "messaging/event_feed_store.hpp"
#include "messaging/queue_store.hpp"

namespace banyan::test {
namespace {

using nlohmann::json;

class EventFeedTest : public EngineTest {
 protected:
  // One relay round as the relay runs it: what is pending, routed (to no queue) and marked.
  void relay() {
    db().transact([&](store::UnitOfWork& uow) {
      const auto pending = messaging::detail::pending_events(uow, 1000);
      messaging::detail::route_events(uow, {}, pending, messaging::detail::now_us(uow), {},
                                      "test-relay");
    });
  }
  EventFeedPage page(const Principal& who, std::uint64_t after, std::vector<std::string> types = {},
                     std::size_t limit = 1000) {
    return db().read([&](store::UnitOfWork& uow) {
      EventFeedRequest r;
      r.after = after;
      r.types = std::move(types);
      r.limit = limit;
      return engine().events(uow, who, r);
    });
  }
  // "type id" of each event of a page.
  static std::vector<std::string> lines(const EventFeedPage& p) {
    std::vector<std::string> out;
    for (const auto& e : p.items)
      out.push_back(e.event.type + " " + std::to_string(e.event.aggregate_id));
    return out;
  }
  // Where the feed ends now, for `who`.
  std::uint64_t end_of_feed(const Principal& who) {
    relay();
    std::uint64_t next = 0;
    for (EventFeedPage p = page(who, 0);; p = page(who, next)) {
      next = p.next;
      if (!p.more) return next;
    }
  }
};
BANYAN_ON_BOTH_BACKENDS(EventFeedTest);

using Lines = std::vector<std::string>;

TEST_P(EventFeedTest, AnEventWhoseCommitBecameVisibleLaterIsFedLaterNeverSkipped) {
  if (GetParam() == Backend::kSqlite)
    GTEST_SKIP() << "SQLite has one writer at a time: commits follow the sequence there";
  const std::uint64_t start = end_of_feed(admin);
  store::UnitOfWork late = db().begin();
  const Id late_id = stores(db()).contacts().create(late, contact("Late", "Committer")).id;
  const Id early_id = db().transact([&](store::UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Early", "Committer")).id;
  });
  ASSERT_LT(late_id, early_id) << "the late one took the lower sequence";
  relay();
  const EventFeedPage first = page(admin, start);
  EXPECT_EQ(lines(first), (Lines{"contact.created " + std::to_string(early_id)}));
  late.commit();
  relay();
  EXPECT_EQ(lines(page(admin, first.next)), (Lines{"contact.created " + std::to_string(late_id)}))
      << "the lower sequence, committed later, comes after the cursor";
}

TEST_P(EventFeedTest, EachPrincipalSeesEventsOfRecordsItMayReadMaskedAsItReadsThem) {
  const std::uint64_t start = end_of_feed(admin);
  db().transact([&](store::UnitOfWork& uow) {
    Contact c = stores(db()).contacts().get(uow, own.id);
    c.title = "Countess";
    stores(db()).contacts().update(uow, c);
    Contact w = stores(db()).contacts().get(uow, westerners.id);
    w.title = "Engineer";
    stores(db()).contacts().update(uow, w);
  });
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().remove(uow, westerners.id); });
  relay();
  const std::string own_id = std::to_string(own.id), west_id = std::to_string(westerners.id);
  EXPECT_EQ(lines(page(admin, start)),
            (Lines{"contact.updated " + own_id, "contact.updated " + west_id,
                   "contact.deleted " + west_id}));
  EXPECT_EQ(lines(page(rep, start)), (Lines{"contact.updated " + own_id}))
      << "the westerner's record, and its deletion, are another team's";
  EXPECT_EQ(lines(page(westerner, start)),
            (Lines{"contact.updated " + west_id, "contact.deleted " + west_id}))
      << "a deletion is shown to who could read the record";
  EXPECT_THROW(page(nobody, start), PermissionDenied) << "it may read no records";

  const auto payload = [&](const Principal& who) {
    return json::parse(page(who, start).items.front().event.payload);
  };
  EXPECT_EQ(payload(admin)["email"], "Own@example.com");
  EXPECT_EQ(payload(rep)["email"], "Own@example.com");
  EXPECT_TRUE(payload(reader)["email"].is_null()) << "read_only does not see sensitive fields";
  EXPECT_EQ(payload(reader)["title"], "Countess");
  const json deleted = json::parse(page(westerner, start).items.back().event.payload);
  EXPECT_EQ(deleted["id"], westerners.id);
  EXPECT_EQ(deleted["owner_id"], westerner.user_id);
  EXPECT_EQ(deleted["team_id"], west);
}

TEST_P(EventFeedTest, TypePatternsSelectEventsAndTheCursorMovesPastTheOthers) {
  const std::uint64_t start = end_of_feed(admin);
  db().transact([&](store::UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("A", "One"));
    stores(db()).companies().create(uow, named<Company>("Acme"));
    stores(db()).contacts().create(uow, contact("B", "Two"));
  });
  relay();
  const EventFeedPage contacts = page(admin, start, {"contact.*"});
  EXPECT_EQ(contacts.items.size(), 2u);
  const EventFeedPage companies = page(admin, start, {"company.created"}, 1);
  ASSERT_EQ(companies.items.size(), 1u);
  EXPECT_EQ(companies.items[0].event.type, "company.created");
  EXPECT_TRUE(companies.more) << "a contact event follows it";
  const EventFeedPage rest = page(admin, companies.next, {"company.*"});
  EXPECT_TRUE(rest.items.empty());
  EXPECT_FALSE(rest.more);
  EXPECT_EQ(rest.next, end_of_feed(admin)) << "the cursor passed the events not asked for";
  EXPECT_EQ(page(admin, start, {"*"}).items.size(), 3u);
  for (const char* bad : {"", "contact.", "contact", ".created", "*.created", "con tact.*"})
    EXPECT_THROW(page(admin, start, {bad}), ValidationError) << bad;
  EXPECT_THROW(page(admin, start, {}, 0), ValidationError);
  EXPECT_THROW(page(admin, start, {}, 1001), ValidationError);
}

TEST_P(EventFeedTest, ACursorOlderThanRetentionKeptIsExpiredAndTheOldestIsSaid) {
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 3; ++i)
      stores(db()).contacts().create(uow, contact("R", std::to_string(i)));
  });
  relay();
  const EventFeedPage all = page(admin, 0);
  ASSERT_GE(all.items.size(), 3u);
  const std::uint64_t second = all.items[1].position;
  // Retention deletes every event relayed so far.
  db().transact([&](store::UnitOfWork& uow) {
    messaging::detail::purge_relayed_events(uow, messaging::detail::now_us(uow) + 1, 10000);
  });
  const EventFeedPage expired = page(admin, second);
  EXPECT_TRUE(expired.expired);
  EXPECT_TRUE(expired.items.empty());
  EXPECT_EQ(expired.oldest, all.items.back().position);
  const EventFeedPage from_oldest = page(admin, expired.oldest);
  EXPECT_FALSE(from_oldest.expired);
  const EventFeedPage from_start = page(admin, 0);
  EXPECT_FALSE(from_start.expired) << "0 is the oldest kept, whatever that is";
  EXPECT_TRUE(from_start.items.empty());
}

}  // namespace
}  // namespace banyan::test
