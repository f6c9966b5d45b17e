// banyan-server's access control over real HTTP, on both backends: credentials on every
// route but the public three, the built-in roles route by route (another team's records
// included), escalation attempts and hostile input. Every refusal changes nothing.
#include <cctype>
#include <thread>

#include "security/api_key_store.hpp"
#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

class ServerSecurityTest : public TeamsServerTest {
 protected:
  // These tests send hundreds of bad credentials from one address; the throttle that
  // would refuse them with 429 has its own tests (server_limits_test.cpp).
  std::vector<std::string> server_args() const override { return {"--rate-auth-failures", "off"}; }

  void SetUp() override {
    TeamsServerTest::SetUp();
    if (HasFatalFailure()) return;
    keys["manager"] = key_for("manager@example.com", {"manager"}, {east});
    keys["sales_rep"] = key_for("rep@example.com", {"sales_rep"}, {east});
    keys["read_only"] = key_for("reader@example.com", {"read_only"});
    keys["integration"] = key_for("bot@example.com", {"integration"});
    keys["none"] = key_for("nobody@example.com", {});
    rep_id = user_id("rep@example.com");
    const Id teammate = db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = "teammate@example.com";
      u.name = "Teammate";
      return stores(db()).users().create(uow, u).id;
    });
    own = contact_in(rep_id, east, "Own");
    teammates = contact_in(teammate, east, "Teammates");
    others = contact_in(teammate, west, "Others");
    east_company = company_in(teammate, east, "East Co");
    west_company = company_in(teammate, west, "West Co");
  }

  Id company_in(Id owner, Id team, const std::string& name) {
    return db().transact([&](store::UnitOfWork& uow) {
      Company c;
      c.name = name;
      c.owner_id = owner;
      c.team_id = team;
      return stores(db()).companies().create(uow, c).id;
    });
  }

  Id contact_in(Id owner, Id team, const std::string& last_name) {
    return db().transact([&](store::UnitOfWork& uow) {
      Contact c = contact("Ada", last_name);
      c.email = last_name + "@example.com";
      c.owner_id = owner;
      c.team_id = team;
      return stores(db()).contacts().create(uow, c).id;
    });
  }
  // Every row of the tables a refused request could have touched, as text.
  std::string snapshot() {
    std::string out;
    for (const char* table :
         {"contacts", "users", "teams", "custom_field_definitions", "security_user_roles",
          "security_api_keys", "security_roles", "contact_companies", "tag_links"})
      out += scratch().raw(std::string("SELECT COUNT(*) FROM ") + table) + "/";
    const bool sqlite = GetParam() == Backend::kSqlite;
    return out +
           scratch().raw(
               sqlite ? "SELECT GROUP_CONCAT(v) FROM (SELECT last_name || ':' || version || ':' || "
                        "COALESCE(email, '') AS v FROM contacts ORDER BY id)"
                      : "SELECT GROUP_CONCAT(CONCAT(last_name, ':', version, ':', COALESCE(email, "
                        "'')) "
                        "ORDER BY id) FROM contacts");
  }
  std::string contact_path(Id id) { return "/v1/contacts/" + std::to_string(id); }

  Id rep_id = 0;
  Id own = 0, teammates = 0, others = 0;
  Id east_company = 0, west_company = 0;
};
BANYAN_ON_BOTH_BACKENDS(ServerSecurityTest);

TEST_P(ServerSecurityTest, NoRouteButThePublicThreeAnswersWithoutValidCredentials) {
  std::string revoked_key = key_for("revoked@example.com", {"admin"});
  std::string deactivated_key = key_for("gone@example.com", {"admin"});
  db().transact([&](store::UnitOfWork& uow) {
    security::ApiKeyStore keystore;
    for (const auto& k : keystore.list(uow, user_id("revoked@example.com")))
      keystore.revoke(uow, k.id);
    User gone = stores(db()).users().get(uow, user_id("gone@example.com"));
    gone.active = false;
    stores(db()).users().update(uow, gone);
  });
  const std::string before = snapshot();
  std::string forged = admin_key_;
  forged[40] = forged[40] == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> credentials = {
      {"", "none"},
      {"Bearer " + forged, "forged"},
      {"Bearer " + revoked_key, "revoked"},
      {"Bearer " + deactivated_key, "deactivated user"},
      {"Basic YWRtaW46YWRtaW4=", "another scheme"},
      {"Bearer", "empty"},
      {"Bearer " + std::string(100000 / 10, 'a'), "oversized"},
      {"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "an unsigned JWT"},
      {"Bearer ' OR '1'='1", "SQL"},
  };
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/v1/contacts"},
      {"POST", "/v1/contacts"},
      {"GET", contact_path(own)},
      {"PATCH", contact_path(own)},
      {"DELETE", contact_path(own)},
      {"POST", "/v1/contacts/batch"},
      {"GET", "/v1/users"},
      {"POST", "/v1/users"},
      {"GET", "/v1/custom-fields"},
      {"GET", "/v1/admin/dead-letters"},
      {"GET", "/v1/admin/sagas"},
      {"GET", "/metrics"},
      {"POST", "/v1/leads/1/convert"},
      {"GET", "/v1/no-such-route"},
      {"DELETE", "/v1/teams/1"},
  };
  // The revocation and the deactivation may take the credential cache's lifetime.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (
      std::chrono::steady_clock::now() < deadline &&
      (call("GET", "/v1/contacts", nullptr, {{"Authorization", "Bearer " + revoked_key}}).status !=
           401 ||
       call("GET", "/v1/contacts", nullptr, {{"Authorization", "Bearer " + deactivated_key}})
               .status != 401))
    std::this_thread::sleep_for(250ms);
  for (const auto& [credential, what] : credentials) {
    for (const auto& [method, target] : routes) {
      const auto r = call(method, target,
                          method == "GET" || method == "DELETE" ? json(nullptr) : json::object(),
                          {{"Authorization", credential}});
      expect_problem(r, 401,
                     credential.empty() ? "unauthenticated"
                     : r.header("www-authenticate").find("invalid_request") != std::string::npos
                         ? "invalid_request"
                         : "invalid_token");
      EXPECT_EQ(r.status, 401) << method << " " << target << " with " << what;
      EXPECT_EQ(r.header("www-authenticate").rfind("Bearer realm=\"banyan\"", 0), 0u) << what;
    }
  }
  for (const char* target : {"/healthz", "/readyz", "/openapi.json"})
    EXPECT_EQ(call("GET", target, nullptr, {{"Authorization", ""}}).status, 200) << target;
  EXPECT_EQ(snapshot(), before);
}

// The route-by-route matrix of the built-in roles. The sales rep and the manager are in
// team East; "own" is the rep's contact, "teammate's" another East member's, "other
// team's" a West contact.
TEST_P(ServerSecurityTest, EachBuiltInRoleGetsExactlyTheStatusItsGrantsGive) {
  const auto admin_only = [](int status) {
    return std::map<std::string, int>{{"admin", status},  {"manager", 403},     {"sales_rep", 403},
                                      {"read_only", 403}, {"integration", 403}, {"none", 403}};
  };
  struct Case {
    std::string method, target;
    json body;
    std::map<std::string, int> status;  // by role
  };
  const std::string own_path = contact_path(own), mate_path = contact_path(teammates),
                    other_path = contact_path(others);
  const json new_contact = {{"first_name", "New"}, {"last_name", "Contact"}};
  json migrated = new_contact;  // with the history a legacy system gave it
  migrated["created_at"] = "2019-05-01T09:30:00Z";
  json linked_by_key = new_contact;  // to another team's company, by its external id
  linked_by_key["companies"] = {{{"external_id", "west-co"}}};
  ASSERT_EQ(
      call("PATCH", "/v1/companies/" + std::to_string(west_company), {{"external_id", "west-co"}})
          .status,
      200);
  const std::vector<Case> cases = {
      {"GET",
       "/v1/contacts",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 403}}},
      {"GET",
       own_path,
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      {"GET",
       other_path,
       nullptr,
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      {"PATCH",
       mate_path,
       {{"title", "Changed"}},
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"PATCH",
       other_path,
       {{"title", "Changed"}},
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"POST",
       "/v1/contacts",
       new_contact,
       {{"admin", 201},
        {"manager", 201},
        {"sales_rep", 201},
        {"read_only", 403},
        {"integration", 201},
        {"none", 403}}},
      // Search answers every role that reads something, each with what it may see.
      {"GET",
       "/v1/search?q=ada",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 403}}},
      // So does the event feed (each sees the events of what it may read).
      {"GET",
       "/v1/events",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 403}}},
      // A batch of items each on its own is refused whole where no item could be made.
      {"POST",
       "/v1/contacts/batch",
       {{"atomic", false}, {"items", {new_contact}}},
       {{"admin", 207},
        {"manager", 207},
        {"sales_rep", 207},
        {"read_only", 403},
        {"integration", 207},
        {"none", 403}}},
      // Only those who may import keep a legacy created_at.
      {"POST",
       "/v1/contacts",
       migrated,
       {{"admin", 201},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 201},
        {"none", 403}}},
      // A record named by external id is found only among those the caller may read.
      {"POST",
       "/v1/contacts",
       linked_by_key,
       {{"admin", 201},
        {"manager", 422},
        {"sales_rep", 422},
        {"read_only", 403},
        {"integration", 201},
        {"none", 403}}},
      {"POST",
       mate_path + "/archive",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 404}}},
      {"GET",
       "/v1/users",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 403}}},
      {"POST",
       "/v1/users",
       {{"email", "x@example.com"}, {"name", "X"}},
       {{"admin", 201},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 403}}},
      {"POST",
       "/v1/teams",
       {{"name", "North"}},
       {{"admin", 201},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 403}}},
      {"POST",
       "/v1/custom-fields",
       {{"object_type", "contact"}, {"name", "tier"}, {"type", "text"}},
       {{"admin", 201},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 403}}},
      {"GET",
       "/v1/admin/dead-letters",
       nullptr,
       {{"admin", 200},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 403}}},
      {"GET",
       "/v1/admin/sagas",
       nullptr,
       {{"admin", 200},
        {"manager", 403},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 403},
        {"none", 403}}},
      {"GET", "/v1/admin/audit", nullptr, admin_only(200)},
      {"GET", "/v1/roles", nullptr, admin_only(200)},
      {"POST", "/v1/roles", {{"name", "exporter"}}, admin_only(201)},
      // Escalation: only an administrator gives roles or keys, to anyone, itself included.
      {"PUT", "/v1/users/" + std::to_string(rep_id) + "/roles/admin", nullptr, admin_only(204)},
      {"POST",
       "/v1/users/" + std::to_string(rep_id) + "/api-keys",
       {{"name", "mine"}},
       admin_only(201)},
      {"GET",
       own_path + "/history",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      {"GET",
       other_path + "/history",
       nullptr,
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      // Links: both ends readable, the owning side (the contact) writable.
      {"GET",
       own_path + "/companies",
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      {"PUT",
       own_path + "/companies/" + std::to_string(east_company),
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 200},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"PUT",
       mate_path + "/companies/" + std::to_string(east_company),
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"PUT",
       own_path + "/companies/" + std::to_string(west_company),
       nullptr,
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"DELETE",
       mate_path + "/companies/" + std::to_string(east_company),
       nullptr,
       {{"admin", 200},
        {"manager", 200},
        {"sales_rep", 403},
        {"read_only", 403},
        {"integration", 200},
        {"none", 404}}},
      {"GET",
       other_path + "/tags",
       nullptr,
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
      {"GET",
       "/v1/companies/" + std::to_string(west_company) + "/contacts",
       nullptr,
       {{"admin", 200},
        {"manager", 404},
        {"sales_rep", 404},
        {"read_only", 200},
        {"integration", 200},
        {"none", 404}}},
  };
  // (A manager's new contact with no team named is its own, which its team grant reaches.)
  for (const auto& role : {"none", "read_only", "sales_rep", "manager", "integration", "admin"}) {
    for (const auto& c : cases) {
      // Each write case runs against fresh state for its role: a refused one changes
      // nothing, an allowed one is undone by the snapshot comparison below only for
      // refusals, so check refusals first.
      const std::string before = snapshot();
      const auto r = as(role, c.method, c.target, c.body);
      const int expected = c.status.at(role);
      EXPECT_EQ(r.status, expected) << role << " " << c.method << " " << c.target << ": " << r.body;
      if (expected >= 400) {
        EXPECT_EQ(snapshot(), before) << role << " " << c.method << " " << c.target;
      }
      if (c.method == "POST" && r.status == 201) {
        // Take the created record away again so later roles meet the same state.
        const std::string location = r.header("location");
        if (!location.empty()) as("admin", "DELETE", location);
      }
      if (c.target.ends_with("/archive") && r.status == 200)
        as("admin", "POST", mate_path + "/restore");
    }
  }
}

TEST_P(ServerSecurityTest, ListsHoldOnlyWhatTheRoleMayReadAndMaskWhatItMayNotSee) {
  auto names = [&](const std::string& role) {
    std::vector<std::string> out;
    const auto r = as(role, "GET", "/v1/contacts?sort=last_name");
    EXPECT_EQ(r.status, 200) << role << ": " << r.body;
    const json page = parsed(r);
    for (const auto& c : page["items"])
      out.push_back(c["last_name"].get<std::string>() + (c["email"].is_null() ? "" : "+email"));
    return out;
  };
  EXPECT_EQ(names("sales_rep"), (std::vector<std::string>{"Own+email", "Teammates"}));
  EXPECT_EQ(names("manager"), (std::vector<std::string>{"Own+email", "Teammates+email"}));
  EXPECT_EQ(names("read_only"), (std::vector<std::string>{"Others", "Own", "Teammates"}));
  EXPECT_EQ(names("integration"),
            (std::vector<std::string>{"Others+email", "Own+email", "Teammates+email"}));
  // Asking for the masked field by name does not unmask it.
  EXPECT_TRUE(
      parsed(as("read_only", "GET", contact_path(own) + "?fields=email"))["email"].is_null());
}

TEST_P(ServerSecurityTest, LinkedRecordsTheCallerCannotReadLookMissingAndAreLeftOutOfLists) {
  const std::string own_links = contact_path(own) + "/companies/";
  for (Id company : {east_company, west_company})
    ASSERT_EQ(call("PUT", own_links + std::to_string(company)).status, 200);
  const json listed = parsed(as("sales_rep", "GET", contact_path(own) + "/companies"))["items"];
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["company_id"], east_company);
  EXPECT_EQ(parsed(as("integration", "GET", contact_path(own) + "/companies"))["items"].size(), 2u);

  // Another team's company answers as one that does not exist, word for word.
  const std::string before = snapshot();
  const Id missing = west_company + 1000;
  const auto hidden = as("sales_rep", "DELETE", own_links + std::to_string(west_company));
  const auto absent = as("sales_rep", "DELETE", own_links + std::to_string(missing));
  expect_problem(hidden, 404, "not_found");
  expect_problem(absent, 404, "not_found");
  std::string hidden_detail = parsed(hidden)["detail"];
  hidden_detail.replace(hidden_detail.find(std::to_string(west_company)),
                        std::to_string(west_company).size(), std::to_string(missing));
  EXPECT_EQ(hidden_detail, parsed(absent)["detail"]);
  expect_problem(as("sales_rep", "PUT", contact_path(own) + "/tags/" + std::to_string(missing)),
                 404, "not_found");
  // At create time too: a 422 that reads the same for a hidden and a missing company.
  const auto hidden_create = as("sales_rep", "POST", "/v1/contacts",
                                {{"last_name", "New"}, {"companies", {west_company}}});
  const auto absent_create =
      as("sales_rep", "POST", "/v1/contacts", {{"last_name", "New"}, {"companies", {missing}}});
  expect_problem(hidden_create, 422, "validation");
  expect_problem(absent_create, 422, "validation");
  EXPECT_EQ(parsed(hidden_create)["field"], "companies[0]");
  std::string hidden_create_detail = parsed(hidden_create)["detail"];
  hidden_create_detail.replace(hidden_create_detail.find(std::to_string(west_company)),
                               std::to_string(west_company).size(), std::to_string(missing));
  EXPECT_EQ(hidden_create_detail, parsed(absent_create)["detail"]);
  EXPECT_EQ(snapshot(), before);
  // By external id, the same: a hidden company's key reads as one that names nothing.
  ASSERT_EQ(
      call("PATCH", "/v1/companies/" + std::to_string(west_company), {{"external_id", "west-co"}})
          .status,
      200);
  const std::string keyed_before = snapshot();
  const auto hidden_key = as("sales_rep", "POST", "/v1/contacts",
                             {{"last_name", "New"}, {"companies", {{{"external_id", "west-co"}}}}});
  const auto absent_key = as("sales_rep", "POST", "/v1/contacts",
                             {{"last_name", "New"}, {"companies", {{{"external_id", "nope-co"}}}}});
  expect_problem(hidden_key, 422, "validation");
  expect_problem(absent_key, 422, "validation");
  std::string hidden_key_detail = parsed(hidden_key)["detail"];
  hidden_key_detail.replace(hidden_key_detail.find("west-co"), 7, "nope-co");
  EXPECT_EQ(hidden_key_detail, parsed(absent_key)["detail"]);
  EXPECT_EQ(snapshot(), keyed_before);
  // The link the rep could not see is still there.
  EXPECT_EQ(
      parsed(call("GET", "/v1/companies/" + std::to_string(west_company) + "/contacts"))["items"]
          .size(),
      1u);
}

TEST_P(ServerSecurityTest, EscalationAttemptsAreRefusedAndChangeNothing) {
  const std::string before = snapshot();
  const std::string me = "/v1/users/" + std::to_string(rep_id);
  // Its own user record: no rights to change it (roles live elsewhere and need admin).
  expect_problem(as("sales_rep", "PATCH", me, {{"name", "Root"}}), 403, "permission_denied");
  expect_problem(as("sales_rep", "PATCH", me, {{"active", true}, {"team_id", west}}), 403,
                 "permission_denied");
  expect_problem(as("sales_rep", "DELETE", me), 403, "permission_denied");
  // Another team's records by id look like no record at all.
  expect_problem(as("sales_rep", "GET", contact_path(others)), 404, "not_found");
  expect_problem(as("sales_rep", "DELETE", contact_path(others)), 404, "not_found");
  // Moving a teammate's record into its own hands, or its own record to someone else.
  expect_problem(as("sales_rep", "PATCH", contact_path(teammates), {{"owner_id", rep_id}}), 403,
                 "permission_denied");
  expect_problem(
      as("sales_rep", "PATCH", contact_path(own), {{"owner_id", user_id("teammate@example.com")}}),
      403, "permission_denied");
  // Filtering or sorting on a field it cannot see would reveal it.
  auto r = as("read_only", "GET", "/v1/contacts?email[starts_with]=Own");
  expect_problem(r, 403, "permission_denied");
  EXPECT_EQ(parsed(r)["field"], "email");
  expect_problem(as("sales_rep", "GET", "/v1/contacts?sort=-phone"), 403, "permission_denied");
  // Writing a field it cannot see, on a record it may change.
  expect_problem(as("sales_rep", "PATCH", contact_path(teammates), {{"email", "me@evil.example"}}),
                 403, "permission_denied");
  // Merging another team's record into its own.
  expect_problem(as("sales_rep", "POST", contact_path(own) + "/merge", {{"losers", {others}}}), 404,
                 "not_found");
  // Administration.
  expect_problem(as("manager", "POST", "/v1/admin/dead-letters/replay"), 403, "permission_denied");
  EXPECT_EQ(snapshot(), before);
}

TEST_P(ServerSecurityTest, SqlInjectionInFiltersAndFieldsIsPlainText) {
  const std::string before = snapshot();
  auto encoded = [](const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  };
  const std::vector<std::string> payloads = {"' OR '1'='1",
                                             "x'; DROP TABLE contacts; --",
                                             "\" OR 1=1 --",
                                             "Own' OR 1=1--",
                                             "*/ UNION SELECT * FROM users /*",
                                             "%",
                                             "_"};
  for (const auto& p : payloads) {
    // As a filter value it matches only itself: nothing here.
    for (const std::string q :
         {"last_name=", "last_name[starts_with]=", "last_name[contains]=", "email[ne]="}) {
      const auto r = as("admin", "GET", "/v1/contacts?" + q + encoded(p));
      ASSERT_EQ(r.status, 200) << q << p << ": " << r.body;
      const json page = parsed(r);
      EXPECT_EQ(page["items"].size(), q == "email[ne]=" ? 3u : 0u) << q << p;
    }
    // As a name (a field, a sort, a cursor, an id, a limit) it is refused as one.
    for (const std::string q : {"sort=", "cursor=", "owner_id=", "limit=", "custom."}) {
      const auto r =
          as("admin", "GET", "/v1/contacts?" + q + encoded(p) + (q == "custom." ? "=1" : ""));
      EXPECT_TRUE(r.status == 400 || r.status == 422)
          << q << p << ": " << r.status << " " << r.body;
    }
    // As a sparse field list it names no field, and is refused as an unknown name.
    const auto sparse = as("admin", "GET", "/v1/contacts?fields=" + encoded(p));
    expect_problem(sparse, 422, "validation");
    EXPECT_EQ(parsed(sparse)["field"], "fields") << sparse.body;
    // As a value it is stored verbatim and harms nothing.
    auto made = as("admin", "POST", "/v1/contacts", {{"first_name", p}, {"last_name", p}});
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_EQ(parsed(made)["last_name"], p);
    as("admin", "DELETE", made.header("location"));
  }
  EXPECT_EQ(snapshot(), before);
}

TEST_P(ServerSecurityTest, IdempotencyKeysBelongToTheirPrincipal) {
  const json body = {{"first_name", "Once"}, {"last_name", "Only"}};
  auto first = as("admin", "POST", "/v1/contacts", body, {{"Idempotency-Key", "shared-1"}});
  ASSERT_EQ(first.status, 201);
  // The same key from another principal is another request: no replay of the first's answer.
  auto second = as("sales_rep", "POST", "/v1/contacts", body, {{"Idempotency-Key", "shared-1"}});
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_TRUE(second.header("idempotent-replayed").empty());
  EXPECT_NE(parsed(second)["id"], parsed(first)["id"]);
  EXPECT_EQ(parsed(second)["owner_id"], rep_id);
}

TEST_P(ServerSecurityTest, WritesRecordTheirPrincipalAsAuthor) {
  auto made = as("sales_rep", "POST", "/v1/contacts", {{"first_name", "By"}, {"last_name", "Rep"}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(parsed(made)["created_by"], rep_id);
  EXPECT_EQ(parsed(made)["owner_id"], rep_id);
}

}  // namespace
}  // namespace banyan::test
