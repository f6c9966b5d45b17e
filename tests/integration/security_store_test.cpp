// Custom roles, role assignments, team memberships and API keys, kept in the database.
#include <algorithm>

#include "security/api_key_store.hpp"
#include "security/directory.hpp"
#include "security/role_store.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using security::Action;
using security::Scope;

class SecurityStoreTest : public StoreTest {
 protected:
  Id user(const std::string& email, bool active = true) {
    return db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = email;
      u.name = email.substr(0, email.find('@'));
      u.active = active;
      return stores(db()).users().create(uow, u).id;
    });
  }
  Id team(const std::string& name) {
    return db().transact([&](store::UnitOfWork& uow) {
      return stores(db()).teams().create(uow, named<Team>(name)).id;
    });
  }
  static security::Role auditor() {
    return {"auditor", "Exports deals", {{ObjectType::kDeal, Action::kExport, Scope::kAll}}, false};
  }
  std::string count(const std::string& table) {
    return scratch().raw("SELECT COUNT(*) FROM " + table);
  }
};
BANYAN_ON_BOTH_BACKENDS(SecurityStoreTest);

TEST_P(SecurityStoreTest, CustomRolesAreStoredListedChangedAndRemoved) {
  const security::RoleStore roles;
  db().transact(
      [&](store::UnitOfWork& uow) { EXPECT_EQ(roles.create(uow, auditor()), auditor()); });
  auto again = scratch().open();
  again->read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(roles.get(uow, "auditor"), auditor()) << "kept across opens";
    const auto all = roles.list(uow);
    ASSERT_EQ(all.size(), security::built_in_roles().size() + 1);
    EXPECT_EQ(all.back().name, "auditor");
    EXPECT_TRUE(all.front().built_in);
    EXPECT_EQ(roles.policy(uow).scope(
                  security::Principal{security::Principal::Kind::kUser, 1, "a", {"auditor"}, {}},
                  Action::kExport, ObjectType::kDeal),
              Scope::kAll);
  });
  auto changed = auditor();
  changed.description = "Reads deals of their teams";
  changed.grants = {{ObjectType::kDeal, Action::kRead, Scope::kTeam}};
  db().transact([&](store::UnitOfWork& uow) { EXPECT_EQ(roles.update(uow, changed), changed); });
  db().transact([&](store::UnitOfWork& uow) { roles.remove(uow, "auditor"); });
  db().read([&](store::UnitOfWork& uow) { EXPECT_THROW(roles.get(uow, "auditor"), NotFound); });
}

TEST_P(SecurityStoreTest, BuiltInRolesCannotChangeAndNamesAreUnique) {
  const security::RoleStore roles;
  auto admin = *security::find_built_in_role("admin");
  admin.grants.clear();
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_THROW(roles.update(uow, admin), PermissionDenied);
    EXPECT_THROW(roles.remove(uow, "admin"), PermissionDenied);
    EXPECT_THROW(roles.create(uow, admin), Conflict);
    roles.create(uow, auditor());
    EXPECT_THROW(roles.create(uow, auditor()), Conflict);
    EXPECT_THROW(roles.update(uow, security::Role{"nobody", "", {}, false}), NotFound);
    EXPECT_THROW(roles.remove(uow, "nobody"), NotFound);
  });
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(roles.get(uow, "admin"), security::built_in_roles().front());
  });
}

TEST_P(SecurityStoreTest, ABadRoleIsRefusedNamingTheFieldAndStoresNothing) {
  const security::RoleStore roles;
  auto bad_name = auditor();
  bad_name.name = "Robert'); DROP TABLE security_roles;--";
  auto bad_grant = auditor();
  bad_grant.grants.push_back(bad_grant.grants.front());
  for (const auto& role : {bad_name, bad_grant}) {
    try {
      db().transact([&](store::UnitOfWork& uow) { roles.create(uow, role); });
      FAIL() << "stored " << role.name;
    } catch (const ValidationError& e) {
      EXPECT_TRUE(e.field() == "name" || e.field() == "grants") << e.field();
    }
  }
  EXPECT_EQ(count("security_roles"), "0");
}

TEST_P(SecurityStoreTest, AHeldRoleCannotBeRemovedUntilRevoked) {
  const security::RoleStore roles;
  const security::Directory directory;
  const Id ann = user("ann@example.com");
  db().transact([&](store::UnitOfWork& uow) {
    roles.create(uow, auditor());
    directory.assign_role(uow, ann, "auditor");
  });
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) { roles.remove(uow, "auditor"); }),
               Conflict);
  db().transact([&](store::UnitOfWork& uow) {
    directory.revoke_role(uow, ann, "auditor");
    roles.remove(uow, "auditor");
  });
  EXPECT_EQ(count("security_roles"), "0");
}

TEST_P(SecurityStoreTest, APrincipalCarriesTheUsersRolesAndTeamsAsTheyAreNow) {
  const security::Directory directory;
  const Id ann = user("ann@example.com");
  const Id east = team("East"), west = team("West");
  db().transact([&](store::UnitOfWork& uow) {
    directory.assign_role(uow, ann, "sales_rep");
    directory.assign_role(uow, ann, "sales_rep");  // idempotent
    directory.assign_role(uow, ann, "read_only");
    directory.add_member(uow, west, ann);
    directory.add_member(uow, east, ann);
    directory.add_member(uow, east, ann);
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto p = directory.principal(uow, ann);
    EXPECT_EQ(p.user_id, ann);
    EXPECT_EQ(p.name, "ann@example.com");
    EXPECT_EQ(p.roles, (std::vector<std::string>{"read_only", "sales_rep"}));
    EXPECT_EQ(p.team_ids, (std::vector<Id>{std::min(east, west), std::max(east, west)}));
    EXPECT_EQ(directory.members_of(uow, east), std::vector<Id>{ann});
  });
  db().transact([&](store::UnitOfWork& uow) {
    directory.revoke_role(uow, ann, "read_only");
    directory.remove_member(uow, west, ann);
    directory.remove_member(uow, west, ann);  // idempotent
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto p = directory.principal(uow, ann);
    EXPECT_EQ(p.roles, std::vector<std::string>{"sales_rep"});
    EXPECT_EQ(p.team_ids, std::vector<Id>{east});
  });
}

TEST_P(SecurityStoreTest, UnknownUsersTeamsAndRolesAreRefusedAndDeactivatedUsersHaveNoPrincipal) {
  const security::Directory directory;
  const Id ann = user("ann@example.com");
  const Id gone = user("gone@example.com", false);
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_THROW(directory.assign_role(uow, 999999, "admin"), NotFound);
    try {
      directory.assign_role(uow, ann, "emperor");
      FAIL() << "assigned a role that does not exist";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "role");
    }
    EXPECT_THROW(directory.add_member(uow, 999999, ann), NotFound);
    EXPECT_THROW(directory.principal(uow, 999999), NotFound);
    EXPECT_THROW(directory.principal(uow, gone), PermissionDenied);
  });
  EXPECT_EQ(count("security_user_roles"), "0");
  EXPECT_EQ(count("security_team_members"), "0");
}

TEST_P(SecurityStoreTest, DeletingAUserTakesItsRolesMembershipsAndKeysWithIt) {
  const security::Directory directory;
  const Id ann = user("ann@example.com");
  const Id east = team("East");
  db().transact([&](store::UnitOfWork& uow) {
    directory.assign_role(uow, ann, "manager");
    directory.add_member(uow, east, ann);
    EXPECT_FALSE(security::ApiKeyStore().create(uow, ann, "ci").secret.empty());
    directory.link_identity(uow, ann, {"https://id.example.com", "ann"});
  });
  db().transact([&](store::UnitOfWork& uow) { stores(db()).users().remove(uow, ann); });
  EXPECT_EQ(count("security_user_roles"), "0");
  EXPECT_EQ(count("security_team_members"), "0");
  EXPECT_EQ(count("security_api_keys"), "0");
  EXPECT_EQ(count("security_identities"), "0");
}

TEST_P(SecurityStoreTest, AnIssuersSubjectIsLinkedToOneUserAtMost) {
  const security::Directory directory;
  const Id ann = user("ann@example.com");
  const Id bob = user("bob@example.com");
  const security::Identity sync{"https://id.example.com", "sync-client"};
  const security::Identity elsewhere{"https://other.example.com", "sync-client"};
  db().transact([&](store::UnitOfWork& uow) {
    directory.link_identity(uow, ann, sync);
    directory.link_identity(uow, ann, sync);       // idempotent
    directory.link_identity(uow, bob, elsewhere);  // the same subject at another issuer
  });
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(directory.user_of(uow, sync), ann);
    EXPECT_EQ(directory.user_of(uow, elsewhere), bob);
    EXPECT_EQ(directory.user_of(uow, {"https://id.example.com", "SYNC-CLIENT"}), std::nullopt)
        << "exact match";
    EXPECT_EQ(directory.identities_of(uow, ann), std::vector<security::Identity>{sync});
  });
  // Taken by ann: bob cannot have it, and nothing changes.
  try {
    db().transact([&](store::UnitOfWork& uow) { directory.link_identity(uow, bob, sync); });
    ADD_FAILURE() << "linked one identity to two users";
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "subject");
  }
  for (const auto& bad :
       {security::Identity{"", "x"}, security::Identity{"https://id.example.com", ""},
        security::Identity{"https://id.example.com", std::string(192, 's')}}) {
    EXPECT_THROW(
        db().transact([&](store::UnitOfWork& uow) { directory.link_identity(uow, bob, bad); }),
        ValidationError);
  }
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    directory.link_identity(uow, 999999, {"i", "s"});
  }),
               NotFound);
  EXPECT_EQ(count("security_identities"), "2");
  db().transact([&](store::UnitOfWork& uow) {
    directory.unlink_identity(uow, sync);
    directory.unlink_identity(uow, sync);  // idempotent
  });
  db().read([&](store::UnitOfWork& uow) { EXPECT_EQ(directory.user_of(uow, sync), std::nullopt); });
}

TEST_P(SecurityStoreTest, AnApiKeyAuthenticatesOnlyWithItsWholeSecretAndIsStoredOnlyAsAHash) {
  const security::ApiKeyStore keys;
  const Id bot = user("bot@example.com");
  const auto issued = db().transact(
      [&](store::UnitOfWork& uow) { return keys.create(uow, bot, "nightly import"); });
  ASSERT_EQ(issued.secret.size(), 60u);
  EXPECT_TRUE(issued.secret.starts_with(issued.key.prefix + "_"));
  EXPECT_EQ(issued.key.user_id, bot);
  EXPECT_EQ(issued.key.name, "nightly import");
  EXPECT_FALSE(issued.key.last_used_at);
  EXPECT_EQ(count("security_api_keys WHERE secret_hash LIKE '%" + issued.secret.substr(17) + "%'"),
            "0");
  EXPECT_EQ(scratch().raw("SELECT LENGTH(secret_hash) FROM security_api_keys"), "64");

  db().read([&](store::UnitOfWork& uow) {
    const auto found = keys.authenticate(uow, issued.secret);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, issued.key.id);
    std::string wrong = issued.secret;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(keys.authenticate(uow, wrong));
    EXPECT_FALSE(keys.authenticate(uow, issued.secret.substr(0, 59)));
    EXPECT_FALSE(keys.authenticate(uow, ""));
    EXPECT_FALSE(keys.authenticate(uow, issued.key.prefix));
    EXPECT_FALSE(keys.authenticate(uow, std::string(60, 'x')));
    EXPECT_FALSE(keys.authenticate(uow, "bnk_' OR '1'='1' --_" + std::string(40, 'a')));
  });
}

TEST_P(SecurityStoreTest, ARevokedKeyNoLongerAuthenticatesAndRevokingTwiceKeepsTheFirstTime) {
  const security::ApiKeyStore keys;
  const Id bot = user("bot@example.com");
  const auto issued =
      db().transact([&](store::UnitOfWork& uow) { return keys.create(uow, bot, "ci"); });
  const auto revoked =
      db().transact([&](store::UnitOfWork& uow) { return keys.revoke(uow, issued.key.id); });
  ASSERT_TRUE(revoked.revoked_at);
  const auto again =
      db().transact([&](store::UnitOfWork& uow) { return keys.revoke(uow, issued.key.id); });
  EXPECT_EQ(again.revoked_at, revoked.revoked_at);
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_FALSE(keys.authenticate(uow, issued.secret));
    EXPECT_THROW(keys.get(uow, 999999), NotFound);
  });
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) { keys.revoke(uow, 999999); }), NotFound);
}

TEST_P(SecurityStoreTest, KeysNoteTheirLastUseToTheMinuteAndListNewestFirst) {
  const security::ApiKeyStore keys;
  const Id bot = user("bot@example.com"), other = user("other@example.com");
  const auto first =
      db().transact([&](store::UnitOfWork& uow) { return keys.create(uow, bot, "first"); });
  const auto second =
      db().transact([&](store::UnitOfWork& uow) { return keys.create(uow, bot, "second"); });
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_EQ(keys.create(uow, other, "theirs").key.user_id, other);
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto mine = keys.list(uow, bot);
    ASSERT_EQ(mine.size(), 2u);
    EXPECT_EQ(mine[0].id, second.key.id);
    EXPECT_EQ(mine[1].id, first.key.id);
    EXPECT_EQ(keys.list(uow).size(), 3u);
  });
  EXPECT_TRUE(security::ApiKeyStore::stale(first.key, first.key.created_at));
  db().transact([&](store::UnitOfWork& uow) { keys.touch(uow, first.key); });
  const auto used = db().read([&](store::UnitOfWork& uow) { return keys.get(uow, first.key.id); });
  ASSERT_TRUE(used.last_used_at);
  EXPECT_FALSE(security::ApiKeyStore::stale(used, *used.last_used_at + std::chrono::seconds(59)));
  EXPECT_TRUE(security::ApiKeyStore::stale(used, *used.last_used_at + std::chrono::seconds(60)));
  db().transact(
      [&](store::UnitOfWork& uow) { keys.touch(uow, used); });  // within the minute: no write
  EXPECT_EQ(
      db().read([&](store::UnitOfWork& uow) { return keys.get(uow, first.key.id); }).last_used_at,
      used.last_used_at);
}

TEST_P(SecurityStoreTest, KeyNamesAndOwnersAreChecked) {
  const security::ApiKeyStore keys;
  const Id bot = user("bot@example.com");
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_THROW(keys.create(uow, bot, ""), ValidationError);
    EXPECT_THROW(keys.create(uow, bot, std::string(101, 'k')), ValidationError);
    EXPECT_THROW(keys.create(uow, bot, "\xff\xfe"), ValidationError);
    EXPECT_THROW(keys.create(uow, 999999, "ci"), NotFound);
  });
  EXPECT_EQ(count("security_api_keys"), "0");
}

}  // namespace
}  // namespace banyan::test
