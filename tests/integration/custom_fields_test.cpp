// Custom fields on both backends: definitions, validation, storage, filters, sorts, and
// renaming, deprecating, deleting and retyping definitions.
#include <set>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::Filter;
using store::PageRequest;
using store::UnitOfWork;

class CustomFieldsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    db().transact([&](UnitOfWork& uow) {
      auto reg = stores(db()).custom_fields();
      auto tier = custom_field("tier", CustomFieldType::kEnum);
      tier.options = {"bronze", "silver", "gold"};
      reg.define(uow, tier);
      auto score = custom_field("score", CustomFieldType::kNumber);
      score.min = 0;
      score.max = 100;
      reg.define(uow, score);
      auto ratio = custom_field("ratio", CustomFieldType::kDecimal);
      ratio.scale = 2;
      reg.define(uow, ratio);
      auto nick = custom_field("nickname", CustomFieldType::kText);
      nick.max_length = 10;
      reg.define(uow, nick);
      reg.define(uow, custom_field("notes", CustomFieldType::kLongText));
      reg.define(uow, custom_field("birthday", CustomFieldType::kDate));
      reg.define(uow, custom_field("last_seen", CustomFieldType::kDateTime));
      reg.define(uow, custom_field("vip", CustomFieldType::kBool));
      auto langs = custom_field("languages", CustomFieldType::kMultiEnum);
      langs.options = {"en", "fr", "de"};
      reg.define(uow, langs);
      reg.define(uow, custom_field("homepage", CustomFieldType::kUrl));
      reg.define(uow, custom_field("backup_email", CustomFieldType::kEmail));
      reg.define(uow, custom_field("mobile", CustomFieldType::kPhone));
      reg.define(uow, custom_field("budget", CustomFieldType::kCurrency));
    });
  }

  Contact create(CustomFields custom, std::string last = "Doe") {
    return db().transact([&](UnitOfWork& uow) {
      Contact c = contact("Jo", std::move(last));
      c.custom = std::move(custom);
      return stores(db()).contacts().create(uow, c);
    });
  }

  std::vector<std::string> last_names(const Filter& f, store::Sort sort = {}) {
    return contact_last_names(f, std::move(sort));
  }

  void expect_invalid(CustomFields custom, const std::string& field_name) {
    try {
      create(std::move(custom));
      ADD_FAILURE() << "accepted a bad value for " << field_name;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field_name) << e.what();
    }
  }
};
BANYAN_ON_BOTH_BACKENDS(CustomFieldsTest);

using Names = std::vector<std::string>;

TEST_P(CustomFieldsTest, EveryTypeRoundTrips) {
  const Date birthday = std::chrono::year{1990} / 5 / 17;
  const Timestamp seen(std::chrono::microseconds(1790000000123456));
  CustomFields in = {{"tier", std::string("gold")},
                     {"score", std::int64_t{87}},
                     {"ratio", 0.125},  // kept to 2 places: 0.13
                     {"nickname", std::string("Jojo 😀")},
                     {"notes", std::string(5000, 'n')},
                     {"birthday", birthday},
                     {"last_seen", seen},
                     {"vip", true},
                     {"languages", std::vector<std::string>{"fr", "en"}},
                     {"homepage", std::string("https://jo.example/about")},
                     {"backup_email", std::string("jo@backup.example")},
                     {"mobile", std::string("+44 (0)20 7946-0958")},
                     {"budget", Money{1250000, "EUR"}}};
  Contact c = create(in);
  in["ratio"] = 0.13;
  EXPECT_EQ(c.custom, in);
  Contact back =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(back.custom, in);
}

TEST_P(CustomFieldsTest, RejectsBadValuesNamingTheFieldAndStoresNothing) {
  expect_invalid({{"score", std::string("high")}}, "custom.score");
  expect_invalid({{"score", std::int64_t{101}}}, "custom.score");
  expect_invalid({{"score", std::int64_t{-1}}}, "custom.score");
  expect_invalid({{"tier", std::string("platinum")}}, "custom.tier");
  expect_invalid({{"nickname", std::string("much too long")}}, "custom.nickname");
  expect_invalid({{"nickname", std::string("bad\xFF")}}, "custom.nickname");
  expect_invalid({{"languages", std::vector<std::string>{"en", "en"}}}, "custom.languages");
  expect_invalid({{"languages", std::vector<std::string>{"xx"}}}, "custom.languages");
  expect_invalid({{"homepage", std::string("ftp://x")}}, "custom.homepage");
  expect_invalid({{"backup_email", std::string("nope")}}, "custom.backup_email");
  expect_invalid({{"mobile", std::string("call me")}}, "custom.mobile");
  expect_invalid({{"budget", Money{100, "euro"}}}, "custom.budget");
  expect_invalid({{"vip", std::string("yes")}}, "custom.vip");
  expect_invalid({{"birthday", std::int64_t{3}}}, "custom.birthday");
  expect_invalid({{"ratio", std::numeric_limits<double>::infinity()}}, "custom.ratio");
  expect_invalid({{"shoe_size", std::int64_t{42}}}, "custom.shoe_size");
  db().transact(
      [&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).contacts().count(uow, {}, true), 0u); });
}

TEST_P(CustomFieldsTest, RequiredFieldsAndDefaults) {
  db().transact([&](UnitOfWork& uow) {
    auto region = custom_field("region", CustomFieldType::kText);
    region.required = true;
    stores(db()).custom_fields().define(uow, region);
    auto stage = custom_field("lifecycle", CustomFieldType::kEnum);
    stage.options = {"lead", "customer"};
    stage.default_value = std::string("lead");
    stores(db()).custom_fields().define(uow, stage);
  });
  expect_invalid({}, "custom.region");
  Contact c = create({{"region", std::string("EMEA")}});
  EXPECT_EQ(c.custom.at("lifecycle"), CustomValue(std::string("lead"))) << "default on create";
  c.custom.erase("lifecycle");
  Contact u =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, c); });
  EXPECT_EQ(u.custom.count("lifecycle"), 0u) << "defaults apply on create only";
  u.custom.erase("region");
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, u); }),
               ValidationError);
}

TEST_P(CustomFieldsTest, FiltersWithTheStandardOperators) {
  create({{"score", std::int64_t{10}},
          {"tier", std::string("gold")},
          {"languages", std::vector<std::string>{"en", "fr"}},
          {"vip", true},
          {"ratio", 1.5},
          {"budget", Money{5000, "USD"}},
          {"nickname", std::string("Al_pha")},
          {"birthday", Date(std::chrono::year{1980} / 1 / 1)}},
         "A");
  create({{"score", std::int64_t{50}},
          {"tier", std::string("silver")},
          {"languages", std::vector<std::string>{"de"}},
          {"vip", false},
          {"ratio", 2.25},
          {"nickname", std::string("beta")},
          {"birthday", Date(std::chrono::year{1995} / 6 / 1)}},
         "B");
  create({}, "C");
  EXPECT_EQ(last_names(Filter::eq("custom.tier", "gold")), Names{"A"});
  EXPECT_EQ(last_names(Filter::ne("custom.tier", "gold")), Names{"B"});
  EXPECT_EQ(last_names(Filter::gt("custom.score", std::int64_t{20})), Names{"B"});
  EXPECT_EQ(last_names(Filter::le("custom.score", std::int64_t{50})), (Names{"A", "B"}));
  EXPECT_EQ(last_names(Filter::in("custom.score", {std::int64_t{10}, std::int64_t{99}})),
            Names{"A"});
  EXPECT_EQ(last_names(Filter::is_null("custom.score")), Names{"C"});
  EXPECT_EQ(last_names(Filter::eq("custom.score", std::monostate{})), Names{"C"});
  EXPECT_EQ(last_names(Filter::ge("custom.ratio", 2.0)), Names{"B"});
  EXPECT_EQ(last_names(Filter::eq("custom.vip", true)), Names{"A"});
  EXPECT_EQ(last_names(Filter::eq("custom.vip", false)), Names{"B"});
  EXPECT_EQ(last_names(Filter::eq("custom.budget", std::int64_t{5000})), Names{"A"});
  EXPECT_EQ(last_names(Filter::lt("custom.birthday", Date(std::chrono::year{1990} / 1 / 1))),
            Names{"A"});
  EXPECT_EQ(last_names(Filter::contains("custom.nickname", "l_p")), Names{"A"});
  EXPECT_EQ(last_names(Filter::starts_with("custom.nickname", "b")), Names{"B"});
  EXPECT_EQ(last_names(Filter::contains("custom.languages", "fr")), Names{"A"});
  EXPECT_EQ(last_names(Filter::contains("custom.languages", "de")), Names{"B"});
  EXPECT_EQ(last_names(Filter::is_null("custom.languages")), Names{"C"});
  EXPECT_EQ(last_names(Filter::eq("custom.tier", "gold") || Filter::eq("last_name", "C")),
            (Names{"A", "C"}));
  EXPECT_EQ(
      last_names(!Filter::is_null("custom.tier") && Filter::lt("custom.score", std::int64_t{40})),
      Names{"A"});
  for (auto [bad, name] : {std::pair{Filter::eq("custom.nope", "x"), "custom.nope"},
                           std::pair{Filter::eq("custom.score", "ten"), "custom.score"},
                           std::pair{Filter::eq("custom.tier", "platinum"), "custom.tier"},
                           std::pair{Filter::eq("custom.languages", "en"), "custom.languages"},
                           std::pair{Filter::contains("custom.score", "1"), "custom.score"}}) {
    try {
      last_names(bad);
      ADD_FAILURE() << "accepted a bad filter on " << name;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), name);
    }
  }
}

TEST_P(CustomFieldsTest, SortsAndPagesOnACustomField) {
  // Scores 0..24 in a shuffled order, five without a score.
  for (int i = 0; i < 25; ++i)
    create({{"score", std::int64_t{(i * 7) % 25}}}, "S" + std::to_string(i));
  for (int i = 0; i < 5; ++i) create({}, "N" + std::to_string(i));
  for (bool desc : {false, true}) {
    std::vector<std::int64_t> scores;
    std::set<Id> seen;
    std::optional<std::string> cursor;
    do {
      auto page = db().transact([&](UnitOfWork& uow) {
        PageRequest r;
        r.sort = {"custom.score", desc};
        r.limit = 4;
        r.cursor = cursor;
        return stores(db()).contacts().query(uow, r);
      });
      for (const Contact& c : page.items) {
        EXPECT_TRUE(seen.insert(c.id).second);
        auto it = c.custom.find("score");
        scores.push_back(it == c.custom.end() ? -1 : std::get<std::int64_t>(it->second));
      }
      cursor = page.next_cursor;
    } while (cursor);
    ASSERT_EQ(scores.size(), 30u);
    std::vector<std::int64_t> expected;
    for (int i = 0; i < 5; ++i) expected.push_back(-1);
    for (int i = 0; i < 25; ++i) expected.push_back(i);
    if (desc) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(scores, expected) << (desc ? "descending, NULLs last" : "ascending, NULLs first");
  }
  // Decimals sort as numbers, text as text.
  EXPECT_THROW(last_names({}, {"custom.languages", false}), ValidationError);
}

TEST_P(CustomFieldsTest, RenamingKeepsValuesAndDeprecatingRelaxesRequired) {
  Contact c = create({{"score", std::int64_t{42}}});
  auto [renamed, old_id] = db().transact([&](UnitOfWork& uow) {
    auto reg = stores(db()).custom_fields();
    Id id = 0;
    for (const auto& d : reg.list(uow, ObjectType::kContact))
      if (d.name == "score") id = d.id;
    return std::pair{reg.rename(uow, id, "rating"), id};
  });
  EXPECT_EQ(renamed.name, "rating");
  Contact back =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(back.custom.at("rating"), CustomValue(std::int64_t{42}));
  EXPECT_EQ(back.custom.count("score"), 0u);
  EXPECT_EQ(last_names(Filter::eq("custom.rating", std::int64_t{42})), Names{"Doe"});
  EXPECT_THROW(last_names(Filter::eq("custom.score", std::int64_t{42})), ValidationError);

  db().transact([&](UnitOfWork& uow) {
    auto def = stores(db()).custom_fields().get(uow, old_id);
    def.required = true;
    def = stores(db()).custom_fields().update(uow, def);
    EXPECT_TRUE(def.required);
    stores(db()).custom_fields().deprecate(uow, old_id);
  });
  Contact without = create({});  // a deprecated field is no longer required
  EXPECT_EQ(without.custom.count("rating"), 0u);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).custom_fields().list(uow, ObjectType::kContact, false).size(), 12u);
    EXPECT_EQ(stores(db()).contacts().get(uow, c.id).custom.at("rating"),
              CustomValue(std::int64_t{42}))
        << "deprecated values stay readable";
  });
}

TEST_P(CustomFieldsTest, DeletingADefinitionKeepsRecordsReadable) {
  Contact c = create({{"tier", std::string("gold")}, {"score", std::int64_t{5}}});
  db().transact([&](UnitOfWork& uow) {
    for (const auto& d : stores(db()).custom_fields().list(uow, ObjectType::kContact))
      if (d.name == "tier") stores(db()).custom_fields().remove(uow, d.id);
  });
  Contact back =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(back.custom, (CustomFields{{"score", std::int64_t{5}}}));
  back.title = "still writable";
  Contact saved =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, back); });
  EXPECT_EQ(saved.title, "still writable");
  EXPECT_EQ(scratch().raw("SELECT custom_fields FROM contacts").find("gold"), std::string::npos)
      << "the deleted field's value is dropped on the next write";
  // The name is free again, and the new field does not see the old values.
  db().transact([&](UnitOfWork& uow) {
    stores(db()).custom_fields().define(uow, custom_field("tier", CustomFieldType::kText));
    EXPECT_EQ(stores(db()).contacts().get(uow, c.id).custom.count("tier"), 0u);
  });
}

TEST_P(CustomFieldsTest, ChangingATypeConvertsValuesOrListsTheRecordsThatBlockIt) {
  Id code = db().transact([&](UnitOfWork& uow) {
    return stores(db())
        .custom_fields()
        .define(uow, custom_field("code", CustomFieldType::kText))
        .id;
  });
  Contact a = create({{"code", std::string("42")}}, "A");
  Contact b = create({{"code", std::string(" 7 ")}}, "B");
  Contact bad = create({{"code", std::string("n/a")}}, "Bad");
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).custom_fields().records_blocking_type_change(uow, code,
                                                                        CustomFieldType::kNumber),
              std::vector<Id>{bad.id});
  });
  try {
    db().transact([&](UnitOfWork& uow) {
      stores(db()).custom_fields().change_type(uow, code, CustomFieldType::kNumber);
    });
    FAIL() << "converted a value that is not a number";
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(bad.id)), std::string::npos) << e.what();
  }
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).custom_fields().get(uow, code).type, CustomFieldType::kText)
        << "nothing changed";
    EXPECT_EQ(stores(db()).contacts().get(uow, a.id).custom.at("code"),
              CustomValue(std::string("42")));
    Contact fixed = stores(db()).contacts().get(uow, bad.id);
    fixed.custom["code"] = std::string("0");
    stores(db()).contacts().update(uow, fixed);
    auto def = stores(db()).custom_fields().change_type(uow, code, CustomFieldType::kNumber);
    EXPECT_EQ(def.type, CustomFieldType::kNumber);
    EXPECT_EQ(stores(db()).contacts().get(uow, a.id).custom.at("code"),
              CustomValue(std::int64_t{42}));
    EXPECT_EQ(stores(db()).contacts().get(uow, b.id).custom.at("code"),
              CustomValue(std::int64_t{7}));
  });
  EXPECT_EQ(last_names(Filter::gt("custom.code", std::int64_t{10})), Names{"A"});
  // And back to text, which every number converts to.
  db().transact([&](UnitOfWork& uow) {
    stores(db()).custom_fields().change_type(uow, code, CustomFieldType::kText);
    EXPECT_EQ(stores(db()).contacts().get(uow, b.id).custom.at("code"),
              CustomValue(std::string("7")));
  });
}

TEST_P(CustomFieldsTest, RejectsBadDefinitions) {
  auto expect_bad = [&](CustomFieldDefinition d, const char* field_name) {
    try {
      db().transact([&](UnitOfWork& uow) { stores(db()).custom_fields().define(uow, d); });
      ADD_FAILURE() << "accepted a definition with a bad " << field_name;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field_name);
    }
  };
  expect_bad(custom_field("Bad Name", CustomFieldType::kText), "name");
  expect_bad(custom_field("9lives", CustomFieldType::kText), "name");
  expect_bad(custom_field("colour", CustomFieldType::kEnum), "options");
  auto d = custom_field("size", CustomFieldType::kNumber);
  d.default_value = std::string("large");
  expect_bad(d, "default_value");
  d = custom_field("size", CustomFieldType::kNumber);
  d.min = 10;
  d.max = 1;
  expect_bad(d, "min");
  try {
    db().transact([&](UnitOfWork& uow) {
      stores(db()).custom_fields().define(uow, custom_field("tier", CustomFieldType::kText));
    });
    FAIL();
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "name");
  }
  db().transact([&](UnitOfWork& uow) {
    // The same name on another object type is another field.
    EXPECT_NO_THROW(stores(db()).custom_fields().define(
        uow, custom_field("tier", CustomFieldType::kText, ObjectType::kCompany)));
    EXPECT_EQ(stores(db()).custom_fields().list(uow, ObjectType::kContact).size(), 13u);
  });
}

// Definitions are cached per Database; another Database (another process) sees changes
// once its cache is older than custom_field_cache_ttl.
TEST_P(CustomFieldsTest, AnotherProcessSeesNewDefinitionsWithinTheCacheTtl) {
  store::DatabaseOptions fresh;
  fresh.custom_field_cache_ttl = std::chrono::milliseconds(0);
  auto other = scratch().open(fresh);
  auto clock = std::make_shared<ManualClock>();
  store::DatabaseOptions cached;
  cached.custom_field_cache_ttl = std::chrono::milliseconds(50);
  cached.clock = clock;
  auto third = scratch().open(cached);
  third->transact(
      [&](UnitOfWork& uow) { stores(*third).contacts().create(uow, contact("Warm", "Cache")); });
  db().transact([&](UnitOfWork& uow) {
    stores(db()).custom_fields().define(uow, custom_field("region", CustomFieldType::kText));
  });
  auto with_region = [](store::Database& d) {
    return d.transact([&](UnitOfWork& uow) {
      Contact c = contact("Re", "Gion");
      c.custom = {{"region", std::string("EMEA")}};
      return stores(d).contacts().create(uow, c).custom;
    });
  };
  EXPECT_EQ(with_region(*other).at("region"), CustomValue(std::string("EMEA")));
  // Within its cache's lifetime the third still knows the definitions it read.
  clock->advance(std::chrono::milliseconds(49));
  EXPECT_THROW(with_region(*third), ValidationError);
  clock->advance(std::chrono::milliseconds(2));
  EXPECT_EQ(with_region(*third).at("region"), CustomValue(std::string("EMEA")));
}

TEST_P(CustomFieldsTest, OtherRecordTypesHaveTheirOwnFields) {
  db().transact([&](UnitOfWork& uow) {
    auto seats = custom_field("seats", CustomFieldType::kNumber, ObjectType::kCompany);
    stores(db()).custom_fields().define(uow, seats);
    Company co;
    co.name = "Acme";
    co.custom = {{"seats", std::int64_t{250}}};
    co = stores(db()).companies().create(uow, co);
    EXPECT_EQ(stores(db()).companies().get(uow, co.id).custom.at("seats"),
              CustomValue(std::int64_t{250}));
    Company wrong;
    wrong.name = "Wrong";
    wrong.custom = {{"tier", std::string("gold")}};  // a contact field
    EXPECT_THROW(stores(db()).companies().create(uow, wrong), ValidationError);
  });
}

}  // namespace
}  // namespace banyan::test
