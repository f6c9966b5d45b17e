// Keys that cannot go wrong quietly (issue 17, point 6), on both backends: a ring that
// lacks a key the database still uses is refused at open; a ring changed elsewhere is
// picked up without a restart (and a bad one refused, the ring in force kept); what is
// wrong with the ring in force is told; a field marked sensitive has its stored values
// sealed.
#include <gtest/gtest.h>

#include "banyan/errors.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::EncryptionKeys;
using store::UnitOfWork;

const std::string kKey1 = EncryptionKeys::generate_line("k1");
const std::string kKey2 = EncryptionKeys::generate_line("k2");
const std::string kKey3 = EncryptionKeys::generate_line("k3");

class KeyRingTest : public StoreTest {
 protected:
  // The columns of record tables (not the audit trail or the event log) holding `needle`.
  std::vector<std::string> record_columns_holding(const std::string& needle) {
    std::vector<std::string> out;
    for (auto& c : scratch().columns_holding(needle))
      if (!c.starts_with("audit_log.") && !c.starts_with("outbox_events.") &&
          !c.starts_with("queue_messages."))
        out.push_back(c);
    return out;
  }
  static Id add(store::Database& db, const std::string& email) {
    return db.transact([&](UnitOfWork& uow) {
      return stores(db).contacts().create(uow, contact("Ada", "L", email)).id;
    });
  }
  static std::optional<std::string> email_of(store::Database& db, Id id) {
    return db.transact([&](UnitOfWork& uow) { return stores(db).contacts().get(uow, id).email; });
  }
};
BANYAN_ON_BOTH_BACKENDS(KeyRingTest);

TEST_P(KeyRingTest, ARingThatLacksAKeyTheDatabaseStillUsesIsRefusedAtOpen) {
  { add(*open_with(kKey1), "one@example.com"); }
  try {
    open_with(kKey2);
    ADD_FAILURE() << "opened with a ring that cannot open what k1 sealed";
  } catch (const Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find("'k1'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(scratch().raw("SELECT COUNT(*) FROM encryption_keys WHERE key_id = 'k2'"), "0")
      << "a refused ring registers nothing";
  // After a complete rewrap under k2, k1 is retired and may leave the ring.
  { open_with(kKey1 + "\n" + kKey2)->rewrap_encrypted(); }
  auto db = open_with(kKey2);
  EXPECT_TRUE(db->encryption_key_problems().empty());
}

TEST_P(KeyRingTest, ARingChangedElsewhereIsPickedUpWithoutARestart) {
  auto running = open_with(kKey1);
  const Id before = add(*running, "before@example.com");
  // Another process rotates: k2 appended, a new record sealed with it.
  auto rotated = open_with(kKey1 + "\n" + kKey2);
  const Id after = add(*rotated, "after@example.com");
  EXPECT_THROW(email_of(*running, after), Unavailable);
  const auto problems = running->encryption_key_problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'k2'"), std::string::npos) << problems[0];

  running->reload_encryption_keys(EncryptionKeys::parse(kKey1 + "\n" + kKey2));
  EXPECT_EQ(email_of(*running, after).value_or(""), "after@example.com");
  EXPECT_EQ(email_of(*running, before).value_or(""), "before@example.com");
  EXPECT_EQ(running->encryption_key_id(), "k2");
  EXPECT_TRUE(running->encryption_key_problems().empty());

  // A ring that lacks keys in use is refused, and the ring in force stays.
  EXPECT_THROW(running->reload_encryption_keys(EncryptionKeys::parse(kKey3)), Unavailable);
  EXPECT_EQ(running->encryption_key_id(), "k2");
  EXPECT_EQ(email_of(*running, before).value_or(""), "before@example.com");
  // So is a known id with other key material.
  EXPECT_THROW(running->reload_encryption_keys(
                   EncryptionKeys::parse(kKey1 + "\n" + EncryptionKeys::generate_line("k2"))),
               Unavailable);
  EXPECT_EQ(email_of(*running, after).value_or(""), "after@example.com");
}

TEST_P(KeyRingTest, MarkingAFieldSensitiveSealsTheValuesItHolds) {
  auto db = open_with(kKey1);
  const auto def = db->transact([&](UnitOfWork& uow) {
    CustomFieldDefinition d;
    d.object_type = ObjectType::kContact;
    d.name = "salary";
    d.type = CustomFieldType::kText;
    return stores(*db).custom_fields().define(uow, d);
  });
  std::vector<Id> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(db->transact([&](UnitOfWork& uow) {
      Contact c = contact("Ada", "S" + std::to_string(i));
      c.custom["salary"] = std::string("secret-") + std::to_string(i);
      return stores(*db).contacts().create(uow, c).id;
    }));
  }
  const std::vector<std::string> plain{"contacts.custom_fields"};
  EXPECT_EQ(record_columns_holding("secret-3"), plain) << "stored as given while not sensitive";
  db->transact([&](UnitOfWork& uow) {
    auto d = stores(*db).custom_fields().get(uow, def.id);
    d.sensitive = true;
    stores(*db).custom_fields().update(uow, d);
  });
  EXPECT_EQ(db->seal_sensitive_values(ObjectType::kContact, 2), 5u)
      << "every record holding a value, in batches of 2";
  // (The audit trail and the event log keep what was written then, as they must.)
  EXPECT_TRUE(record_columns_holding("secret-3").empty()) << "no stored value left as given";
  db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(std::get<std::string>(stores(*db).contacts().get(uow, ids[3]).custom.at("salary")),
              "secret-3");
  });
  EXPECT_EQ(db->seal_sensitive_values(ObjectType::kContact), 0u) << "nothing left to seal";
}

}  // namespace
}  // namespace banyan::test
