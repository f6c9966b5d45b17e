// One fixture for every integration test: a fresh database per test, on each backend.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "banyan/banyan.hpp"
#include "security/directory.hpp"
#include "store/stores.hpp"
#include "test_databases.hpp"

namespace banyan::test {

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<ScratchDatabase>(GetParam());
    db_ = scratch_->open(database_options());
  }
  void TearDown() override {
    db_.reset();
    scratch_.reset();
  }

  // How db() is opened; a fixture overrides it (a clock of its own, say).
  virtual store::DatabaseOptions database_options() { return {}; }
  store::Database& db() { return *db_; }
  // Another Database on the same scratch database, with `ring` (key lines) as its
  // encryption key ring.
  std::unique_ptr<store::Database> open_with(const std::string& ring) {
    store::DatabaseOptions o;
    o.encryption = store::EncryptionKeys::parse(ring);
    return scratch_->open(std::move(o));
  }
  const ScratchDatabase& scratch() const { return *scratch_; }

  // A pipeline with open stages "Lead" (10%) and "Proposal" (50%), then "Won" (100%, won)
  // and "Lost" (0%, lost).
  struct SalesPipeline {
    Pipeline pipeline;
    Stage lead, proposal, won, lost;
  };
  SalesPipeline make_pipeline(const std::string& name = "Sales") {
    return db().transact([&](store::UnitOfWork& uow) {
      SalesPipeline p;
      p.pipeline = stores(db()).pipelines().create(uow, named<Pipeline>(name));
      auto stage = [&](const char* stage_name, int pos, int prob,
                       StageKind kind = StageKind::kOpen) {
        Stage s;
        s.pipeline_id = p.pipeline.id;
        s.name = stage_name;
        s.position = pos;
        s.win_probability = prob;
        s.kind = kind;
        return stores(db()).stages().create(uow, s);
      };
      p.lead = stage("Lead", 1, 10);
      p.proposal = stage("Proposal", 2, 50);
      p.won = stage("Won", 3, 100, StageKind::kWon);
      p.lost = stage("Lost", 4, 0, StageKind::kLost);
      return p;
    });
  }

  // A deal created already won, in a new pipeline (what starts the deal_won saga).
  Deal won_deal(std::string title, Money amount = {}) {
    auto p = make_pipeline();
    return db().transact([&](store::UnitOfWork& uow) {
      Deal d;
      d.title = std::move(title);
      d.pipeline_id = p.pipeline.id;
      d.stage_id = p.won.id;
      d.amount = std::move(amount);
      d.status = DealStatus::kWon;
      return stores(db()).deals().create(uow, d);
    });
  }

  // The outbox's events after `after` (a sequence), oldest first; their types; the last
  // sequence so far.
  std::vector<store::DomainEvent> events(std::uint64_t after = 0) {
    return db().transact(
        [&](store::UnitOfWork& uow) { return stores(db()).outbox().read(uow, after, 10000); });
  }
  std::vector<std::string> types(std::uint64_t after = 0) {
    std::vector<std::string> out;
    for (const auto& e : events(after)) out.push_back(e.type);
    return out;
  }
  std::uint64_t last_sequence() {
    auto all = events();
    return all.empty() ? 0 : all.back().sequence;
  }

  // A new user named by the part of `email` before the @, holding `roles` and a member of
  // `teams`, as the principal authentication would make of it.
  security::Principal person(const std::string& email, const std::vector<std::string>& roles,
                             const std::vector<Id>& teams = {}) {
    return db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = email;
      u.name = email.substr(0, email.find('@'));
      const Id id = stores(db()).users().create(uow, u).id;
      const security::Directory directory;
      for (const auto& r : roles) directory.assign_role(uow, id, r);
      for (Id t : teams) directory.add_member(uow, t, id);
      return directory.principal(uow, id);
    });
  }

  // A custom field definition with the rest of its settings at their defaults.
  static CustomFieldDefinition custom_field(std::string name, CustomFieldType type,
                                            ObjectType on = ObjectType::kContact) {
    CustomFieldDefinition d;
    d.object_type = on;
    d.name = std::move(name);
    d.type = type;
    return d;
  }

  // A record of a type whose only required field is its name.
  template <typename T>
  static T named(std::string name) {
    T record;
    record.name = std::move(name);
    return record;
  }

  // The last names of the contacts a filter finds (one page of up to 100), in sort order.
  std::vector<std::string> contact_last_names(const store::Filter& filter, store::Sort sort = {}) {
    return db().transact([&](store::UnitOfWork& uow) {
      store::PageRequest r;
      r.filter = filter;
      r.sort = std::move(sort);
      r.limit = 100;
      std::vector<std::string> out;
      for (const Contact& c : stores(db()).contacts().query(uow, r).items)
        out.push_back(c.last_name);
      return out;
    });
  }

  // A new user holding `role`, linked to an issuer's subject (tokens of it act as the user).
  Id linked_user(const std::string& email, const std::string& role,
                 const security::Identity& identity) {
    return db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = email;
      u.name = identity.subject;
      const Id id = stores(db()).users().create(uow, u).id;
      security::Directory().assign_role(uow, id, role);
      security::Directory().link_identity(uow, id, identity);
      return id;
    });
  }

  static Contact contact(std::string first, std::string last,
                         std::optional<std::string> email = std::nullopt) {
    Contact c;
    c.first_name = std::move(first);
    c.last_name = std::move(last);
    c.email = std::move(email);
    return c;
  }

 private:
  std::unique_ptr<ScratchDatabase> scratch_;
  std::unique_ptr<store::Database> db_;
};

inline std::string backend_test_name(const ::testing::TestParamInfo<Backend>& info) {
  return backend_name(info.param);
}

#define BANYAN_ON_BOTH_BACKENDS(Fixture)                                                      \
  INSTANTIATE_TEST_SUITE_P(                                                                   \
      Backends, Fixture,                                                                      \
      ::testing::Values(::banyan::test::Backend::kSqlite, ::banyan::test::Backend::kMariaDb), \
      ::banyan::test::backend_test_name)

}  // namespace banyan::test
