// The transactional outbox on both backends: every write appends its event in the same
// transaction; a rolled-back write leaves none.
#include <nlohmann/json.hpp>

#include <set>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::DomainEvent;
using store::UnitOfWork;

class OutboxTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(OutboxTest);

using Types = std::vector<std::string>;

TEST_P(OutboxTest, EveryWriteAppendsItsEventWithTheRecordAsPayload) {
  db().transact([&](UnitOfWork& uow) {
    CustomFieldDefinition tier;
    tier.name = "tier";
    tier.type = CustomFieldType::kText;
    stores(db()).custom_fields().define(uow, tier);
  });
  const auto start = last_sequence();
  Contact c = db().transact(
      [&](UnitOfWork& uow) {
        Contact in = contact("Ada", "Lovelace", "ada@example.com");
        in.custom = {{"tier", std::string("gold")}};
        return stores(db()).contacts().create(uow, in);
      },
      42);
  c.title = "Countess";
  c = db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, c); }, 42);
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().archive(uow, c.id);
    stores(db()).contacts().restore(uow, c.id);
    stores(db()).contacts().remove(uow, c.id);
  });
  auto log = events(start);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(types(start), (Types{"contact.created", "contact.updated", "contact.archived",
                                 "contact.restored", "contact.deleted"}));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].aggregate_type, ObjectType::kContact);
    EXPECT_EQ(log[i].aggregate_id, c.id);
    EXPECT_EQ(log[i].id.size(), 32u);
    EXPECT_TRUE(ids.insert(log[i].id).second) << "event ids are unique";
    if (i > 0) {
      EXPECT_GT(log[i].sequence, log[i - 1].sequence);
    }
  }
  EXPECT_EQ(log[0].aggregate_version, 1u);
  EXPECT_EQ(log[1].aggregate_version, 2u);
  EXPECT_EQ(log[4].aggregate_version, 0u);
  EXPECT_EQ(log[0].actor, 42u);
  EXPECT_EQ(log[2].actor, std::nullopt);
  const auto created = nlohmann::json::parse(log[0].payload);
  EXPECT_EQ(created["last_name"], "Lovelace");
  EXPECT_EQ(created["email"], "ada@example.com");
  EXPECT_TRUE(created["title"].is_null());
  EXPECT_EQ(created["custom"]["tier"], "gold");
  EXPECT_EQ(nlohmann::json::parse(log[1].payload)["title"], "Countess");
  EXPECT_FALSE(nlohmann::json::parse(log[2].payload)["archived_at"].is_null());
  EXPECT_EQ(nlohmann::json::parse(log[4].payload)["id"], c.id);
}

TEST_P(OutboxTest, ARolledBackOrRejectedWriteLeavesNoEvent) {
  const auto start = last_sequence();
  {
    UnitOfWork uow = db().begin();
    stores(db()).contacts().create(uow, contact("Never", "Committed"));
  }
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("First", "Half"));
    stores(db()).contacts().create(uow, contact("Bad", "Email", "nope"));
  }),
               ValidationError);
  Contact c = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).contacts().create(uow, contact("A", "B")); });
  Contact stale = c;
  c.title = "x";
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, c); });
  stale.title = "y";
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, stale); }),
               Conflict);
  EXPECT_EQ(types(start), (Types{"contact.created", "contact.updated"}));
}

TEST_P(OutboxTest, StageChangesConversionsAndMergesHaveTheirOwnEvents) {
  SalesPipeline p = make_pipeline();
  auto start = last_sequence();
  Deal d = db().transact([&](UnitOfWork& uow) {
    Deal in;
    in.title = "Engine";
    in.pipeline_id = p.pipeline.id;
    in.stage_id = p.lead.id;
    return stores(db()).deals().create(uow, in);
  });
  d.stage_id = p.won.id;
  db().transact([&](UnitOfWork& uow) { stores(db()).deals().update(uow, d); });
  auto log = events(start);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[1].type, "deal.updated");
  EXPECT_EQ(log[2].type, "deal.won") << "a move to a won stage wins the deal";
  EXPECT_EQ(nlohmann::json::parse(log[2].payload)["status"], "won");
  EXPECT_EQ(log[3].type, "deal.stage_changed");
  auto change = nlohmann::json::parse(log[3].payload);
  EXPECT_EQ(change["from_stage_id"], p.lead.id);
  EXPECT_EQ(change["to_stage_id"], p.won.id);
  EXPECT_GE(change["time_in_previous_stage_us"].get<std::int64_t>(), 0);

  start = last_sequence();
  Lead lead = db().transact([&](UnitOfWork& uow) {
    Lead l;
    l.first_name = "Peter";
    l.last_name = "Gibbons";
    l.company_name = "Initech";
    return stores(db()).leads().create(uow, l);
  });
  store::ConversionResult r = db().transact([&](UnitOfWork& uow) {
    store::LeadConversion c;
    c.lead_id = lead.id;
    return stores(db()).lead_converter().convert(uow, c);
  });
  // The contact's link to its new company is a change of its own.
  EXPECT_EQ(types(start), (Types{"lead.created", "company.created", "contact.created",
                                 "contact.company_linked", "lead.converted"}));
  auto converted = nlohmann::json::parse(events(start).back().payload);
  EXPECT_EQ(converted["contact_id"], r.contact.id);
  EXPECT_TRUE(converted["deal_id"].is_null());

  Contact twin = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Peter", "Gibbons"));
  });
  start = last_sequence();
  db().transact([&](UnitOfWork& uow) {
    store::MergeRequest m;
    m.type = ObjectType::kContact;
    m.survivor = r.contact.id;
    m.losers = {twin.id};
    stores(db()).duplicates().merge(uow, m);
  });
  auto merged = events(start);
  ASSERT_FALSE(merged.empty());
  EXPECT_EQ(merged.back().type, "contact.merged");
  EXPECT_EQ(merged.back().aggregate_id, r.contact.id);
  EXPECT_EQ(nlohmann::json::parse(merged.back().payload)["merged"], nlohmann::json({twin.id}));
  bool loser_archived = false;
  for (const auto& e : merged)
    loser_archived |= e.type == "contact.archived" && e.aggregate_id == twin.id;
  EXPECT_TRUE(loser_archived);
}

TEST_P(OutboxTest, ReadsInPagesAfterASequence) {
  db().transact([&](UnitOfWork& uow) {
    for (int i = 0; i < 7; ++i)
      stores(db()).contacts().create(uow, contact("N" + std::to_string(i), "X"));
  });
  std::vector<std::uint64_t> seen;
  std::uint64_t after = 0;
  for (;;) {
    auto page =
        db().transact([&](UnitOfWork& uow) { return stores(db()).outbox().read(uow, after, 3); });
    if (page.empty()) break;
    EXPECT_LE(page.size(), 3u);
    for (const auto& e : page) seen.push_back(e.sequence);
    after = page.back().sequence;
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).outbox().read(uow, 0, 0); }),
               ValidationError);
}

TEST_P(OutboxTest, AnApplicationsOwnEventCommitsWithItsWritesAndKeepsItsPayloadAsGiven) {
  const auto start = last_sequence();
  const std::string payload = R"({"order": 7, "lines": [1, 2], "note": "caf\u00e9 ok"})";
  const DomainEvent appended = db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Ada", "Orders"));
    return stores(db()).outbox().append(uow, "order.placed", {ObjectType::kContact, 41}, payload,
                                        3);
  });
  {
    UnitOfWork uow = db().begin();  // rolled back: its event goes with it
    stores(db()).outbox().append(uow, "order.placed", {ObjectType::kContact, 42}, "{}");
  }
  auto after = events(start);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].type, "contact.created");
  EXPECT_EQ(after[1], appended);
  EXPECT_EQ(after[1].type, "order.placed");
  EXPECT_EQ(after[1].aggregate_id, 41u);
  EXPECT_EQ(after[1].aggregate_version, 3u);
  EXPECT_EQ(after[1].payload, payload);
  EXPECT_EQ(after[1].id.size(), 32u);
}

TEST_P(OutboxTest, AnApplicationEventWithABadTypeOrPayloadIsRefusedAndLeavesNothing) {
  const auto start = last_sequence();
  auto refused = [&](const std::string& type, const std::string& payload,
                     const std::string& field) {
    try {
      db().transact([&](UnitOfWork& uow) {
        stores(db()).outbox().append(uow, "ok.first", {ObjectType::kDeal, 1}, "{}");
        stores(db()).outbox().append(uow, type, {ObjectType::kDeal, 1}, payload);
      });
      ADD_FAILURE() << "accepted type '" << type << "' payload '" << payload << "'";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field) << type << " " << payload;
    }
  };
  for (const char* type : {"", "order", ".placed", "order.", "order placed", "order.placé",
                           "order;drop.table", "a.\x1f"})
    refused(type, "{}", "type");
  refused(std::string(191, 'a') + ".b", "{}", "type");
  for (const char* payload : {"", "   ", "[]", "42", "\"text\"", "null", "{", "{\"a\":1} trailing",
                              "{\"a\":1,}", "{'a':1}", "{\"a\":\"\xff\"}"})
    refused("order.placed", payload, "payload");
  refused("order.placed", "{\"big\":\"" + std::string(1 << 20, 'x') + "\"}", "payload");
  EXPECT_TRUE(events(start).empty());
}

// Responses kept by idempotency key live in the caller's unit of work.
TEST_P(OutboxTest, TheRequestLogKeepsAResponsePerKeyOnlyWhenItsUnitOfWorkCommits) {
  const auto log = stores(db()).request_log();
  const store::StoredResponse first{
      "f1", 201, R"({"Location":"/v1/contacts/1"})", R"({"id":1})", {}};
  {
    UnitOfWork uow = db().begin();  // rolled back: nothing kept
    log.save(uow, "key-1", first);
  }
  db().transact([&](UnitOfWork& uow) {
    EXPECT_FALSE(log.find(uow, "key-1"));
    log.save(uow, "key-1", first);
  });
  auto stored = db().transact([&](UnitOfWork& uow) { return log.find(uow, "key-1"); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->fingerprint, "f1");
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(stored->headers, first.headers);
  EXPECT_EQ(stored->body, first.body);
  EXPECT_GT(stored->created_at.time_since_epoch().count(), 0);
  try {
    db().transact([&](UnitOfWork& uow) { log.save(uow, "key-1", first); });
    ADD_FAILURE() << "a second response was kept under one key";
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "key");
  }
  for (const std::string& bad :
       {std::string(), std::string(256, 'k'), std::string("has space"), std::string("tab\t")}) {
    try {
      db().transact([&](UnitOfWork& uow) { log.find(uow, bad); });
      ADD_FAILURE() << "accepted key '" << bad << "'";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "key");
    }
  }
  const auto purged = db().transact([&](UnitOfWork& uow) {
    return log.purge_older_than(uow, Timestamp(std::chrono::microseconds(0)));
  });
  EXPECT_EQ(purged, 0u);
  const auto later =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) +
      std::chrono::seconds(1);
  EXPECT_EQ(db().transact([&](UnitOfWork& uow) { return log.purge_older_than(uow, later); }), 1u);
  EXPECT_FALSE(db().transact([&](UnitOfWork& uow) { return log.find(uow, "key-1"); }));
}

}  // namespace
}  // namespace banyan::test
