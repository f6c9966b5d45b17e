// The databases the store benchmarks run against: one per backend, with and without
// encryption at rest, created through Banyan and seeded with 100,000 contacts once per run.
#pragma once

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "banyan/banyan.hpp"
#include "mysql_scratch.hpp"
#include "store/stores.hpp"

namespace banyan::bench {

using banyan::Contact;
using banyan::Id;
using banyan::store::Database;
using banyan::store::Filter;
using banyan::store::UnitOfWork;

constexpr int kSeedRows = 100000;
constexpr const char* kColumns =
    "id, version, owner_id, team_id, created_at, created_by, updated_at, updated_by, "
    "external_id, archived_at, first_name, last_name, email, phone, title";
constexpr int kColumnCount = 15;

inline std::string sqlite_path() {
  return "/tmp/banyan_bench_store_" + std::to_string(::getpid()) + ".db";
}

struct Target {
  std::string url;
  std::unique_ptr<Database> db;
  std::vector<Id> ids;
  Id tier_field = 0;  // custom fields of the seeded contacts
  Id score_field = 0;
};

// Opens the database through Banyan (which creates the schema) and seeds it; `encrypted`:
// a second database whose sensitive values are encrypted at rest.
inline Target& target(bool mysql, bool encrypted = false) {
  static Target targets[4];
  Target& t = targets[(mysql ? 1 : 0) + (encrypted ? 2 : 0)];
  if (t.db) return t;
  const std::string suffix = encrypted ? "_enc" : "";
  if (mysql) {
    t.url =
        banyan::bench::fresh_mysql_database("bench_store_" + std::to_string(::getpid()) + suffix);
  } else {
    t.url = "sqlite://" + sqlite_path() + suffix;
  }
  banyan::store::DatabaseOptions o;
  o.pool.min_size = 2;
  o.pool.max_size = 2;
  if (encrypted)
    o.encryption =
        banyan::store::EncryptionKeys::parse(banyan::store::EncryptionKeys::generate_line("bench"));
  t.db = Database::open(t.url, o);
  t.db->transact([&](UnitOfWork& uow) {
    banyan::CustomFieldDefinition tier;
    tier.name = "tier";
    tier.type = banyan::CustomFieldType::kEnum;
    tier.options = {"bronze", "silver", "gold"};
    t.tier_field = stores(*t.db).custom_fields().define(uow, tier).id;
    banyan::CustomFieldDefinition score;
    score.name = "score";
    score.type = banyan::CustomFieldType::kNumber;
    t.score_field = stores(*t.db).custom_fields().define(uow, score).id;
  });
  static const char* const kTiers[] = {"bronze", "silver", "gold"};
  for (int batch = 0; batch < kSeedRows; batch += 1000) {
    t.db->transact([&](UnitOfWork& uow) {
      for (int i = batch; i < batch + 1000; ++i) {
        Contact c;
        c.first_name = "First" + std::to_string(i);
        c.last_name = "Smith" + std::to_string(i % 1000);
        c.email = "person" + std::to_string(i) + "@example.com";
        c.title = "Engineer";
        c.custom = {{"tier", std::string(kTiers[i % 3])}, {"score", std::int64_t{i % 1000}}};
        t.ids.push_back(stores(*t.db).contacts().create(uow, c).id);
      }
    });
  }
  return t;
}

inline Contact new_contact(int i) {
  Contact c;
  c.first_name = "Bench";
  c.last_name = "Insert" + std::to_string(i);
  c.email = "bench" + std::to_string(i) + "@example.com";
  c.title = "Tester";
  return c;
}

}  // namespace banyan::bench
