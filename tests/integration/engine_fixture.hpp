// The Engine's tests share one fixture: teams East and West, a user of each built-in role
// (and none), and three contacts (the rep's own, a teammate's, a westerner's), on a
// database whose clock moves only when a test moves it.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "security/role_store.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {

class EngineTest : public StoreTest {
 protected:
  using Principal = security::Principal;

  // Time moves when a test moves it (the policy's lifetime, the export window).
  store::DatabaseOptions database_options() override {
    store::DatabaseOptions o;
    o.clock = clock;
    return o;
  }
  void SetUp() override {
    StoreTest::SetUp();
    engine_ = std::make_unique<Engine>(db());
    db().transact([&](store::UnitOfWork& uow) {
      east = stores(db()).teams().create(uow, named<Team>("East")).id;
      west = stores(db()).teams().create(uow, named<Team>("West")).id;
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
      return stores(db()).contacts().create(uow, c);
    });
  }
  Contact stored(Id id) {
    return db().read([&](store::UnitOfWork& uow) { return stores(db()).contacts().get(uow, id); });
  }
  // Gives a stored contact an external id; returns it as it then is.
  Contact with_external_id(Id id, const std::string& external_id) {
    return db().transact([&](store::UnitOfWork& uow) {
      Contact c = stores(db()).contacts().get(uow, id);
      c.external_id = external_id;
      return stores(db()).contacts().update(uow, c);
    });
  }
  // A user whose one role, made for the test, grants `actions` on every contact: an
  // "editor" of kRead and kUpdate changes contacts without seeing personal data.
  Principal with_contact_role(const std::string& role, std::vector<security::Action> actions) {
    db().transact([&](store::UnitOfWork& uow) {
      security::Role made{role, "A test's role", {}, false};
      for (const auto action : actions)
        made.grants.push_back({ObjectType::kContact, action, security::Scope::kAll});
      security::RoleStore().create(uow, made);
    });
    engine().policy_changed();
    return person(role + "@example.com", {role}, {});
  }
  std::vector<std::string> visible(const Principal& who) {
    return db().read([&](store::UnitOfWork& uow) {
      std::vector<std::string> out;
      for (const auto& c : engine().contacts(who).query(uow, {}).items) out.push_back(c.last_name);
      return out;
    });
  }
  Engine& engine() { return *engine_; }

  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  Id east = 0, west = 0;
  Principal admin, manager, rep, teammate, westerner, reader, bot, nobody;
  Contact own, teammates, westerners;

 private:
  std::unique_ptr<Engine> engine_;
};

// A company or tag owned and placed like contact_of's contacts.
template <typename T>
T placed(store::Database& db, const std::string& name, const security::Principal& owner, Id team) {
  return db.transact([&](store::UnitOfWork& uow) {
    T record;
    record.name = name;
    record.owner_id = owner.user_id;
    record.team_id = team;
    if constexpr (std::is_same_v<T, Company>)
      return stores(db).companies().create(uow, record);
    else
      return stores(db).tags().create(uow, record);
  });
}

}  // namespace banyan::test
