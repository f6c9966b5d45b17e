// The service layer: every use case checked against the access policy, as each built-in
// role and a custom one, on both backends. Refusals change nothing. Records here; links,
// definitions, summaries, idempotent writes and events in engine_links_test.cpp.
#include "engine_fixture.hpp"
#include "security/role_store.hpp"

namespace banyan::test {
namespace {

using security::Action;
using security::Principal;
using security::Scope;

BANYAN_ON_BOTH_BACKENDS(EngineTest);

TEST_P(EngineTest, EachRoleListsExactlyTheRecordsItsScopeReaches) {
  EXPECT_EQ(visible(admin), (std::vector<std::string>{"Own", "Teammates", "Westerners"}));
  EXPECT_EQ(visible(manager), (std::vector<std::string>{"Own", "Teammates"}));
  EXPECT_EQ(visible(rep), (std::vector<std::string>{"Own", "Teammates"}));
  EXPECT_EQ(visible(westerner), (std::vector<std::string>{"Westerners"}));
  EXPECT_EQ(visible(reader), (std::vector<std::string>{"Own", "Teammates", "Westerners"}));
  EXPECT_EQ(visible(bot), (std::vector<std::string>{"Own", "Teammates", "Westerners"}));
  EXPECT_THROW(visible(nobody), PermissionDenied);
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(engine().contacts(rep).count(uow), 2u);
    EXPECT_EQ(engine().contacts(rep).count(
                  uow, store::Filter::eq("last_name", std::string("Westerners"))),
              0u);
    EXPECT_THROW(engine().contacts(nobody).count(uow), PermissionDenied);
  });
}

TEST_P(EngineTest, ARecordOutsideTheReadScopeIsNotFoundAsIfItDidNotExist) {
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(engine().contacts(rep).get(uow, teammates.id).last_name, "Teammates");
    EXPECT_THROW(engine().contacts(rep).get(uow, westerners.id), NotFound);
    EXPECT_FALSE(engine().contacts(rep).find(uow, westerners.id));
    EXPECT_THROW(engine().contacts(nobody).get(uow, own.id), NotFound);
    EXPECT_THROW(engine().contacts(rep).get(uow, 999999), NotFound);
  });
  for (auto attempt : {0, 1, 2}) {
    EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
      auto contacts = engine().contacts(rep);
      if (attempt == 0) contacts.remove(uow, westerners.id);
      if (attempt == 1) contacts.archive(uow, westerners.id);
      if (attempt == 2) {
        Contact c = westerners;
        c.first_name = "Mallory";
        contacts.update(uow, c);
      }
    }),
                 NotFound);
  }
  EXPECT_EQ(stored(westerners.id), westerners) << "refusals change nothing";
}

TEST_P(EngineTest, ASalesRepChangesAndDeletesOnlyItsOwnRecords) {
  Contact c = teammates;
  c.title = "Changed";
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { engine().contacts(rep).update(uow, c); }),
      PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().contacts(rep).remove(uow, teammates.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().contacts(rep).archive(uow, teammates.id);
  }),
               PermissionDenied);
  EXPECT_EQ(stored(teammates.id), teammates);

  Contact mine = own;
  mine.title = "Mine";
  const auto updated = db().transact(
      [&](store::UnitOfWork& uow) { return engine().contacts(rep).update(uow, mine); });
  EXPECT_EQ(updated.title, "Mine");
  EXPECT_EQ(updated.email, own.email) << "its own record's sensitive fields are visible";
  // Handing its record to someone else needs update reaching the new owner too.
  Contact handed = updated;
  handed.owner_id = teammate.user_id;
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { engine().contacts(rep).update(uow, handed); }),
      PermissionDenied);
  EXPECT_EQ(stored(own.id).owner_id, rep.user_id);
  db().transact([&](store::UnitOfWork& uow) { engine().contacts(rep).remove(uow, own.id); });
  EXPECT_FALSE(
      db().read([&](store::UnitOfWork& uow) { return stores(db()).contacts().find(uow, own.id); }));
}

TEST_P(EngineTest, SensitiveFieldsAreMaskedUnlessTheRoleSeesThemOnThatRecord) {
  auto seen = [&](const Principal& who, const Contact& c) {
    return db().read([&](store::UnitOfWork& uow) { return engine().contacts(who).get(uow, c.id); });
  };
  EXPECT_FALSE(seen(reader, own).email);
  EXPECT_FALSE(seen(reader, own).phone);
  EXPECT_EQ(seen(reader, own).last_name, "Own") << "the rest is there";
  EXPECT_EQ(seen(rep, own).email, own.email);
  EXPECT_FALSE(seen(rep, teammates).email)
      << "a teammate's record: readable, sensitive fields masked";
  EXPECT_EQ(seen(manager, teammates).email, teammates.email);
  EXPECT_EQ(seen(bot, westerners).phone, westerners.phone);
  const auto listed =
      db().read([&](store::UnitOfWork& uow) { return engine().contacts(reader).query(uow, {}); });
  for (const auto& c : listed.items) EXPECT_FALSE(c.email) << c.last_name;
}

TEST_P(EngineTest, FilteringOrSortingOnAFieldThePrincipalCannotSeeIsRefused) {
  db().read([&](store::UnitOfWork& uow) {
    store::PageRequest by_email;
    by_email.filter = store::Filter::starts_with("email", "Own");
    for (const auto* who : {&reader, &rep}) {
      try {
        engine().contacts(*who).query(uow, by_email);
        FAIL() << who->name << " filtered on a masked field";
      } catch (const PermissionDenied& e) {
        EXPECT_EQ(e.field(), "email");
      }
      EXPECT_THROW(engine().contacts(*who).count(uow, store::Filter::is_null("phone")),
                   PermissionDenied);
    }
    store::PageRequest by_phone;
    by_phone.sort = {"phone", false};
    EXPECT_THROW(engine().contacts(reader).query(uow, by_phone), PermissionDenied);
    EXPECT_EQ(engine().contacts(manager).query(uow, by_email).items.size(), 1u)
        << "a manager sees its teams' emails";
    EXPECT_EQ(engine().contacts(bot).query(uow, by_phone).items.size(), 3u);
  });
}

TEST_P(EngineTest, AMaskedFieldLeftEmptyKeepsItsValueAndWritingOneIsRefused) {
  const auto editor = with_contact_role("editor", {Action::kRead, Action::kUpdate});
  Contact shown = db().read(
      [&](store::UnitOfWork& uow) { return engine().contacts(editor).get(uow, westerners.id); });
  ASSERT_FALSE(shown.email);
  shown.title = "Edited";
  db().transact([&](store::UnitOfWork& uow) { engine().contacts(editor).update(uow, shown); });
  EXPECT_EQ(stored(westerners.id).title, "Edited");
  EXPECT_EQ(stored(westerners.id).email, westerners.email)
      << "the masked email survives the update";
  const auto before = stored(westerners.id);
  shown = db().read(
      [&](store::UnitOfWork& uow) { return engine().contacts(editor).get(uow, westerners.id); });
  shown.email = "attacker@example.com";
  try {
    db().transact([&](store::UnitOfWork& uow) { engine().contacts(editor).update(uow, shown); });
    FAIL() << "wrote a field it cannot see";
  } catch (const PermissionDenied& e) {
    EXPECT_EQ(e.field(), "email");
  }
  EXPECT_EQ(stored(westerners.id), before);
}

TEST_P(EngineTest, ACreatedRecordIsItsCreatorsAndCreatingNeedsTheRight) {
  const auto made = db().transact([&](store::UnitOfWork& uow) {
    return engine().contacts(rep).create(uow, contact("New", "Lead"));
  });
  EXPECT_EQ(made.owner_id, rep.user_id);
  Contact for_other = contact("For", "Other");
  for_other.owner_id = teammate.user_id;
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { engine().contacts(rep).create(uow, for_other); }),
      PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().contacts(reader).create(uow, contact("R", "O"));
  }),
               PermissionDenied);
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { engine().contacts(bot).remove(uow, own.id); }),
      PermissionDenied)
      << "integration never deletes";
  EXPECT_EQ(db().read([&](store::UnitOfWork& uow) { return stores(db()).contacts().count(uow); }),
            4u);
}

TEST_P(EngineTest, NobodyButAnAdminChangesUsersOrTeams) {
  for (const auto* who : {&manager, &rep, &reader, &bot}) {
    User self = db().read(
        [&](store::UnitOfWork& uow) { return engine().users(*who).get(uow, *who->user_id); });
    self.active = true;
    self.name = "Promoted";
    EXPECT_THROW(
        db().transact([&](store::UnitOfWork& uow) { engine().users(*who).update(uow, self); }),
        PermissionDenied)
        << who->name;
    EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
      engine().teams(*who).create(uow, named<Team>("Mine"));
    }),
                 PermissionDenied)
        << who->name;
  }
  db().transact(
      [&](store::UnitOfWork& uow) { engine().teams(admin).create(uow, named<Team>("North")); });
  EXPECT_EQ(db().read([&](store::UnitOfWork& uow) { return engine().teams(reader).count(uow); }),
            3u);
}

// External ids are unique across a type, so a write of one by a principal that cannot read
// every record of the type could learn from a Conflict that a hidden record holds it. Such
// writes are refused the same way whether a hidden twin exists or not.
TEST_P(EngineTest, OnlyAPrincipalReadingEveryRecordWritesExternalIds) {
  const auto before = with_external_id(westerners.id, "crm-42");
  auto refused = [&](auto write) {
    try {
      db().transact([&](store::UnitOfWork& uow) { write(uow); });
      ADD_FAILURE() << "the write went through";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.field(), "external_id");
    }
  };
  for (const char* external_id : {"crm-42", "crm-7"}) {  // a hidden twin's, and a free one
    SCOPED_TRACE(external_id);
    Contact twin = contact("Twin", "Of West");
    twin.external_id = external_id;
    for (const auto* who : {&rep, &manager}) {
      refused([&](store::UnitOfWork& uow) { engine().contacts(*who).upsert(uow, twin); });
      refused([&](store::UnitOfWork& uow) { engine().contacts(*who).create(uow, twin); });
      Patch<Contact> p;
      p.values = twin;
      p.name("first_name");
      refused([&](store::UnitOfWork& uow) { engine().contacts(*who).upsert(uow, p); });
    }
    // Their own record: giving it an external id is the same probe.
    refused([&](store::UnitOfWork& uow) {
      Contact c = engine().contacts(rep).get(uow, own.id);
      c.external_id = external_id;
      engine().contacts(rep).update(uow, c);
    });
    refused([&](store::UnitOfWork& uow) {
      Patch<Contact> p;
      p.values.external_id = external_id;
      p.name("external_id");
      engine().contacts(rep).patch(uow, own.id, p);
    });
  }
  EXPECT_EQ(stored(westerners.id), before);
  EXPECT_FALSE(stored(own.id).external_id);
  EXPECT_EQ(visible(admin).size(), 3u) << "nothing was created";

  // An integration reads every contact: it upserts by external id, a stored one included.
  const auto mine = db().transact([&](store::UnitOfWork& uow) {
    Contact c = contact("Ext", "Mine");
    c.external_id = "crm-7";
    engine().contacts(bot).upsert(uow, c);
    c.title = "Again";
    return engine().contacts(bot).upsert(uow, c);
  });
  EXPECT_EQ(mine.title, "Again");
  EXPECT_EQ(mine.version, 2u);
  // A rep may still change other fields of a record that has one.
  with_external_id(own.id, "crm-own");
  const auto renamed = db().transact([&](store::UnitOfWork& uow) {
    Contact c = engine().contacts(rep).get(uow, own.id);
    c.title = "Renamed";
    return engine().contacts(rep).update(uow, c);
  });
  EXPECT_EQ(renamed.title, "Renamed");
  EXPECT_EQ(renamed.external_id, "crm-own");
}

TEST_P(EngineTest, ListingPastTheExportAllowanceNeedsTheExportAction) {
  std::vector<std::string> reported;
  EngineOptions options;
  options.export_allowance = {5, std::chrono::minutes(10)};
  options.on_mass_export = [&](const Principal& who, ObjectType type) {
    reported.push_back(who.name + " " + std::string(to_string(type)));
  };
  Engine small(db(), options);
  auto list = [&](const Principal& who) {
    return db().read(
        [&](store::UnitOfWork& uow) { return small.contacts(who).query(uow, {}).items.size(); });
  };
  // The reader (read_only: no export) sees 3 contacts a list: 3, then 6 > 5 is refused,
  // and a refused list counts nothing, so it stays refused only while the window is full.
  EXPECT_EQ(list(reader), 3u);
  for (int i = 0; i < 2; ++i) {
    try {
      list(reader);
      ADD_FAILURE() << "a list past the allowance went through";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.field(), "export");
    }
  }
  EXPECT_EQ(small.exports_refused(), 2u);
  // The allowance refills over its window (by the database's clock).
  clock->advance(std::chrono::minutes(10));
  EXPECT_EQ(list(reader), 3u);
  EXPECT_EQ(small.exports_refused(), 2u);
  // Another principal has its own allowance; the integration may export: let through and
  // reported, every time.
  EXPECT_EQ(list(bot), 3u);
  EXPECT_EQ(list(bot), 3u);
  EXPECT_EQ(list(bot), 3u);
  EXPECT_EQ(small.mass_exports(), 2u);
  EXPECT_EQ(reported,
            (std::vector<std::string>{"bot@example.com contact", "bot@example.com contact"}));
  // Single reads are not counted.
  db().read(
      [&](store::UnitOfWork& uow) { EXPECT_NO_THROW(small.contacts(reader).get(uow, own.id)); });
  EngineOptions none;
  none.export_allowance.records = 0;
  EXPECT_THROW(Engine(db(), none), ValidationError);
}

TEST_P(EngineTest, ARoleDefinedElsewhereAppliesOnceThePolicyIsOlderThanItsLifetime) {
  EngineOptions options;
  options.policy_ttl = std::chrono::seconds(5);
  Engine mine(db(), options);
  const auto count = [&](const Principal& who) {
    return db().read(
        [&](store::UnitOfWork& uow) { return mine.contacts(who).query(uow, {}).items.size(); });
  };
  EXPECT_EQ(count(reader), 3u);  // reads the policy now
  // Another Engine (another process) defines a role and gives it to a user.
  Engine elsewhere(db());
  const Principal auditor = db().transact([&](store::UnitOfWork& uow) {
    security::Role role;
    role.name = "auditor";
    role.grants = {{ObjectType::kContact, Action::kRead, Scope::kAll}};
    elsewhere.admin(admin).create_role(uow, role);
    User u;
    u.email = "auditor@example.com";
    u.name = "auditor";
    const Id id = elsewhere.users(admin).create(uow, u).id;
    elsewhere.admin(admin).assign_role(uow, id, "auditor");
    return elsewhere.admin(admin).principal_of(uow, id);
  });
  // This Engine's policy does not know the role until it is older than its lifetime.
  clock->advance(std::chrono::milliseconds(4999));
  EXPECT_THROW(count(auditor), PermissionDenied);
  clock->advance(std::chrono::milliseconds(1));
  EXPECT_EQ(count(auditor), 3u);
}

TEST_P(EngineTest, AStalePolicyKeepsServingWhileTheCallerHoldsTheOnlyConnection) {
  store::DatabaseOptions o;
  o.clock = clock;
  o.pool.max_size = 1;
  o.pool.acquire_timeout = std::chrono::seconds(2);
  const auto single = scratch().open(std::move(o));
  EngineOptions options;
  options.policy_ttl = std::chrono::seconds(5);
  Engine mine(*single, options);
  mine.policy();  // read while the connection is free
  clock->advance(std::chrono::seconds(6));
  // A unit of work holds the pool's one connection: reading the policy again would wait
  // for it (PoolExhausted after two seconds), so the one read last serves.
  single->read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(mine.contacts(rep).get(uow, own.id).last_name, "Own");
    EXPECT_THROW(mine.contacts(rep).get(uow, westerners.id), NotFound);
  });
  // Meanwhile another Engine defined a role; once the connection is free the next call
  // reads the policy again and knows it.
  const Principal auditor = db().transact([&](store::UnitOfWork& uow) {
    security::Role role;
    role.name = "auditor";
    role.grants = {{ObjectType::kContact, Action::kRead, Scope::kAll}};
    engine().admin(admin).create_role(uow, role);
    Principal p;
    p.name = "auditor";
    p.roles = {"auditor"};
    return p;
  });
  single->read([&](store::UnitOfWork& uow) {
    EXPECT_THROW(mine.contacts(auditor).count(uow), PermissionDenied) << "still the stale policy";
  });
  EXPECT_NE(mine.policy()->role("auditor"), nullptr);
  single->read([&](store::UnitOfWork& uow) { EXPECT_EQ(mine.contacts(auditor).count(uow), 3u); });
  // Without any policy (after policy_changed) a read waits for a connection as any does.
  mine.policy_changed();
  EXPECT_THROW(single->read([&](store::UnitOfWork& uow) { mine.contacts(rep).count(uow); }),
               PoolExhausted);
}

TEST_P(EngineTest, CustomFieldsDefinedSensitiveAreMaskedRefusedInFiltersAndKeptOnUpdate) {
  db().transact([&](store::UnitOfWork& uow) {
    auto salary = custom_field("salary", CustomFieldType::kNumber);
    salary.sensitive = true;
    stores(db()).custom_fields().define(uow, salary);
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kText;
    stores(db()).custom_fields().define(uow, tier);
    Contact c = stores(db()).contacts().get(uow, teammates.id);
    c.custom["salary"] = std::int64_t{90000};
    c.custom["tier"] = std::string("gold");
    teammates = stores(db()).contacts().update(uow, c);
  });
  const auto shown = db().read(
      [&](store::UnitOfWork& uow) { return engine().contacts(reader).get(uow, teammates.id); });
  EXPECT_EQ(shown.custom.count("salary"), 0u) << "masked";
  EXPECT_EQ(std::get<std::string>(shown.custom.at("tier")), "gold") << "not sensitive: shown";
  EXPECT_EQ(db().read([&](store::UnitOfWork& uow) {
                  return engine().contacts(manager).get(uow, teammates.id);
                })
                .custom.count("salary"),
            1u);
  db().read([&](store::UnitOfWork& uow) {
    try {
      engine().contacts(reader).count(uow, store::Filter::gt("custom.salary", std::int64_t{50000}));
      FAIL() << "filtered on a masked custom field";
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.field(), "custom.salary");
    }
    EXPECT_EQ(
        engine().contacts(reader).count(uow, store::Filter::eq("custom.tier", std::string("gold"))),
        1u);
  });
  // An editor that cannot see it keeps it by leaving it out, and may not write it.
  const auto editor = with_contact_role("editor", {Action::kRead, Action::kUpdate});
  Contact edit = db().read(
      [&](store::UnitOfWork& uow) { return engine().contacts(editor).get(uow, teammates.id); });
  edit.title = "Edited";
  db().transact([&](store::UnitOfWork& uow) { engine().contacts(editor).update(uow, edit); });
  EXPECT_EQ(std::get<std::int64_t>(stored(teammates.id).custom.at("salary")), 90000);
  edit = db().read(
      [&](store::UnitOfWork& uow) { return engine().contacts(editor).get(uow, teammates.id); });
  edit.custom["salary"] = std::int64_t{1};
  EXPECT_THROW(
      db().transact([&](store::UnitOfWork& uow) { engine().contacts(editor).update(uow, edit); }),
      PermissionDenied);
  EXPECT_EQ(std::get<std::int64_t>(stored(teammates.id).custom.at("salary")), 90000);
}

// A patch is checked as an update is: the record must be readable and changeable, a move
// to another owner needs the right there too, and naming a field the principal cannot see
// is refused even to clear it. Refusals change nothing.
TEST_P(EngineTest, APatchIsCheckedAsAnUpdateIs) {
  auto patch = [&](const Principal& who, Id id, const Patch<Contact>& p) {
    return db().transact(
        [&](store::UnitOfWork& uow) { return engine().contacts(who).patch(uow, id, p); });
  };
  Patch<Contact> title;
  title.values.title = "Patched";
  title.name("title");
  EXPECT_THROW(patch(rep, westerners.id, title), NotFound) << "outside its read scope";
  EXPECT_THROW(patch(rep, teammates.id, title), PermissionDenied) << "readable, not its own";
  EXPECT_THROW(patch(reader, own.id, title), PermissionDenied);
  const auto done = patch(rep, own.id, title);
  EXPECT_EQ(done.record.title, "Patched");
  EXPECT_EQ(done.record.email, own.email);
  EXPECT_EQ(patch(rep, own.id, title).outcome, WriteOutcome::kUnchanged);
  EXPECT_THROW(patch(reader, own.id, title), PermissionDenied)
      << "even a patch that would change nothing";
  Patch<Contact> hand_over;
  hand_over.values.owner_id = teammate.user_id;
  hand_over.name("owner_id");
  EXPECT_THROW(patch(rep, own.id, hand_over), PermissionDenied);

  db().transact([&](store::UnitOfWork& uow) {
    auto salary = custom_field("salary", CustomFieldType::kNumber);
    salary.sensitive = true;
    stores(db()).custom_fields().define(uow, salary);
  });
  const auto editor = with_contact_role("editor", {Action::kRead, Action::kUpdate});
  const Contact before = stored(westerners.id);
  for (const auto& field : {"email", "phone", "custom"}) {
    Patch<Contact> p;
    p.name(field);  // clearing: still writing what it cannot see
    try {
      patch(editor, westerners.id, p);
      ADD_FAILURE() << field;
    } catch (const PermissionDenied& e) {
      EXPECT_EQ(e.field(), field);
    }
  }
  Patch<Contact> salary;
  salary.clear_custom("salary");
  EXPECT_THROW(patch(editor, westerners.id, salary), PermissionDenied);
  EXPECT_EQ(stored(westerners.id), before);
  const auto edited = patch(editor, westerners.id, title);
  EXPECT_EQ(edited.record.title, "Patched");
  EXPECT_FALSE(edited.record.email) << "masked on the way out";
  EXPECT_EQ(stored(westerners.id).email, westerners.email);
}

}  // namespace
}  // namespace banyan::test
