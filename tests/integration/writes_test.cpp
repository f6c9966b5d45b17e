// Writes that say what they change, on both backends: patches (standard and custom
// fields), upserts that sync, writes that change nothing and therefore write nothing,
// required custom fields on records that already exist, and backfills.
#include "security/directory.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::UnitOfWork;

class WritesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    db().transact([&](UnitOfWork& uow) {
      auto tier = custom_field("tier", CustomFieldType::kEnum);
      tier.options = {"bronze", "silver", "gold"};
      tier.default_value = std::string("bronze");
      stores(db()).custom_fields().define(uow, tier);
      for (auto [name, type] : {std::pair{"city", CustomFieldType::kText},
                                {"score", CustomFieldType::kNumber},
                                {"since", CustomFieldType::kDate},
                                {"vip", CustomFieldType::kBool}})
        stores(db()).custom_fields().define(uow, custom_field(name, type));
    });
  }

  // Everything a write leaves behind: outbox events and audit entries.
  std::int64_t event_count() {
    return std::stoll(scratch().raw("SELECT COUNT(*) FROM outbox_events"));
  }
  std::int64_t audit_entries() {
    return std::stoll(scratch().raw("SELECT COUNT(*) FROM audit_log"));
  }

  Id field_id(const std::string& name) {
    return db().read([&](UnitOfWork& uow) {
      for (const auto& d : stores(db()).custom_fields().list(uow, ObjectType::kContact))
        if (d.name == name) return d.id;
      return Id{0};
    });
  }
  // The records without a value for a custom field, as the registry counts them.
  std::uint64_t records_without(Id field) {
    return db().read([&](UnitOfWork& uow) {
      return stores(db()).custom_fields().count_without_value(
          uow, stores(db()).custom_fields().get(uow, field));
    });
  }
  Contact stored(Id id) {
    return db().read([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, id); });
  }
  WriteResult<Contact> patch(Id id, const Patch<Contact>& p) {
    return db().transact(
        [&](UnitOfWork& uow) { return stores(db()).contacts().patch(uow, id, p); });
  }
  WriteResult<Contact> upsert(const Patch<Contact>& p) {
    return db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().upsert(uow, p); });
  }

  // A contact with all five custom values.
  Contact full() {
    return db().transact([&](UnitOfWork& uow) {
      Contact c = contact("Ada", "Lovelace", "ada@example.com");
      c.title = "Countess";
      c.custom = {{"tier", std::string("gold")},
                  {"city", std::string("London")},
                  {"score", std::int64_t{90}},
                  {"since", Date(std::chrono::year{1833} / 6 / 5)},
                  {"vip", true}};
      return stores(db()).contacts().create(uow, c);
    });
  }
};
BANYAN_ON_BOTH_BACKENDS(WritesTest);

TEST_P(WritesTest, APatchChangesTheCustomFieldsItNamesAndKeepsTheOthers) {
  const Contact c = full();
  Patch<Contact> p;
  p.set_custom("city", std::string("Bern"));
  const auto done = patch(c.id, p);
  EXPECT_EQ(done.outcome, WriteOutcome::kUpdated);
  CustomFields expected = c.custom;
  expected["city"] = std::string("Bern");
  EXPECT_EQ(done.record.custom, expected) << "the four values not named stay";
  EXPECT_EQ(stored(c.id).custom, expected);
  EXPECT_EQ(done.record.version, c.version + 1);

  // A null clears one; naming "custom" replaces them all.
  p = {};
  p.clear_custom("score");
  expected.erase("score");
  EXPECT_EQ(patch(c.id, p).record.custom, expected);
  p = {};
  p.name("custom");
  p.values.custom = {{"vip", false}};
  EXPECT_EQ(patch(c.id, p).record.custom, (CustomFields{{"vip", false}}));
}

TEST_P(WritesTest, APatchChangesTheStandardFieldsItNamesAndKeepsTheOthers) {
  const Contact c = full();
  Patch<Contact> p;
  p.values.title = "Mathematician";
  p.values.email = "ignored@example.com";  // not named: not written
  p.name("title");
  const Contact after = patch(c.id, p).record;
  EXPECT_EQ(after.title, "Mathematician");
  EXPECT_EQ(after.email, "ada@example.com");
  EXPECT_EQ(after.first_name, "Ada");
  EXPECT_EQ(after.custom, c.custom);
  // Naming an optional field with no value clears it.
  p = {};
  p.name("title");
  EXPECT_FALSE(patch(c.id, p).record.title.has_value());
}

TEST_P(WritesTest, APatchNamingAPartOfACompositeValueChangesOnlyThatPart) {
  SalesPipeline pipe = make_pipeline();
  const Deal d = db().transact([&](UnitOfWork& uow) {
    Deal in;
    in.title = "Fleet";
    in.pipeline_id = pipe.pipeline.id;
    in.stage_id = pipe.lead.id;
    in.amount = {1200000, "EUR"};
    return stores(db()).deals().create(uow, in);
  });
  Patch<Deal> p;
  p.values.amount.minor_units = 5;  // and the default currency, USD, which is not named
  p.name("amount.minor_units");
  const Deal after = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).deals().patch(uow, d.id, p).record; });
  EXPECT_EQ(after.amount, (Money{5, "EUR"}));
  p = {};
  p.values.amount = {7, "CHF"};
  p.name("amount");
  EXPECT_EQ(db().transact([&](UnitOfWork& uow) {
                  return stores(db()).deals().patch(uow, d.id, p).record;
                })
                .amount,
            (Money{7, "CHF"}));
}

TEST_P(WritesTest, APatchThatChangesNothingWritesNothing) {
  const Contact c = full();
  const auto events_before = event_count(), audit_before = audit_entries();
  Patch<Contact> p;
  p.values.title = "Countess";
  p.name("title").set_custom("city", std::string("London")).set_custom("tier", std::string("gold"));
  const auto done = patch(c.id, p);
  EXPECT_EQ(done.outcome, WriteOutcome::kUnchanged);
  EXPECT_EQ(done.record, c) << "the record at its current version";
  EXPECT_EQ(stored(c.id), c);
  EXPECT_EQ(event_count(), events_before) << "no event";
  EXPECT_EQ(audit_entries(), audit_before) << "no audit entry";
  // An empty patch, and a whole-record update with what is stored, likewise.
  EXPECT_EQ(patch(c.id, {}).outcome, WriteOutcome::kUnchanged);
  const Contact same =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, c); });
  EXPECT_EQ(same.version, c.version);
  EXPECT_EQ(event_count(), events_before);
  EXPECT_EQ(audit_entries(), audit_before);
}

TEST_P(WritesTest, APatchIsRefusedWholeAndChangesNothing) {
  const Contact c = full();
  const auto events_before = event_count();
  auto refused = [&](const Patch<Contact>& p, const std::string& field) {
    try {
      patch(c.id, p);
      ADD_FAILURE() << "accepted a patch naming " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
    EXPECT_EQ(stored(c.id), c);
  };
  Patch<Contact> p;
  p.name("shoe_size");
  refused(p, "shoe_size");
  p = {};
  p.name("created_at");
  refused(p, "created_at");
  p = {};
  p.name("merged_into");
  refused(p, "merged_into");
  p = {};
  p.clear_custom("shoe_size");  // even clearing names a field that must exist
  refused(p, "custom.shoe_size");
  p = {};
  p.set_custom("tier", std::string("platinum")).set_custom("city", std::string("Paris"));
  refused(p, "custom.tier");
  p = {};
  p.values.email = "not an email";
  p.name("email").set_custom("city", std::string("Paris"));
  refused(p, "email");
  p = {};
  p.values.title = "Stale";
  p.name("title").expected_version = c.version + 7;
  try {
    patch(c.id, p);
    ADD_FAILURE();
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "version");
  }
  EXPECT_THROW(patch(987654, {}), NotFound);
  EXPECT_EQ(event_count(), events_before);
}

TEST_P(WritesTest, EveryRecordTypeTakesAPatchOfItsOwnFields) {
  SalesPipeline pipe = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    auto patched = [&](auto repo, Id id, auto value, const char* name, auto member) {
      using T = std::decay_t<decltype(repo.get(uow, id))>;
      Patch<T> p;
      p.values.*member = value;
      p.name(name);
      const T before = repo.get(uow, id);
      const T after = repo.patch(uow, id, p).record;
      EXPECT_EQ(after.*member, value) << name;
      T expected = before;
      expected.*member = value;
      expected.version = after.version;
      expected.updated_at = after.updated_at;
      expected.updated_by = after.updated_by;
      EXPECT_EQ(after, expected) << name << ": only the named field changed";
    };
    const Company co = stores(db()).companies().create(uow, named<Company>("Acme"));
    patched(stores(db()).companies(), co.id, std::optional<std::int64_t>(1200), "employee_count",
            &Company::employee_count);
    const Tag tag = stores(db()).tags().create(uow, named<Tag>("vip"));
    patched(stores(db()).tags(), tag.id, std::optional<std::string>("#00aa00"), "color",
            &Tag::color);
    Lead lead;
    lead.first_name = "Lee";
    lead = stores(db()).leads().create(uow, lead);
    patched(stores(db()).leads(), lead.id, LeadStatus::kQualified, "status", &Lead::status);
    Activity a;
    a.subject = "Call";
    a = stores(db()).activities().create(uow, a);
    patched(stores(db()).activities(), a.id,
            std::optional<Timestamp>(Timestamp(std::chrono::seconds(1'800'000'000))), "due_at",
            &Activity::due_at);
    User u;
    u.email = "u@example.com";
    u.name = "U";
    u = stores(db()).users().create(uow, u);
    patched(stores(db()).users(), u.id, false, "active", &User::active);
    const Team team = stores(db()).teams().create(uow, named<Team>("East"));
    patched(stores(db()).teams(), team.id, std::string("West"), "name", &Team::name);
    patched(stores(db()).pipelines(), pipe.pipeline.id, std::string("Renewals"), "name",
            &Pipeline::name);
    patched(stores(db()).stages(), pipe.proposal.id, std::int64_t{60}, "win_probability",
            &Stage::win_probability);
    Deal d;
    d.title = "Fleet";
    d.pipeline_id = pipe.pipeline.id;
    d.stage_id = pipe.lead.id;
    d = stores(db()).deals().create(uow, d);
    patched(stores(db()).deals(), d.id, std::optional<Date>(std::chrono::year{2027} / 3 / 31),
            "expected_close", &Deal::expected_close);
  });
}

TEST_P(WritesTest, AnUpsertCreatesThenChangesOnlyWhatItNames) {
  Patch<Contact> p;
  p.values.external_id = "legacy-1";
  p.values.first_name = "Leg";
  p.values.last_name = "Acy";
  p.values.email = "leg@example.com";
  p.name("first_name").name("last_name").name("email");
  const auto made = upsert(p);
  EXPECT_EQ(made.outcome, WriteOutcome::kCreated);
  EXPECT_EQ(made.record.custom.at("tier"), CustomValue(std::string("bronze")))
      << "defaults on create";

  // The sync sends only the first name: the rest, defaulted custom values included, stay.
  Patch<Contact> sync;
  sync.values.external_id = "legacy-1";
  sync.values.first_name = "Leg";
  sync.name("first_name");
  const auto events_before = event_count(), audit_before = audit_entries();
  const auto again = upsert(sync);
  EXPECT_EQ(again.outcome, WriteOutcome::kUnchanged);
  EXPECT_EQ(again.record, made.record);
  EXPECT_EQ(event_count(), events_before);
  EXPECT_EQ(audit_entries(), audit_before);

  sync.values.first_name = "Lego";
  const auto changed = upsert(sync);
  EXPECT_EQ(changed.outcome, WriteOutcome::kUpdated);
  EXPECT_EQ(changed.record.id, made.record.id);
  EXPECT_EQ(changed.record.first_name, "Lego");
  EXPECT_EQ(changed.record.last_name, "Acy");
  EXPECT_EQ(changed.record.email, "leg@example.com");
  EXPECT_EQ(changed.record.custom, made.record.custom);
  EXPECT_EQ(changed.record.version, made.record.version + 1);

  Patch<Contact> keyless;
  keyless.values.first_name = "Nobody";
  keyless.name("first_name");
  EXPECT_THROW(upsert(keyless), ValidationError);
}

TEST_P(WritesTest, ARequiredFieldDefinedLaterHoldsOnlyForCreatesAndWritesThatTouchIt) {
  const Contact old = full();
  const Id region = db().transact([&](UnitOfWork& uow) {
    auto d = custom_field("region", CustomFieldType::kText);
    d.required = true;
    return stores(db()).custom_fields().define(uow, d).id;
  });
  // Editing an existing record that lacks it works, as a patch or a whole record.
  Patch<Contact> p;
  p.values.title = "Actress";
  p.name("title");
  EXPECT_EQ(patch(old.id, p).record.title, "Actress");
  Contact whole = stored(old.id);
  whole.last_name = "King";
  EXPECT_EQ(
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, whole); })
          .last_name,
      "King");
  // Writes that touch it must leave a value.
  const Contact before = stored(old.id);
  p = {};
  p.clear_custom("region");
  EXPECT_THROW(patch(old.id, p), ValidationError);
  p = {};
  p.set_custom("region", std::string("EMEA"));
  EXPECT_EQ(patch(old.id, p).record.custom.at("region"), CustomValue(std::string("EMEA")));
  p = {};
  p.clear_custom("region");
  EXPECT_THROW(patch(old.id, p), ValidationError);
  Contact emptied = stored(old.id);
  emptied.custom.erase("region");
  EXPECT_THROW(
      db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, emptied); }),
      ValidationError)
      << "a whole record that empties it changes it";
  EXPECT_NE(stored(old.id), before) << "(the EMEA patch went through)";
  // Creates need it, upsert creates included.
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("New", "One"));
  }),
               ValidationError);
  Patch<Contact> fresh;
  fresh.values = contact("New", "One");
  fresh.values.external_id = "x-1";
  EXPECT_THROW(upsert(fresh), ValidationError);
  EXPECT_EQ(records_without(region), 0u);
}

TEST_P(WritesTest, ABackfillFillsRecordsWithoutAValueInBatchesAsOrdinaryUpdates) {
  Engine engine(db());
  std::vector<Id> ids;
  db().transact([&](UnitOfWork& uow) {
    for (int i = 0; i < 5; ++i)
      ids.push_back(stores(db()).contacts().create(uow, contact("P", std::to_string(i))).id);
    Contact has = contact("Has", "One");
    has.custom = {{"city", std::string("Oslo")}};
    ids.push_back(stores(db()).contacts().create(uow, has).id);
    stores(db()).contacts().archive(uow, ids[4]);  // archived records are filled too
  });
  const Id city = field_id("city");
  EXPECT_EQ(records_without(city), 5u);
  const auto admin = security::Principal::system();
  const auto events_before = event_count(), audit_before = audit_entries();

  // A value the definition refuses writes nothing.
  EXPECT_THROW(engine.backfill_custom_field(admin, city, std::int64_t{7}), ValidationError);
  EXPECT_EQ(event_count(), events_before);

  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  BackfillOptions options;
  options.batch = 2;
  options.progress = [&](std::uint64_t filled, std::uint64_t left) {
    progress.emplace_back(filled, left);
    return progress.size() < 2;  // stop after two batches
  };
  EXPECT_EQ(engine.backfill_custom_field(admin, city, std::string("Bern"), options), 4u);
  EXPECT_EQ(progress, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2, 3}, {4, 1}}));
  options.progress = {};
  EXPECT_EQ(engine.backfill_custom_field(admin, city, std::string("Bern"), options), 1u)
      << "resumes";
  for (std::size_t i = 0; i < 5; ++i) {
    const Contact c =
        db().read([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, ids[i]); });
    EXPECT_EQ(c.custom.at("city"), CustomValue(std::string("Bern")));
    EXPECT_EQ(c.version, i == 4 ? 3u : 2u)
        << "an ordinary update (the archived one was archived first)";
  }
  EXPECT_EQ(stored(ids[5]).custom.at("city"), CustomValue(std::string("Oslo")))
      << "a value is kept";
  EXPECT_EQ(event_count() - events_before, 5) << "one contact.updated each";
  EXPECT_EQ(audit_entries() - audit_before, 5);
  EXPECT_EQ(records_without(city), 0u);
  EXPECT_EQ(engine.backfill_custom_field(admin, city, std::string("Bern")), 0u);

  // Only an administrator of the type backfills.
  const auto reader = db().transact([&](UnitOfWork& uow) {
    User u;
    u.email = "reader@example.com";
    u.name = "Reader";
    const Id id = stores(db()).users().create(uow, u).id;
    security::Directory().assign_role(uow, id, "read_only");
    return security::Directory().principal(uow, id);
  });
  EXPECT_THROW(engine.backfill_custom_field(reader, city, std::string("Rome")), PermissionDenied);
  db().read([&](UnitOfWork& uow) {
    EXPECT_EQ(engine.count_without_value(uow, reader, stores(db()).custom_fields().get(uow, city)),
              0u);
  });
}

TEST_P(WritesTest, DatesAndTimesAreReadFromTheirTextInAnyOffset) {
  db().transact([&](UnitOfWork& uow) {
    auto seen = custom_field("seen", CustomFieldType::kDateTime);
    seen.default_value = std::string("2019-02-11T11:00:00+01:00");
    const auto made = stores(db()).custom_fields().define(uow, seen);
    EXPECT_EQ(made.default_value,
              CustomValue(Timestamp(std::chrono::sys_days{std::chrono::year{2019} / 2 / 11} +
                                    std::chrono::hours(10))));
  });
  Contact c = contact("Ti", "Me");
  c.custom = {{"since", std::string("2019-02-11")},
              {"seen", std::string("2019-02-11T04:30:00.25-05:30")}};
  c = db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().create(uow, c); });
  EXPECT_EQ(c.custom.at("since"), CustomValue(Date(std::chrono::year{2019} / 2 / 11)));
  EXPECT_EQ(c.custom.at("seen"),
            CustomValue(Timestamp(std::chrono::sys_days{std::chrono::year{2019} / 2 / 11} +
                                  std::chrono::hours(10) + std::chrono::milliseconds(250))));
  for (const auto& [field, bad] : std::vector<std::pair<std::string, CustomValue>>{
           {"since", std::string("2019-02-30")},
           {"since", std::string("11/02/2019")},
           {"seen", std::string("2019-02-11T10:00:00")},
           {"seen", std::string("2019-02-11T10:00:00.1234567Z")},
           {"seen", std::int64_t{1549879200000000}}}) {
    Patch<Contact> p;
    p.set_custom(field, bad);
    try {
      patch(c.id, p);
      ADD_FAILURE() << field;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "custom." + field);
    }
  }
  EXPECT_EQ(stored(c.id), c);
}

// UnitOfWork::attempt: a step that throws leaves nothing behind (rows, events, audit
// entries), a database refusal inside it included, and the rest of the unit commits.
TEST_P(WritesTest, AFailedAttemptUndoesOnlyItsOwnWritesEventsAndAuditEntries) {
  const auto events_before = event_count();
  const auto audit_before = audit_entries();
  auto create = [&](UnitOfWork& uow, const char* last, const char* external_id = nullptr) {
    Contact c = contact("Step", last);
    if (external_id != nullptr) c.external_id = external_id;
    stores(db()).contacts().create(uow, c);
  };
  db().transact([&](UnitOfWork& uow) {
    create(uow, "Kept", "k-1");
    EXPECT_THROW(uow.attempt([&] {
      create(uow, "Undone");
      throw ValidationError("refused by the test", "x");
    }),
                 ValidationError);
    EXPECT_THROW(uow.attempt([&] { create(uow, "Duplicate", "k-1"); }), Conflict)
        << "a unique key the database refuses";
    uow.attempt([&] {
      create(uow, "Outer");
      EXPECT_THROW(uow.attempt([&] {
        create(uow, "Inner");
        throw Conflict("refused by the test");
      }),
                   Conflict);
    });
    create(uow, "After");
  });
  std::vector<std::string> names;
  db().read([&](UnitOfWork& uow) {
    store::PageRequest r;
    r.filter = store::Filter::eq("first_name", "Step");
    for (const Contact& c : stores(db()).contacts().query(uow, r).items)
      names.push_back(c.last_name);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"Kept", "Outer", "After"}));
  EXPECT_EQ(event_count() - events_before, 3);
  EXPECT_EQ(audit_entries() - audit_before, 3);
}

}  // namespace
}  // namespace banyan::test
