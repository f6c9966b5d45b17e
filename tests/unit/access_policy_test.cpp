// Authorization decisions of the built-in and custom roles, without a database.
#include "banyan/security/access_policy.hpp"

#include <gtest/gtest.h>

#include <string>

#include "banyan/errors.hpp"

namespace banyan::security {
namespace {

using enum Action;

Principal user_with(std::vector<std::string> roles) {
  return Principal{Principal::Kind::kUser, Id{7}, "rep@example.com", std::move(roles), {100, 101}};
}

// Where a record stands relative to user 7 of teams 100 and 101.
const RecordScope kOwn{7, 100};
const RecordScope kTeammates{8, 100};
const RecordScope kOtherTeams{9, 200};
const RecordScope kOwnInAnotherTeam{7, 200};
const RecordScope kNobodys{std::nullopt, std::nullopt};

// "y" or "n" per situation: own, teammate's, another team's, own in another team, nobody's.
std::string reach(const AccessPolicy& policy, const Principal& who, Action action,
                  ObjectType type) {
  std::string out;
  for (const auto& r : {kOwn, kTeammates, kOtherTeams, kOwnInAnotherTeam, kNobodys})
    out += policy.allows(who, action, type, r) ? 'y' : 'n';
  return out;
}

TEST(AccessPolicy, AdminMayDoEverythingToEveryRecord) {
  const AccessPolicy policy;
  const auto admin = user_with({"admin"});
  for (ObjectType type :
       {ObjectType::kContact, ObjectType::kDeal, ObjectType::kUser, ObjectType::kTeam,
        ObjectType::kPipeline, ObjectType::kStage, ObjectType::kTag}) {
    for (Action action : kAllActions)
      EXPECT_EQ(reach(policy, admin, action, type), "yyyyy") << to_string(action);
  }
}

TEST(AccessPolicy, ManagerActsOnItsTeamsCrmRecordsAndOnlyReadsUsersTeamsAndPipelines) {
  const AccessPolicy policy;
  const auto manager = user_with({"manager"});
  for (Action action : {kRead, kCreate, kUpdate, kDelete, kExport, kReadSensitive})
    EXPECT_EQ(reach(policy, manager, action, ObjectType::kContact), "yynyn") << to_string(action);
  EXPECT_EQ(reach(policy, manager, kAdmin, ObjectType::kContact), "nnnnn");
  EXPECT_EQ(reach(policy, manager, kImport, ObjectType::kContact), "nnnnn") << "no backdating";
  EXPECT_EQ(reach(policy, manager, kRead, ObjectType::kUser), "yyyyy");
  EXPECT_EQ(reach(policy, manager, kUpdate, ObjectType::kUser), "nnnnn");
  EXPECT_EQ(reach(policy, manager, kAdmin, ObjectType::kUser), "nnnnn") << "no role changes";
  EXPECT_EQ(reach(policy, manager, kCreate, ObjectType::kPipeline), "nnnnn");
}

TEST(AccessPolicy, SalesRepReadsItsTeamsRecordsButChangesAndSeesSensitiveFieldsOfOnlyItsOwn) {
  const AccessPolicy policy;
  const auto rep = user_with({"sales_rep"});
  EXPECT_EQ(reach(policy, rep, kRead, ObjectType::kDeal), "yynyn");
  for (Action action : {kCreate, kUpdate, kDelete, kReadSensitive})
    EXPECT_EQ(reach(policy, rep, action, ObjectType::kDeal), "ynnyn") << to_string(action);
  EXPECT_EQ(reach(policy, rep, kExport, ObjectType::kDeal), "nnnnn");
  EXPECT_EQ(reach(policy, rep, kImport, ObjectType::kDeal), "nnnnn");
  EXPECT_EQ(reach(policy, rep, kAdmin, ObjectType::kUser), "nnnnn");
  EXPECT_EQ(reach(policy, rep, kUpdate, ObjectType::kTeam), "nnnnn") << "may not join another team";
}

TEST(AccessPolicy, ReadOnlyReadsEverythingAndChangesNothing) {
  const AccessPolicy policy;
  const auto reader = user_with({"read_only"});
  EXPECT_EQ(reach(policy, reader, kRead, ObjectType::kLead), "yyyyy");
  for (Action action : {kCreate, kUpdate, kDelete, kExport, kReadSensitive, kAdmin, kImport})
    EXPECT_EQ(reach(policy, reader, action, ObjectType::kLead), "nnnnn") << to_string(action);
}

TEST(AccessPolicy, IntegrationReadsWritesAndExportsButNeverDeletesOrAdministers) {
  const AccessPolicy policy;
  const auto service = user_with({"integration"});
  for (Action action : {kRead, kCreate, kUpdate, kExport, kReadSensitive, kImport})
    EXPECT_EQ(reach(policy, service, action, ObjectType::kCompany), "yyyyy") << to_string(action);
  EXPECT_EQ(reach(policy, service, kDelete, ObjectType::kCompany), "nnnnn");
  EXPECT_EQ(reach(policy, service, kAdmin, ObjectType::kCompany), "nnnnn");
  EXPECT_EQ(reach(policy, service, kCreate, ObjectType::kUser), "nnnnn");
}

TEST(AccessPolicy, DeniesByDefault) {
  const AccessPolicy policy;
  for (const auto& roles : std::vector<std::vector<std::string>>{{}, {"no_such_role"}}) {
    const auto nobody = user_with(roles);
    for (Action action : kAllActions)
      EXPECT_EQ(reach(policy, nobody, action, ObjectType::kContact), "nnnnn");
    EXPECT_THROW(policy.list_scope(nobody, kRead, ObjectType::kContact), PermissionDenied);
    EXPECT_THROW(policy.require(nobody, kRead, ObjectType::kContact, kOwn), PermissionDenied);
  }
  // Without a user id, "own" reaches nothing, even a record with no owner.
  Principal anonymous{Principal::Kind::kServiceAccount, std::nullopt, "anon", {"sales_rep"}, {}};
  EXPECT_EQ(reach(policy, anonymous, kUpdate, ObjectType::kContact), "nnnnn");
}

TEST(AccessPolicy, RolesAddUpToTheWidestScope) {
  const AccessPolicy policy;
  const auto both = user_with({"sales_rep", "read_only"});
  EXPECT_EQ(reach(policy, both, kRead, ObjectType::kContact), "yyyyy");
  EXPECT_EQ(reach(policy, both, kUpdate, ObjectType::kContact), "ynnyn");
}

TEST(AccessPolicy, TheSystemPrincipalMayDoAnything) {
  const AccessPolicy policy;
  for (Action action : kAllActions)
    EXPECT_EQ(reach(policy, Principal::system(), action, ObjectType::kUser), "yyyyy");
}

TEST(AccessPolicy, ListScopesNameTheOwnerAndTeamsAListMayReturn) {
  const AccessPolicy policy;
  EXPECT_EQ(policy.list_scope(user_with({"read_only"}), kRead, ObjectType::kContact),
            (ListScope{true, {}, {}}));
  EXPECT_EQ(policy.list_scope(user_with({"sales_rep"}), kRead, ObjectType::kContact),
            (ListScope{false, Id{7}, {100, 101}}));
  EXPECT_EQ(policy.list_scope(user_with({"sales_rep"}), kDelete, ObjectType::kContact),
            (ListScope{false, Id{7}, {}}));
}

TEST(AccessPolicy, ADeniedRequireNamesThePrincipalTheActionAndTheType) {
  const AccessPolicy policy;
  try {
    policy.require(user_with({"sales_rep"}), kDelete, ObjectType::kContact, kTeammates);
    FAIL() << "a sales rep deleted a teammate's contact";
  } catch (const PermissionDenied& e) {
    EXPECT_EQ(std::string(e.what()), "rep@example.com may not delete this contact");
  }
}

TEST(AccessPolicy, CustomRolesGrantExactlyWhatTheyList) {
  Role auditor{
      "auditor",
      "Exports deals",
      {{ObjectType::kDeal, kExport, Scope::kAll}, {ObjectType::kDeal, kRead, Scope::kTeam}}};
  const AccessPolicy policy({auditor});
  const auto who = user_with({"auditor"});
  EXPECT_EQ(reach(policy, who, kExport, ObjectType::kDeal), "yyyyy");
  EXPECT_EQ(reach(policy, who, kRead, ObjectType::kDeal), "yynyn");
  EXPECT_EQ(reach(policy, who, kRead, ObjectType::kContact), "nnnnn");
  ASSERT_NE(policy.role("auditor"), nullptr);
  EXPECT_FALSE(policy.role("auditor")->built_in);
  EXPECT_TRUE(policy.role("admin")->built_in);
}

TEST(AccessPolicy, RefusesBadCustomRolesNamingTheField) {
  auto refused = [](Role role) {
    try {
      AccessPolicy policy({std::move(role)});
    } catch (const ValidationError& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(refused(Role{"admin", "", {}}), "name") << "a built-in name";
  EXPECT_EQ(refused(Role{"", "", {}}), "name");
  EXPECT_EQ(refused(Role{"Has Space", "", {}}), "name");
  EXPECT_EQ(refused(Role{std::string(65, 'a'), "", {}}), "name");
  EXPECT_EQ(refused(Role{"x", "", {{ObjectType::kDeal, kRead, Scope::kNone}}}), "grants");
  EXPECT_EQ(refused(Role{"x",
                         "",
                         {{ObjectType::kDeal, kRead, Scope::kOwn},
                          {ObjectType::kDeal, kRead, Scope::kAll}}}),
            "grants");
  EXPECT_THROW(AccessPolicy({Role{"twin", "", {}}, Role{"twin", "", {}}}), ValidationError);
}

TEST(AccessPolicy, ActionAndScopeNamesRoundTripAndUnknownNamesAreValidationErrors) {
  for (Action action : kAllActions) EXPECT_EQ(parse_action(to_string(action)), action);
  for (Scope scope : {Scope::kNone, Scope::kOwn, Scope::kTeam, Scope::kAll})
    EXPECT_EQ(parse_scope(to_string(scope)), scope);
  EXPECT_THROW(parse_action("obliterate"), ValidationError);
  EXPECT_THROW(parse_scope("galaxy"), ValidationError);
}

TEST(AccessPolicy, EveryEmailAndPhoneOfContactsAndLeadsIsSensitive) {
  auto names = [](ObjectType type) {
    const auto fields = sensitive_fields(type);
    return std::vector<std::string>(fields.begin(), fields.end());
  };
  const std::vector<std::string> personal{"email", "phone", "emails", "phones"};
  EXPECT_EQ(names(ObjectType::kContact), personal);
  EXPECT_EQ(names(ObjectType::kLead), personal);
  EXPECT_TRUE(sensitive_fields(ObjectType::kCompany).empty());
}

}  // namespace
}  // namespace banyan::security
