// Encryption at rest on both backends: what the database holds, what the library gives
// back, lookups through the blind index, key rotation and rewrapping, refusals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::EncryptionKeys;
using store::Filter;
using store::UnitOfWork;

const std::string kKey1 = EncryptionKeys::generate_line("k1");
const std::string kKey2 = EncryptionKeys::generate_line("k2");

class EncryptionTest : public StoreTest {
 protected:
  std::vector<std::string> columns_holding(const std::string& needle) {
    return scratch().columns_holding(needle);
  }
  bool files_hold(const std::string& needle) { return scratch().files_hold(needle); }

  // Defines a custom field on contacts marked sensitive.
  static void define_sensitive(store::Database& db, UnitOfWork& uow, const std::string& name,
                               CustomFieldType type) {
    CustomFieldDefinition d;
    d.object_type = ObjectType::kContact;
    d.name = name;
    d.type = type;
    d.sensitive = true;
    stores(db).custom_fields().define(uow, d);
  }

  static Contact person(const std::string& last, const std::string& email,
                        const std::string& phone) {
    Contact c = contact("Ada", last, email);
    c.phone = phone;
    return c;
  }

  std::vector<std::string> last_names_where(store::Database& db, const Filter& filter) {
    return db.transact([&](UnitOfWork& uow) {
      store::PageRequest r;
      r.filter = filter;
      std::vector<std::string> out;
      for (const Contact& c : stores(db).contacts().query(uow, r).items) out.push_back(c.last_name);
      return out;
    });
  }
};

TEST_P(EncryptionTest, StoredEmailsPhonesAndSensitiveValuesAreNotInTheDatabase) {
  auto db = open_with(kKey1);
  const Id id = db->transact([&](UnitOfWork& uow) {
    define_sensitive(*db, uow, "tax_number", CustomFieldType::kText);
    Contact c = person("Quuxington", "ada.secret@example.com", "+44 20 7946 0958");
    c.custom["tax_number"] = std::string("TAXSECRET-7731");
    const Contact stored = stores(*db).contacts().create(uow, c);
    Lead l;
    l.first_name = "Grace";
    l.last_name = "Zorblatt";
    l.email = "grace.secret@example.org";
    l.phone = "+1 555 0100 4477";
    stores(*db).leads().create(uow, l);
    // A stored idempotent response repeats what was written.
    stores(*db).request_log().save(uow, "key-1",
                                   {"fp", 201, "{}", R"({"email":"ada.secret@example.com"})", {}});
    return stored.id;
  });
  db->transact([&](UnitOfWork& uow) {
    Contact c = stores(*db).contacts().get(uow, id);
    c.title = "Countess";
    stores(*db).contacts().update(uow, c);
    stores(*db).contacts().archive(uow, id);
    stores(*db).contacts().restore(uow, id);
  });

  for (const std::string secret :
       {"ada.secret", "grace.secret", "7946 0958", "0100 4477", "TAXSECRET"})
    EXPECT_EQ(columns_holding(secret), std::vector<std::string>{}) << secret;
  // The scan finds what is stored as given: it could have failed.
  EXPECT_FALSE(columns_holding("Quuxington").empty());
  EXPECT_FALSE(columns_holding("Zorblatt").empty());
  if (scratch().backend() == Backend::kSqlite) {
    for (const std::string secret : {"ada.secret", "grace.secret", "7946 0958", "TAXSECRET"})
      EXPECT_FALSE(files_hold(secret)) << secret;
    EXPECT_TRUE(files_hold("Quuxington"));
  }
}

TEST_P(EncryptionTest, WithoutKeysTheSameScanFindsTheEmail) {
  // The control for the test above: the scan and the file grep do see plain values.
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, person("Plain", "ada.plain@example.com", "+1 555 0199"));
  });
  EXPECT_FALSE(columns_holding("ada.plain@example.com").empty());
  if (scratch().backend() == Backend::kSqlite) {
    EXPECT_TRUE(files_hold("ada.plain@example.com"));
  }
}

TEST_P(EncryptionTest, TheLibraryGivesBackPlainValuesEverywhere) {
  auto db = open_with(kKey1);
  const Timestamp before_update = db->transact([&](UnitOfWork& uow) {
    define_sensitive(*db, uow, "salary", CustomFieldType::kNumber);
    Contact c = person("Lovelace", "ada@example.com", "+44 1");
    c.custom["salary"] = std::int64_t{5000};
    stores(*db).contacts().create(uow, c);
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  });
  const Contact updated = db->transact([&](UnitOfWork& uow) {
    Contact c = stores(*db).contacts().query(uow, {}).items.at(0);
    EXPECT_EQ(c.email, "ada@example.com");
    EXPECT_EQ(c.phone, "+44 1");
    EXPECT_EQ(std::get<std::int64_t>(c.custom.at("salary")), 5000);
    c.email = "ada@lovelace.example";
    c.custom["salary"] = std::int64_t{6000};
    return stores(*db).contacts().update(uow, c);
  });
  EXPECT_EQ(updated.email, "ada@lovelace.example");
  db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(*db).contacts().get(uow, updated.id).email, "ada@lovelace.example");
    const auto then = stores(*db).audit().as_of<Contact>(uow, updated.id, before_update);
    ASSERT_TRUE(then.has_value());
    EXPECT_EQ(then->email, "ada@example.com");
    EXPECT_EQ(std::get<std::int64_t>(then->custom.at("salary")), 5000);
    const auto email =
        stores(*db).audit().history(uow, {ObjectType::kContact, updated.id}, "email");
    ASSERT_EQ(email.size(), 2u);
    EXPECT_EQ(email[0].after, "\"ada@example.com\"");
    EXPECT_EQ(email[1].before, "\"ada@example.com\"");
    EXPECT_EQ(email[1].after, "\"ada@lovelace.example\"");
    const auto salary =
        stores(*db).audit().history(uow, {ObjectType::kContact, updated.id}, "custom.salary");
    ASSERT_EQ(salary.size(), 2u);
    EXPECT_EQ(salary[1].after, "6000");
    // Events carry the record as stored: sealed.
    for (const auto& e : stores(*db).outbox().read(uow)) {
      if (e.aggregate_type != ObjectType::kContact) continue;
      EXPECT_EQ(e.payload.find("ada@"), std::string::npos) << e.payload;
      EXPECT_NE(e.payload.find("enc1:k1:"), std::string::npos) << e.payload;
    }
    EXPECT_EQ(stores(*db).request_log().find(uow, "none"), std::nullopt);
    stores(*db).request_log().save(uow, "k", {"fp", 200, "{}", "body with ada@example.com", {}});
    EXPECT_EQ(stores(*db).request_log().find(uow, "k")->body, "body with ada@example.com");
  });
}

TEST_P(EncryptionTest, AnUnchangedValueKeepsItsSealedFormAndShowsNoChange) {
  auto db = open_with(kKey1);
  Contact c = db->transact([&](UnitOfWork& uow) {
    return stores(*db).contacts().create(uow, person("Same", "same@example.com", "+1 2"));
  });
  const std::string sealed =
      scratch().raw("SELECT email FROM contacts WHERE id = " + std::to_string(c.id));
  EXPECT_TRUE(sealed.starts_with("enc1:k1:")) << sealed;
  db->transact([&](UnitOfWork& uow) {
    c.title = "Engineer";
    stores(*db).contacts().update(uow, c);
  });
  EXPECT_EQ(scratch().raw("SELECT email FROM contacts WHERE id = " + std::to_string(c.id)), sealed);
  db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(*db).audit().history(uow, {ObjectType::kContact, c.id}, "email").size(), 1u)
        << "only the creation";
  });
}

TEST_P(EncryptionTest, FindsByEmailThroughTheBlindIndexAndRefusesWhatItCannotDo) {
  auto db = open_with(kKey1);
  db->transact([&](UnitOfWork& uow) {
    stores(*db).contacts().create(uow, person("One", "one@example.com", "+1 1"));
    stores(*db).contacts().create(uow, person("Two", "two@example.com", "+1 2"));
    stores(*db).contacts().create(uow, contact("Three", "Three"));
  });
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "two@example.com")),
            std::vector<std::string>{"Two"});
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "TWO@Example.com")),
            std::vector<std::string>{"Two"})
      << "addresses are compared case-insensitively";
  EXPECT_EQ(last_names_where(*db, Filter::in("email", {std::string("one@example.com"),
                                                       std::string("two@example.com")})),
            (std::vector<std::string>{"One", "Two"}));
  EXPECT_EQ(last_names_where(*db, Filter::ne("email", "one@example.com")),
            std::vector<std::string>{"Two"});
  EXPECT_EQ(last_names_where(*db, Filter::is_null("email")), std::vector<std::string>{"Three"});
  EXPECT_TRUE(last_names_where(*db, Filter::eq("email", "nobody@example.com")).empty());
  db->transact([&](UnitOfWork& uow) {
    auto refused = [&](const Filter& f, store::Sort sort = {}) {
      store::PageRequest r;
      r.filter = f;
      r.sort = std::move(sort);
      try {
        stores(*db).contacts().query(uow, r);
        ADD_FAILURE() << "not refused";
      } catch (const ValidationError& e) {
        EXPECT_NE(std::string(e.what()).find("encrypted at rest"), std::string::npos) << e.what();
      }
    };
    refused(Filter::contains("email", "example"));
    refused(Filter::starts_with("email", "one"));
    refused(Filter::gt("email", "a"));
    refused(Filter::eq("phone", "+1 1"));
    refused(Filter(), store::Sort{"email", false});
    refused(Filter(), store::Sort{"phone", true});
  });
}

TEST_P(EncryptionTest, DuplicatesAreStillFoundByEmailAndPhone) {
  auto db = open_with(kKey1);
  const auto [a, b] = db->transact([&](UnitOfWork& uow) {
    const Contact x =
        stores(*db).contacts().create(uow, person("Alpha", "dup@example.com", "+1 555 123 4567"));
    const Contact y =
        stores(*db).contacts().create(uow, person("Beta", "DUP@example.com", "+1 (555) 123-4567"));
    return std::pair{x.id, y.id};
  });
  db->transact([&](UnitOfWork& uow) {
    const auto matches = stores(*db).duplicates().of(uow, {ObjectType::kContact, a});
    ASSERT_EQ(matches.size(), 1u);
    EXPECT_EQ(matches[0].id, b);
    EXPECT_EQ(matches[0].rules.size(), 2u) << "email and phone";
  });
  EXPECT_EQ(columns_holding("dup@example.com"), std::vector<std::string>{});
  EXPECT_EQ(columns_holding("5551234567"), std::vector<std::string>{});
}

TEST_P(EncryptionTest, SearchLeavesEncryptedEmailsOut) {
  auto db = open_with(kKey1);
  db->transact([&](UnitOfWork& uow) {
    stores(*db).contacts().create(uow, person("Searchable", "findme@example.com", "+1 9"));
  });
  db->transact([&](UnitOfWork& uow) {
    store::SearchRequest s;
    s.query = "searchable";
    EXPECT_EQ(stores(*db).search().search(uow, s).size(), 1u);
    s.query = "findme";
    EXPECT_TRUE(stores(*db).search().search(uow, s).empty());
  });
}

TEST_P(EncryptionTest, KeysRotateOldValuesStillOpenAndRewrapMovesThemToTheNewKey) {
  Id first = 0;
  {
    auto db = open_with(kKey1);
    first = db->transact([&](UnitOfWork& uow) {
      return stores(*db).contacts().create(uow, person("Old", "old@example.com", "+1 3")).id;
    });
  }
  auto db = open_with(kKey1 + "\n" + kKey2);
  EXPECT_EQ(db->encryption_key_id(), "k2");
  const Id second = db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(*db).contacts().get(uow, first).email, "old@example.com");
    return stores(*db).contacts().create(uow, person("New", "new@example.com", "+1 4")).id;
  });
  auto stored_email = [&](Id id) {
    return scratch().raw("SELECT email FROM contacts WHERE id = " + std::to_string(id));
  };
  EXPECT_TRUE(stored_email(first).starts_with("enc1:k1:"));
  EXPECT_TRUE(stored_email(second).starts_with("enc1:k2:"));
  // The blind index of either key finds its record.
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "old@example.com")),
            std::vector<std::string>{"Old"});
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "new@example.com")),
            std::vector<std::string>{"New"});

  const std::string version =
      scratch().raw("SELECT version FROM contacts WHERE id = " + std::to_string(first));
  EXPECT_EQ(db->rewrap_encrypted(1), 1u) << "one record was under the old key";
  EXPECT_TRUE(stored_email(first).starts_with("enc1:k2:"));
  EXPECT_EQ(scratch().raw("SELECT version FROM contacts WHERE id = " + std::to_string(first)),
            version)
      << "a rewrap changes no value, so no version";
  EXPECT_EQ(db->rewrap_encrypted(), 0u) << "nothing left to reseal";
  db.reset();
  // With the old key gone, every record still reads.
  auto newest_only = open_with(kKey2);
  newest_only->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(*newest_only).contacts().get(uow, first).email, "old@example.com");
  });
  EXPECT_EQ(last_names_where(*newest_only, Filter::eq("email", "old@example.com")),
            std::vector<std::string>{"Old"});
}

TEST_P(EncryptionTest, TurningEncryptionOnSealsOldValuesOnRewrap) {
  const Id id = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, person("Before", "before@example.com", "+1 5")).id;
  });
  auto db = open_with(kKey1);
  store::SearchRequest by_domain;
  by_domain.query = "example";
  // Stored as given until resealed, and found by email all the same.
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "before@example.com")),
            std::vector<std::string>{"Before"});
  db->transact(
      [&](UnitOfWork& uow) { EXPECT_EQ(stores(*db).search().search(uow, by_domain).size(), 1u); });
  EXPECT_EQ(db->rewrap_encrypted(), 1u);
  EXPECT_TRUE(scratch()
                  .raw("SELECT email FROM contacts WHERE id = " + std::to_string(id))
                  .starts_with("enc1:k1:"));
  EXPECT_EQ(scratch().raw("SELECT COUNT(*) FROM match_keys WHERE match_key = 'before@example.com'"),
            "0");
  EXPECT_EQ(last_names_where(*db, Filter::eq("email", "before@example.com")),
            std::vector<std::string>{"Before"});
  db->transact([&](UnitOfWork& uow) {
    EXPECT_TRUE(stores(*db).search().search(uow, by_domain).empty())
        << "the email left the search index";
    store::SearchRequest by_name;
    by_name.query = "before";
    EXPECT_EQ(stores(*db).search().search(uow, by_name).size(), 1u);
  });
}

TEST_P(EncryptionTest, ADatabaseWithSealedValuesIsRefusedWithoutItsKeys) {
  { open_with(kKey1); }
  try {
    scratch().open();
    ADD_FAILURE() << "opened without keys";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("k1"), std::string::npos) << e.what();
  }
  // The same id with other key material would seal what the real key cannot open.
  try {
    open_with(EncryptionKeys::generate_line("k1"));
    ADD_FAILURE() << "opened with another key of the same id";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("'k1'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(open_with(kKey1));
}

TEST_P(EncryptionTest, AnAlteredOrMovedSealedValueIsRefused) {
  auto db = open_with(kKey1);
  const Id id = db->transact([&](UnitOfWork& uow) {
    return stores(*db).contacts().create(uow, person("Tamper", "t@example.com", "+1 6")).id;
  });
  const std::string where = " WHERE id = " + std::to_string(id);
  // The email's sealed value put in the phone column: it belongs elsewhere.
  scratch().raw("UPDATE contacts SET phone = email" + where);
  db->transact(
      [&](UnitOfWork& uow) { EXPECT_THROW(stores(*db).contacts().get(uow, id), Unavailable); });
  const std::string sealed = scratch().raw("SELECT email FROM contacts" + where);
  std::string altered = sealed;
  altered[20] = altered[20] == 'A' ? 'C' : 'A';
  scratch().raw("UPDATE contacts SET phone = NULL, email = '" + altered + "'" + where);
  db->transact(
      [&](UnitOfWork& uow) { EXPECT_THROW(stores(*db).contacts().get(uow, id), Unavailable); });
}

TEST_P(EncryptionTest, ChangingASensitiveFieldsTypeConvertsItsSealedValues) {
  auto db = open_with(kKey1);
  const Id id = db->transact([&](UnitOfWork& uow) {
    define_sensitive(*db, uow, "code", CustomFieldType::kText);
    Contact c = contact("Typed", "Typed");
    c.custom["code"] = std::string("8675309417");
    return stores(*db).contacts().create(uow, c).id;
  });
  db->transact([&](UnitOfWork& uow) {
    const auto defs = stores(*db).custom_fields().list(uow, ObjectType::kContact);
    stores(*db).custom_fields().change_type(uow, defs.at(0).id, CustomFieldType::kNumber);
  });
  db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(std::get<std::int64_t>(stores(*db).contacts().get(uow, id).custom.at("code")),
              std::int64_t{8675309417});
  });
  EXPECT_EQ(columns_holding("8675309417"), std::vector<std::string>{});
}

BANYAN_ON_BOTH_BACKENDS(EncryptionTest);

}  // namespace
}  // namespace banyan::test
