// The service layer: every use case checked against the access policy, as each built-in
// role and a custom one, on both backends. Refusals change nothing.
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using security::Action;
using security::Principal;
using security::Scope;

class EngineTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    engine_ = std::make_unique<Engine>(db());
    db().transact([&](store::UnitOfWork& uow) {
      east = db().teams().create(uow, named<Team>("East")).id;
      west = db().teams().create(uow, named<Team>("West")).id;
    });
    admin = person("admin@example.com", {"admin"}, {});
    manager = person("manager@example.com", {"manager"}, {east});
    rep = person("rep@example.com", {"sales_rep"}, {east});
    teammate = person("teammate@example.com", {"sales_rep"}, {east});
    westerner = person("west@example.com", {"sales_rep"}, {west});
    reader = person("reader@example.com", {"read_only"}, {});
    bot = person("bot@example.com", {"integration"}, {});
    nobody = person("nobody@example.com", {}, {});
    own = contact_of(rep, east, "Own");
    teammates = contact_of(teammate, east, "Teammates");
    westerners = contact_of(westerner, west, "Westerners");
  }
  void TearDown() override {
    engine_.reset();
    StoreTest::TearDown();
  }

  Contact contact_of(const Principal& owner, Id team, const std::string& last_name) {
    return db().transact([&](store::UnitOfWork& uow) {
      Contact c = contact("Ada", last_name);
      c.email = last_name + "@example.com";
      c.phone = "+1 555 0100";
      c.owner_id = owner.user_id;
      c.team_id = team;
      return db().contacts().create(uow, c);
    });
  }
  Contact stored(Id id) {
    return db().read([&](store::UnitOfWork& uow) { return db().contacts().get(uow, id); });
  }
  // Gives a stored contact an external id; returns it as it then is.
  Contact with_external_id(Id id, const std::string& external_id) {
    return db().transact([&](store::UnitOfWork& uow) {
      Contact c = db().contacts().get(uow, id);
      c.external_id = external_id;
      return db().contacts().update(uow, c);
    });
  }
  std::vector<std::string> visible(const Principal& who) {
    return db().read([&](store::UnitOfWork& uow) {
      std::vector<std::string> out;
      for (const auto& c : engine().contacts(who).query(uow, {}).items) out.push_back(c.last_name);
      return out;
    });
  }
  Engine& engine() { return *engine_; }

  Id east = 0, west = 0;
  Principal admin, manager, rep, teammate, westerner, reader, bot, nobody;
  Contact own, teammates, westerners;

 private:
  std::unique_ptr<Engine> engine_;
};
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
      db().read([&](store::UnitOfWork& uow) { return db().contacts().find(uow, own.id); }));
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
  db().transact([&](store::UnitOfWork& uow) {
    security::RoleStore().create(uow, {"editor",
                                       "Changes contacts without seeing personal data",
                                       {{ObjectType::kContact, Action::kRead, Scope::kAll},
                                        {ObjectType::kContact, Action::kUpdate, Scope::kAll}}});
  });
  engine().policy_changed();
  const auto editor = person("editor@example.com", {"editor"}, {});
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
  EXPECT_EQ(db().read([&](store::UnitOfWork& uow) { return db().contacts().count(uow); }), 4u);
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

TEST_P(EngineTest, CustomFieldsDefinedSensitiveAreMaskedRefusedInFiltersAndKeptOnUpdate) {
  db().transact([&](store::UnitOfWork& uow) {
    auto salary = custom_field("salary", CustomFieldType::kNumber);
    salary.sensitive = true;
    db().custom_fields().define(uow, salary);
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kText;
    db().custom_fields().define(uow, tier);
    Contact c = db().contacts().get(uow, teammates.id);
    c.custom["salary"] = std::int64_t{90000};
    c.custom["tier"] = std::string("gold");
    teammates = db().contacts().update(uow, c);
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
  db().transact([&](store::UnitOfWork& uow) {
    security::RoleStore().create(uow, {"editor",
                                       "",
                                       {{ObjectType::kContact, Action::kRead, Scope::kAll},
                                        {ObjectType::kContact, Action::kUpdate, Scope::kAll}}});
  });
  engine().policy_changed();
  const auto editor = person("editor@example.com", {"editor"}, {});
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
    security::RoleStore().create(uow, {"editor",
                                       "Changes contacts without seeing personal data",
                                       {{ObjectType::kContact, Action::kRead, Scope::kAll},
                                        {ObjectType::kContact, Action::kUpdate, Scope::kAll}}});
    auto salary = custom_field("salary", CustomFieldType::kNumber);
    salary.sensitive = true;
    db().custom_fields().define(uow, salary);
  });
  engine().policy_changed();
  const auto editor = person("editor@example.com", {"editor"}, {});
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

// A company or tag owned and placed like contact_of's contacts.
template <typename T>
T placed(store::Database& db, const std::string& name, const Principal& owner, Id team) {
  return db.transact([&](store::UnitOfWork& uow) {
    T record;
    record.name = name;
    record.owner_id = owner.user_id;
    record.team_id = team;
    if constexpr (std::is_same_v<T, Company>)
      return db.companies().create(uow, record);
    else
      return db.tags().create(uow, record);
  });
}

TEST_P(EngineTest, LinkingNeedsUpdateOnTheOwningSideAndReadOnTheOtherAndRefusalsChangeNothing) {
  const auto eastern = placed<Company>(db(), "Eastern", rep, east);
  const auto western = placed<Company>(db(), "Western", westerner, west);
  const auto vip = placed<Tag>(db(), "vip", rep, east);
  const auto links = [&](Id contact) {
    return db().read(
        [&](store::UnitOfWork& uow) { return db().relations().companies_of(uow, contact).size(); });
  };
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    as_rep.link_company(uow, own.id, eastern.id, /*primary=*/true);
    as_rep.tag(uow, vip.id, {ObjectType::kContact, own.id});
  });
  EXPECT_EQ(links(own.id), 1u);
  // A teammate's contact is readable but not the rep's to change; a western company is
  // not readable at all, so it does not exist for the rep.
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).link_company(uow, teammates.id, eastern.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).link_company(uow, own.id, western.id);
  }),
               NotFound);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).tag(uow, vip.id, {ObjectType::kContact, teammates.id});
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(reader).unlink_company(uow, own.id, eastern.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(westerner).unlink_company(uow, own.id, eastern.id);
  }),
               NotFound);
  EXPECT_EQ(links(own.id), 1u);
  EXPECT_EQ(links(teammates.id), 0u);
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_TRUE(db().relations().tags_of(uow, {ObjectType::kContact, teammates.id}).empty());
  });
}

TEST_P(EngineTest, AListOfLinksNamesOnlyTheRecordsThePrincipalMayRead) {
  const auto eastern = placed<Company>(db(), "Eastern", rep, east);
  const auto western = placed<Company>(db(), "Western", westerner, west);
  const auto vip = placed<Tag>(db(), "vip", admin, east);
  const auto secret = placed<Tag>(db(), "secret", admin, west);
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_admin = engine().relations(admin);
    as_admin.link_company(uow, own.id, eastern.id);
    as_admin.link_company(uow, own.id, western.id);
    as_admin.link_company(uow, westerners.id, western.id);
    as_admin.tag(uow, vip.id, {ObjectType::kContact, own.id});
    as_admin.tag(uow, secret.id, {ObjectType::kContact, own.id});
    as_admin.tag(uow, vip.id, {ObjectType::kContact, westerners.id});
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    const auto companies = as_rep.companies_of(uow, own.id);
    ASSERT_EQ(companies.size(), 1u);
    EXPECT_EQ(companies.front().company_id, eastern.id);
    EXPECT_EQ(as_rep.tags_of(uow, {ObjectType::kContact, own.id}), std::vector<Id>{vip.id});
    EXPECT_EQ(as_rep.tagged_with(uow, vip.id),
              (std::vector<ObjectRef>{{ObjectType::kContact, own.id}}));
    EXPECT_THROW(as_rep.contacts_of(uow, western.id), NotFound);
    EXPECT_THROW(as_rep.tags_of(uow, {ObjectType::kContact, westerners.id}), NotFound);
    EXPECT_EQ(engine().relations(admin).companies_of(uow, own.id).size(), 2u);
    EXPECT_EQ(engine().relations(admin).contacts_of(uow, western.id).size(), 2u);
    EXPECT_THROW(engine().relations(nobody).companies_of(uow, own.id), NotFound);
  });
}

TEST_P(EngineTest, DealContactsAndActivityTargetsAreCheckedAsOtherLinksAre) {
  const auto sales = make_pipeline();
  const auto [deal, activity] = db().transact([&](store::UnitOfWork& uow) {
    Deal d;
    d.title = "Big one";
    d.pipeline_id = sales.pipeline.id;
    d.stage_id = sales.lead.id;
    d.owner_id = rep.user_id;
    d.team_id = east;
    Activity a;
    a.subject = "Call";
    a.owner_id = rep.user_id;
    a.team_id = east;
    return std::pair{db().deals().create(uow, d), db().activities().create(uow, a)};
  });
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    as_rep.add_deal_contact(uow, deal.id, teammates.id, DealRole::kDecisionMaker);
    as_rep.link_activity(uow, activity.id, {ObjectType::kContact, teammates.id});
  });
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).add_deal_contact(uow, deal.id, westerners.id, DealRole::kOther);
  }),
               NotFound);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(teammate).remove_deal_contact(uow, deal.id, teammates.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(teammate).unlink_activity(uow, activity.id,
                                                 {ObjectType::kContact, teammates.id});
  }),
               PermissionDenied);
  db().transact([&](store::UnitOfWork& uow) {
    engine().relations(admin).add_deal_contact(uow, deal.id, westerners.id, DealRole::kOther);
    engine().relations(admin).link_activity(uow, activity.id,
                                            {ObjectType::kContact, westerners.id});
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    const auto contacts = as_rep.deal_contacts(uow, deal.id);
    ASSERT_EQ(contacts.size(), 1u);
    EXPECT_EQ(contacts.front().contact_id, teammates.id);
    EXPECT_EQ(contacts.front().role, DealRole::kDecisionMaker);
    EXPECT_EQ(as_rep.activity_targets(uow, activity.id),
              (std::vector<ObjectRef>{{ObjectType::kContact, teammates.id}}));
    EXPECT_EQ(as_rep.activities_of(uow, {ObjectType::kContact, teammates.id}),
              std::vector<Id>{activity.id});
    EXPECT_EQ(engine().relations(admin).deal_contacts(uow, deal.id).size(), 2u);
    EXPECT_THROW(engine().relations(westerner).deal_contacts(uow, deal.id), NotFound);
  });
}

TEST_P(EngineTest, CustomFieldDefinitionsAreReadWithTheirTypeAndChangedOnlyByItsAdministrators) {
  db().transact([&](store::UnitOfWork& uow) {
    security::RoleStore().create(uow, {"contact_admin",
                                       "Runs contacts only",
                                       {{ObjectType::kContact, Action::kRead, Scope::kAll},
                                        {ObjectType::kContact, Action::kAdmin, Scope::kAll}}});
  });
  engine().policy_changed();
  const auto contact_admin = person("ca@example.com", {"contact_admin"}, {});
  const auto [tier, stage] = db().transact([&](store::UnitOfWork& uow) {
    const auto of = engine().custom_fields(contact_admin);
    return std::pair{of.define(uow, custom_field("tier", CustomFieldType::kText)),
                     engine().custom_fields(admin).define(
                         uow, custom_field("phase", CustomFieldType::kText, ObjectType::kDeal))};
  });
  const auto stored_definitions = [&] {
    return db().read([&](store::UnitOfWork& uow) {
      std::vector<CustomFieldDefinition> all = db().custom_fields().list(uow, ObjectType::kContact);
      for (auto& d : db().custom_fields().list(uow, ObjectType::kDeal)) all.push_back(d);
      return all;
    });
  };
  const auto before = stored_definitions();
  ASSERT_EQ(before.size(), 2u);
  // A type's administrator changes its definitions; anyone else is refused, and nothing
  // changes.
  const auto refused = [&](const Principal& who, const std::function<void(store::UnitOfWork&)>& f) {
    EXPECT_THROW(db().transact(f), PermissionDenied) << who.name;
  };
  for (const auto& who : {rep, manager, reader, bot}) {
    const auto of = engine().custom_fields(who);
    refused(who, [&](auto& uow) { of.define(uow, custom_field("x", CustomFieldType::kText)); });
    refused(who, [&](auto& uow) { of.rename(uow, tier.id, "level"); });
    refused(who, [&](auto& uow) { of.change_type(uow, tier.id, CustomFieldType::kNumber); });
    refused(who, [&](auto& uow) { of.deprecate(uow, tier.id); });
    refused(who, [&](auto& uow) { of.remove(uow, tier.id); });
    refused(who, [&](auto& uow) {
      auto changed = tier;
      changed.label = "Level";
      of.update(uow, changed);
    });
    EXPECT_THROW(of.seal_sensitive_values(ObjectType::kContact), PermissionDenied);
  }
  const auto of_contacts = engine().custom_fields(contact_admin);
  refused(contact_admin, [&](auto& uow) { of_contacts.remove(uow, stage.id); });
  refused(contact_admin, [&](auto& uow) {
    of_contacts.define(uow, custom_field("y", CustomFieldType::kText, ObjectType::kDeal));
  });
  EXPECT_EQ(stored_definitions(), before);
  db().transact([&](store::UnitOfWork& uow) { of_contacts.rename(uow, tier.id, "level"); });
  // Reading follows the type's read right: a list without a type names only the types
  // the principal reads.
  db().read([&](store::UnitOfWork& uow) {
    const auto names = [](const std::vector<CustomFieldDefinition>& ds) {
      std::vector<std::string> out;
      for (const auto& d : ds) out.push_back(d.name);
      return out;
    };
    EXPECT_EQ(names(of_contacts.list(uow)), std::vector<std::string>{"level"});
    EXPECT_EQ(names(engine().custom_fields(rep).list(uow)),
              (std::vector<std::string>{"level", "phase"}));
    EXPECT_EQ(engine().custom_fields(rep).get(uow, stage.id).name, "phase");
    EXPECT_THROW(of_contacts.get(uow, stage.id), PermissionDenied);
    EXPECT_THROW(of_contacts.list(uow, ObjectType::kDeal), PermissionDenied);
    EXPECT_TRUE(engine().custom_fields(nobody).list(uow).empty());
    EXPECT_THROW(engine().custom_fields(nobody).list(uow, ObjectType::kContact), PermissionDenied);
  });
}

TEST_P(EngineTest, APipelineSummaryCountsOnlyTheDealsThePrincipalReadsAndHistoryIsScoped) {
  const auto sales = make_pipeline();
  const auto deal_of = [&](const Principal& owner, Id team, std::int64_t minor) {
    return db().transact([&](store::UnitOfWork& uow) {
      Deal d;
      d.title = owner.name + "'s deal";
      d.pipeline_id = sales.pipeline.id;
      d.stage_id = sales.proposal.id;
      d.amount = Money{minor, "USD"};
      d.owner_id = owner.user_id;
      d.team_id = team;
      return db().deals().create(uow, d);
    });
  };
  const Deal reps = deal_of(rep, east, 10000);
  deal_of(teammate, east, 20000);
  const Deal westerners_deal = deal_of(westerner, west, 40000);
  const auto summed = [&](const Principal& who) {
    return db().read([&](store::UnitOfWork& uow) {
      const auto s = engine().pipeline_summary(uow, who, sales.pipeline.id);
      EXPECT_EQ(s.stages.size(), 4u);
      return std::pair{s.deals, s.amount.empty() ? std::int64_t{0} : s.amount.front().minor_units};
    });
  };
  EXPECT_EQ(summed(admin), (std::pair<std::uint64_t, std::int64_t>{3, 70000}));
  EXPECT_EQ(summed(rep), (std::pair<std::uint64_t, std::int64_t>{2, 30000})) << "its teams'";
  EXPECT_EQ(summed(westerner), (std::pair<std::uint64_t, std::int64_t>{1, 40000}));
  EXPECT_EQ(summed(reader), (std::pair<std::uint64_t, std::int64_t>{3, 70000}));
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(engine().stage_history(uow, rep, reps.id).size(), 1u);
    EXPECT_THROW(engine().stage_history(uow, rep, westerners_deal.id), NotFound);
    EXPECT_EQ(engine().stage_history(uow, westerner, westerners_deal.id).size(), 1u);
  });
}

// An idempotent write runs once per key of a principal's, keeps its answer with its
// writes, and gives it back to a retry; a failed one keeps nothing.
TEST_P(EngineTest, AnIdempotentWriteRunsOncePerKeyOfAPrincipalsAndAFailedOneKeepsNothing) {
  int runs = 0;
  const auto create = [&](const std::string& last_name) {
    return [&, last_name](store::UnitOfWork& uow) {
      ++runs;
      const Contact made = engine().contacts(rep).create(uow, [&] {
        Contact c = contact("Ada", last_name);
        c.owner_id = rep.user_id;
        c.team_id = east;
        return c;
      }());
      return store::StoredResponse{{}, 201, "{}", std::to_string(made.id), {}};
    };
  };
  const auto contacts_named = [&](const std::string& last_name) {
    return db().read([&](store::UnitOfWork& uow) {
      return db().contacts().count(uow, store::Filter::eq("last_name", last_name));
    });
  };
  const auto first = engine().once(rep, "k-1", "POST /v1/contacts A", create("Once"));
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(first.answer.status, 201);
  const auto again = engine().once(rep, "k-1", "POST /v1/contacts A", create("Once"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.answer.body, first.answer.body);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(contacts_named("Once"), 1u);

  // The same key with another request is refused; another principal's key is its own.
  EXPECT_THROW(engine().once(rep, "k-1", "POST /v1/contacts B", create("Other")), ValidationError);
  EXPECT_FALSE(engine().once(teammate, "k-1", "POST /v1/contacts A", create("Twin")).replayed);
  EXPECT_EQ(runs, 2);

  // Work that fails rolls back with its key: the retry runs it.
  bool fail = true;
  const auto flaky = [&](store::UnitOfWork& uow) {
    auto answer = create("Flaky")(uow);
    if (fail) throw Unavailable("the service behind it is down");
    return answer;
  };
  EXPECT_THROW(engine().once(rep, "k-2", "POST /v1/contacts F", flaky), Unavailable);
  EXPECT_EQ(contacts_named("Flaky"), 0u);
  fail = false;
  EXPECT_FALSE(engine().once(rep, "k-2", "POST /v1/contacts F", flaky).replayed);
  EXPECT_EQ(contacts_named("Flaky"), 1u);
}

// A host's refusal is a denial entry in the trail, by the principal, from its origin.
TEST_P(EngineTest, ARefusalIsNotedInTheAuditTrailByThePrincipalFromItsOrigin) {
  engine().record_refusal(reader, {ObjectType::kContact, own.id},
                          "DELETE /v1/contacts/1: read_only may not delete", "10.0.0.7");
  const auto entries = db().read([&](store::UnitOfWork& uow) {
    store::AuditQuery q;
    q.object = ObjectRef{ObjectType::kContact, own.id};
    return db().audit().query(uow, q);
  });
  ASSERT_FALSE(entries.empty());
  const store::AuditEntry& last = entries.back();
  EXPECT_EQ(last.action, "denied");
  EXPECT_EQ(last.actor_id, reader.user_id);
  EXPECT_EQ(last.actor, reader.name);
  EXPECT_EQ(last.origin, "10.0.0.7");
  EXPECT_NE(last.detail.find("may not delete"), std::string::npos) << last.detail;
}

}  // namespace
}  // namespace banyan::test
