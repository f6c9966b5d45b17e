// The audit trail on both backends: every record write (and a noted denial) is an entry,
// written in the writing transaction, chained by hash; tampering with the table is found;
// field history and reading a record as it was at a past time come from it; concurrent
// writers keep one unbroken chain.
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "banyan/store/audit_log.hpp"
#include "security/role_store.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class AuditTest : public StoreTest {
 protected:
  std::vector<store::AuditEntry> entries(std::optional<ObjectRef> object = std::nullopt) {
    return db().read([&](store::UnitOfWork& uow) {
      store::AuditQuery q;
      q.object = object;
      q.limit = 1000;
      return stores(db()).audit().query(uow, q);
    });
  }
  store::AuditVerification verify() {
    return db().read([&](store::UnitOfWork& uow) { return stores(db()).audit().verify(uow); });
  }
  // The database's time is the test's: it moves when pause() moves it.
  store::DatabaseOptions database_options() override {
    store::DatabaseOptions o;
    o.clock = clock;
    return o;
  }
  Timestamp now() const { return clock->wall(); }
  // A moment strictly between the writes before and after it.
  Timestamp pause() {
    clock->advance(1ms);
    const auto t = now();
    clock->advance(1ms);
    return t;
  }
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  Id ann() {
    return db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = "ann@example.com";
      u.name = "Ann";
      return stores(db()).users().create(uow, u).id;
    });
  }
};
BANYAN_ON_BOTH_BACKENDS(AuditTest);

TEST_P(AuditTest, EveryWriteIsAnEntryWithWhoWhereAndWhatChanged) {
  const Id actor = ann();
  Contact c = db().transact(
      [&](store::UnitOfWork& uow) {
        uow.describe_actor("ann@example.com", "192.0.2.7");
        return stores(db()).contacts().create(uow, contact("Ada", "Byron", "ada@example.com"));
      },
      actor);
  db().transact(
      [&](store::UnitOfWork& uow) {
        c.last_name = "Lovelace";
        c = stores(db()).contacts().update(uow, c);
        stores(db()).contacts().archive(uow, c.id);
        stores(db()).contacts().restore(uow, c.id);
        stores(db()).contacts().remove(uow, c.id);
      },
      actor);
  const auto log = entries(ObjectRef{ObjectType::kContact, c.id});
  ASSERT_EQ(log.size(), 5u);
  std::vector<std::string> actions;
  for (const auto& e : log) actions.push_back(e.action);
  EXPECT_EQ(actions,
            (std::vector<std::string>{"created", "updated", "archived", "restored", "deleted"}));
  EXPECT_EQ(log[0].actor_id, actor);
  EXPECT_EQ(log[0].actor, "ann@example.com");
  EXPECT_EQ(log[0].origin, "192.0.2.7");
  EXPECT_EQ(log[1].actor, "") << "the second unit of work named no one";
  EXPECT_EQ(log[1].actor_id, actor) << "but it had a user";
  const json created = json::parse(log[0].changes);
  EXPECT_EQ(created["email"], json::array({nullptr, "ada@example.com"}));
  EXPECT_EQ(created["first_name"], json::array({nullptr, "Ada"}));
  const json updated = json::parse(log[1].changes);
  EXPECT_EQ(updated["last_name"], json::array({"Byron", "Lovelace"}));
  EXPECT_FALSE(updated.contains("first_name")) << "only what changed";
  EXPECT_TRUE(json::parse(log[2].changes)["archived_at"][0].is_null());
  EXPECT_EQ(json::parse(log[4].changes)["last_name"], json::array({"Lovelace", nullptr}));
  EXPECT_EQ(log[0].id + 4, log[4].id) << "numbered without gaps";
  const auto v = verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, entries().size());
}

// Trusted code writes with no user (a saga, the CLI, a program embedding the store): the
// trail names the system principal rather than no one.
TEST_P(AuditTest, AWriteWithNoUserIsTheSystemsInTheTrail) {
  const Contact c = db().transact([&](store::UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Byron"));
  });
  const auto log = entries(ObjectRef{ObjectType::kContact, c.id});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].actor, "system");
  EXPECT_EQ(log[0].actor_id, std::nullopt);
  EXPECT_TRUE(verify().intact);
}

TEST_P(AuditTest, ARolledBackWriteLeavesNoEntryAndADenialIsOne) {
  const auto before = entries().size();
  try {
    db().transact([&](store::UnitOfWork& uow) {
      stores(db()).contacts().create(uow, contact("Gone", "Soon"));
      throw std::runtime_error("changed my mind");
    });
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(entries().size(), before);
  db().transact([&](store::UnitOfWork& uow) {
    uow.describe_actor("rep@example.com", "198.51.100.1");
    stores(db()).audit().record_denial(uow, {ObjectType::kDeal, 42},
                                       "delete: rep@example.com may not delete deal 42");
  });
  const auto log = entries(ObjectRef{ObjectType::kDeal, 42});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].action, "denied");
  EXPECT_EQ(log[0].detail, "delete: rep@example.com may not delete deal 42");
  EXPECT_EQ(log[0].origin, "198.51.100.1");
  EXPECT_TRUE(verify().intact);
}

TEST_P(AuditTest, EditingRemovingOrCuttingOffEntriesIsFound) {
  for (int i = 0; i < 4; ++i)
    db().transact([&](store::UnitOfWork& uow) {
      stores(db()).contacts().create(uow, contact("N" + std::to_string(i), "X"));
    });
  ASSERT_TRUE(verify().intact);

  // An edited past entry (the tamperer cannot recompute the hash without breaking the next link).
  scratch().raw("UPDATE audit_log SET changes = '{}' WHERE id = 2");
  auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 2u);
  EXPECT_NE(v.problem.find("changed"), std::string::npos) << v.problem;
  // Its hash recomputed too: the next entry's link gives it away.
  scratch().raw("UPDATE audit_log SET hash = 'f" + std::string(63, '0') + "' WHERE id = 2");
  v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 2u);

  // A removed entry in the middle.
  scratch().raw("DELETE FROM audit_log WHERE id = 3");
  v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_LE(v.first_bad, 3u);

  // Only the newest entry removed: the head remembers it.
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Late", "X")); });
  scratch().raw("DELETE FROM audit_log WHERE id IN (1, 2, 3, 4)");  // keep only 5
  scratch().raw("DELETE FROM audit_log WHERE id = 5");
  v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_NE(v.problem.find("removed"), std::string::npos) << v.problem;
}

TEST_P(AuditTest, AnUntouchedLogOfManyEntriesVerifies) {
  db().transact([&](store::UnitOfWork& uow) {
    for (int i = 0; i < 1500; ++i)
      stores(db()).contacts().create(uow, contact("Bulk", std::to_string(i)));
  });
  const auto v = verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 1500u);
}

TEST_P(AuditTest, FieldHistoryAndTheRecordAsItWasAtAnyTime) {
  db().transact([&](store::UnitOfWork& uow) {
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kText;
    stores(db()).custom_fields().define(uow, tier);
  });
  const Timestamp before_creation = pause();
  Contact c = db().transact([&](store::UnitOfWork& uow) {
    Contact x = contact("Ada", "Byron", "ada@example.com");
    x.custom["tier"] = std::string("silver");
    return stores(db()).contacts().create(uow, x);
  });
  const auto created_version = c.version;
  const Timestamp first = pause();
  c = db().transact([&](store::UnitOfWork& uow) {
    c.last_name = "King";
    c.custom["tier"] = std::string("gold");
    return stores(db()).contacts().update(uow, c);
  });
  const auto updated_version = c.version;
  const Timestamp second = pause();
  c = db().transact([&](store::UnitOfWork& uow) {
    c.last_name = "Lovelace";
    c.email = "countess@example.com";
    return stores(db()).contacts().update(uow, c);
  });
  const Timestamp third = pause();
  db().transact([&](store::UnitOfWork& uow) { stores(db()).contacts().remove(uow, c.id); });

  db().read([&](store::UnitOfWork& uow) {
    const auto audit = stores(db()).audit();
    const auto names = audit.history(uow, {ObjectType::kContact, c.id}, "last_name");
    ASSERT_EQ(names.size(), 4u);
    EXPECT_EQ(names[0].after, "\"Byron\"");
    EXPECT_EQ(names[1].before, "\"Byron\"");
    EXPECT_EQ(names[1].after, "\"King\"");
    EXPECT_EQ(names[2].after, "\"Lovelace\"");
    EXPECT_EQ(names[3].action, "deleted");
    const auto tiers = audit.history(uow, {ObjectType::kContact, c.id}, "custom.tier");
    ASSERT_EQ(tiers.size(), 3u);
    EXPECT_EQ(tiers[1].after, "\"gold\"");
    const auto all = audit.history(uow, {ObjectType::kContact, c.id});
    for (const auto& change : all)
      EXPECT_NE(change.field, "updated_at") << "bookkeeping only when asked for";

    EXPECT_FALSE(audit.as_of<Contact>(uow, c.id, before_creation)) << "not created yet";
    const auto at_first = audit.as_of<Contact>(uow, c.id, first);
    ASSERT_TRUE(at_first);
    EXPECT_EQ(at_first->id, c.id);
    EXPECT_EQ(at_first->first_name, "Ada");
    EXPECT_EQ(at_first->last_name, "Byron");
    EXPECT_EQ(at_first->email, "ada@example.com");
    EXPECT_EQ(at_first->version, created_version);
    EXPECT_EQ(std::get<std::string>(at_first->custom.at("tier")), "silver");
    const auto at_second = audit.as_of<Contact>(uow, c.id, second);
    ASSERT_TRUE(at_second);
    EXPECT_EQ(at_second->last_name, "King");
    EXPECT_EQ(std::get<std::string>(at_second->custom.at("tier")), "gold");
    EXPECT_EQ(at_second->version, updated_version);
    EXPECT_NE(created_version, updated_version);
    const auto at_third = audit.as_of<Contact>(uow, c.id, third);
    ASSERT_TRUE(at_third);
    EXPECT_EQ(at_third->last_name, "Lovelace");
    EXPECT_EQ(at_third->email, "countess@example.com");
    EXPECT_FALSE(audit.as_of<Contact>(uow, c.id, now())) << "deleted since";
  });
}

TEST_P(AuditTest, MergesAndConversionsAreEntriesToo) {
  const auto [survivor, loser] = db().transact([&](store::UnitOfWork& uow) {
    return std::pair{
        stores(db()).contacts().create(uow, contact("Ada", "Lovelace", "ada@example.com")).id,
        stores(db()).contacts().create(uow, contact("Ada", "Lovelace", "ada@example.org")).id};
  });
  db().transact([&](store::UnitOfWork& uow) {
    store::MergeRequest m;
    m.survivor = survivor;
    m.losers = {loser};
    stores(db()).duplicates().merge(uow, m);
  });
  const auto log = entries(ObjectRef{ObjectType::kContact, loser});
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log.back().action, "merged");
  EXPECT_EQ(json::parse(log.back().changes)["merged_into_id"], json::array({nullptr, survivor}));

  const Id lead = db().transact([&](store::UnitOfWork& uow) {
    Lead l;
    l.first_name = "Grace";
    l.last_name = "Hopper";
    l.company_name = "Navy";
    return stores(db()).leads().create(uow, l).id;
  });
  db().transact([&](store::UnitOfWork& uow) {
    store::LeadConversion conversion;
    conversion.lead_id = lead;
    stores(db()).lead_converter().convert(uow, conversion);
  });
  const auto lead_log = entries(ObjectRef{ObjectType::kLead, lead});
  ASSERT_EQ(lead_log.size(), 2u);
  EXPECT_EQ(lead_log[1].action, "converted");
  EXPECT_EQ(json::parse(lead_log[1].changes)["status"][1], "converted");
  EXPECT_TRUE(verify().intact);
}

TEST_P(AuditTest, ConcurrentWritersKeepOneUnbrokenChain) {
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        try {
          db().transact([&](store::UnitOfWork& uow) {
            auto c = stores(db()).contacts().create(
                uow, contact("W" + std::to_string(t), std::to_string(i)));
            c.title = "updated";
            stores(db()).contacts().update(uow, c);
          });
        } catch (const Error&) {
          ++failed;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failed.load(), 0);
  const auto v = verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 4u * 40u * 2u);
}

TEST_P(AuditTest, QueriesByActorAndTimeAndPages) {
  const Id actor = ann();
  const Timestamp start = pause();
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Mine", "A")); },
      actor);
  const Timestamp middle = pause();
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Other", "B")); });
  db().transact(
      [&](store::UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Mine", "C")); },
      actor);
  db().read([&](store::UnitOfWork& uow) {
    store::AuditQuery by_actor;
    by_actor.actor_id = actor;
    EXPECT_EQ(stores(db()).audit().query(uow, by_actor).size(), 2u);
    store::AuditQuery window;
    window.from = start;
    window.to = middle;
    const auto early = stores(db()).audit().query(uow, window);
    ASSERT_EQ(early.size(), 1u);
    EXPECT_EQ(json::parse(early[0].changes)["last_name"][1], "A");
    store::AuditQuery page;
    page.from = start;
    page.limit = 2;
    const auto first = stores(db()).audit().query(uow, page);
    ASSERT_EQ(first.size(), 2u);
    page.after = first.back().id;
    EXPECT_EQ(stores(db()).audit().query(uow, page).size(), 1u);
    page.limit = 0;
    EXPECT_THROW(stores(db()).audit().query(uow, page), ValidationError);
  });
}

TEST_P(AuditTest, CustomRoleDefinitionsAreEntriesWithTheirBeforeAndAfter) {
  const Id actor = ann();
  security::Role role{"auditor",
                      "Reads deals",
                      {{ObjectType::kDeal, security::Action::kRead, security::Scope::kAll}},
                      false};
  db().transact([&](store::UnitOfWork& uow) { security::RoleStore().create(uow, role); }, actor);
  role.description = "Reads and exports deals";
  role.grants.push_back({ObjectType::kDeal, security::Action::kExport, security::Scope::kAll});
  db().transact([&](store::UnitOfWork& uow) { security::RoleStore().update(uow, role); }, actor);
  db().transact([&](store::UnitOfWork& uow) { security::RoleStore().remove(uow, "auditor"); },
                actor);
  // A refused change writes no entry.
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { security::RoleStore().remove(uow, "admin"); },
                    actor),
      PermissionDenied);

  const auto found = entries(ObjectRef{ObjectType::kUser, 0});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].action, "role_created");
  EXPECT_EQ(found[1].action, "role_updated");
  EXPECT_EQ(found[2].action, "role_deleted");
  for (const auto& e : found) EXPECT_EQ(e.actor_id, actor);
  const json created = json::parse(found[0].changes)["role.auditor"];
  EXPECT_TRUE(created[0].is_null());
  EXPECT_EQ(created[1]["description"], "Reads deals");
  EXPECT_EQ(created[1]["grants"].size(), 1u);
  const json updated = json::parse(found[1].changes)["role.auditor"];
  EXPECT_EQ(updated[0]["description"], "Reads deals");
  EXPECT_EQ(updated[1]["grants"][1]["action"], "export");
  const json deleted = json::parse(found[2].changes)["role.auditor"];
  EXPECT_EQ(deleted[0]["description"], "Reads and exports deals");
  EXPECT_TRUE(deleted[1].is_null());
  EXPECT_TRUE(verify().intact);
}

}  // namespace
}  // namespace banyan::test
