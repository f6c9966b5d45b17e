// The administration as a service of the Engine: only administrators (and the system
// principal) get it, role changes reach the Engine's policy when they commit and not
// before, and what it writes is in the audit trail under who did it.
#include "security/api_key_store.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using security::Action;
using security::Principal;
using security::Scope;

class AdminServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    EngineOptions options;
    options.policy_ttl = std::chrono::hours(1);  // only a change may refresh it
    engine_ = std::make_unique<Engine>(db(), options);
    administrator = person("admin@example.com", {"admin"});
    rep = person("rep@example.com", {"sales_rep"});
  }
  void TearDown() override {
    engine_.reset();
    StoreTest::TearDown();
  }

  static security::Role auditor_role() {
    security::Role role;
    role.name = "auditor";
    role.description = "Reads deals everywhere";
    role.grants = {{ObjectType::kDeal, Action::kRead, Scope::kAll}};
    return role;
  }
  bool policy_knows(const std::string& role) {
    const auto& roles = engine().policy()->roles();
    return std::any_of(roles.begin(), roles.end(),
                       [&](const security::Role& r) { return r.name == role; });
  }
  Engine& engine() { return *engine_; }

  std::unique_ptr<Engine> engine_;
  Principal administrator, rep;
};

TEST_P(AdminServiceTest, APrincipalWhoDoesNotAdministerIsRefusedTheServiceItself) {
  EXPECT_THROW(engine().admin(rep), PermissionDenied);
  EXPECT_THROW(engine().admin(Principal{}), PermissionDenied);
  EXPECT_NO_THROW(engine().admin(administrator));
  EXPECT_NO_THROW(engine().admin(Principal::system()));
}

TEST_P(AdminServiceTest, ARoleChangeReachesThePolicyWhenItCommitsAndNotBefore) {
  const auto admin = engine().admin(administrator);
  ASSERT_FALSE(policy_knows("auditor"));
  {
    auto uow = db().begin(administrator.user_id);
    admin.create_role(uow, auditor_role());
    EXPECT_FALSE(policy_knows("auditor")) << "seen before the commit";
    uow.rollback();
  }
  EXPECT_FALSE(policy_knows("auditor")) << "a rolled-back role reached the policy";

  db().transact([&](store::UnitOfWork& uow) { admin.create_role(uow, auditor_role()); },
                administrator.user_id);
  EXPECT_TRUE(policy_knows("auditor"));

  db().transact([&](store::UnitOfWork& uow) { admin.remove_role(uow, "auditor"); },
                administrator.user_id);
  EXPECT_FALSE(policy_knows("auditor"));
}

TEST_P(AdminServiceTest, AUsersRolesAndKeysOfNoSuchUserAreNotFound) {
  const auto admin = engine().admin(administrator);
  const Id missing = 999999;
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_THROW(admin.roles_of(uow, missing), NotFound);
    EXPECT_THROW(admin.assign_role(uow, missing, "sales_rep"), NotFound);
    EXPECT_THROW(admin.revoke_role(uow, missing, "sales_rep"), NotFound);
    EXPECT_THROW(admin.api_keys(uow, missing), NotFound);
    EXPECT_THROW(static_cast<void>(admin.issue_api_key(uow, missing, "ci")), NotFound);
    EXPECT_THROW(admin.identities_of(uow, missing), NotFound);
    EXPECT_THROW(admin.link_identity(uow, missing, {"https://idp.example.com", "s1"}), NotFound);
  });
}

TEST_P(AdminServiceTest, AnIssuedKeyActsAsItsUserUntilRevoked) {
  const auto admin = engine().admin(administrator);
  const Id user = *rep.user_id;
  const auto issued =
      db().transact([&](store::UnitOfWork& uow) { return admin.issue_api_key(uow, user, "ci"); });
  const security::ApiKeyStore keys;
  const auto found =
      db().read([&](store::UnitOfWork& uow) { return keys.authenticate(uow, issued.secret); });
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->user_id, user);
  db().transact([&](store::UnitOfWork& uow) { admin.revoke_api_key(uow, issued.key.id); });
  EXPECT_FALSE(
      db().read([&](store::UnitOfWork& uow) { return keys.authenticate(uow, issued.secret); }));
  const auto listed = db().read([&](store::UnitOfWork& uow) { return admin.api_keys(uow, user); });
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_TRUE(listed.front().revoked_at.has_value());
}

TEST_P(AdminServiceTest, WhatTheSystemAdministersIsTheSystemsInTheTrail) {
  const auto admin = engine().admin(Principal::system());
  const Id user = *rep.user_id;
  db().transact([&](store::UnitOfWork& uow) {
    uow.describe_actor({}, "cli");
    admin.assign_role(uow, user, "manager");
  });
  store::AuditQuery about_rep;
  about_rep.object = ObjectRef{ObjectType::kUser, user};
  const auto entries =
      db().read([&](store::UnitOfWork& uow) { return admin.audit_entries(uow, about_rep); });
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().action, "role_assigned");
  EXPECT_EQ(entries.back().actor, "system");
  EXPECT_FALSE(entries.back().actor_id.has_value());
  const auto verified =
      db().read([&](store::UnitOfWork& uow) { return admin.verify_audit_trail(uow); });
  EXPECT_TRUE(verified.intact) << verified.problem;
}

BANYAN_ON_BOTH_BACKENDS(AdminServiceTest);

}  // namespace
}  // namespace banyan::test
