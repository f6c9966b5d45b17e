// The fixture of the banyan-server end-to-end tests: the server as a real process on a
// free loopback port over a scratch database of either backend, an HTTP client that
// sends an administrator's API key, and helpers for problems and keys.
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "security/api_key_store.hpp"
#include "security/directory.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {

using nlohmann::json;

class ServerTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    std::vector<std::string> command = launcher();
    command.insert(command.end(), {BANYAN_SERVER, "--listen", "127.0.0.1:0", "--database",
                                   database_url(), "--threads", "2", "--request-timeout", "2s",
                                   "--idle-timeout", "5s", "--max-body", "65536"});
    for (auto& a : server_args()) command.push_back(std::move(a));
    server_ = std::make_unique<ChildProcess>(command);
    ASSERT_TRUE(server_->wait_for_output("listening on http://127.0.0.1:")) << server_->output();
    const std::string out = server_->output();
    const auto at = out.find("127.0.0.1:") + 10;
    port_ = static_cast<unsigned short>(std::stoi(out.substr(at, out.find(' ', at) - at)));
    client_ = std::make_unique<HttpClient>(port_);
    admin_key_ = key_for("admin@example.com", {"admin"});
    client_->set_default_header("authorization", "Bearer " + admin_key_);
  }
  // The secret of an API key acting as a new user with these roles.
  std::string key_for(const std::string& email, const std::vector<std::string>& roles,
                      std::vector<Id> teams = {}) {
    return db().transact([&](store::UnitOfWork& uow) {
      User u;
      u.email = email;
      u.name = email.substr(0, email.find('@'));
      const Id id = stores(db()).users().create(uow, u).id;
      for (const auto& role : roles) security::Directory().assign_role(uow, id, role);
      for (Id team : teams) security::Directory().add_member(uow, team, id);
      return security::ApiKeyStore().create(uow, id, "test").secret;
    });
  }
  // The database the server opens (the scratch database, unless a suite reaches it
  // another way).
  virtual std::string database_url() const { return scratch().url(); }
  // What runs the server, before its own command line (a shell that lowers a limit first).
  virtual std::vector<std::string> launcher() const { return {}; }
  // Flags a test suite adds to the server's command line.
  virtual std::vector<std::string> server_args() const { return {}; }

  void TearDown() override {
    client_.reset();
    if (server_ && server_->running()) {
      server_->signal(SIGTERM);
      EXPECT_EQ(server_->wait(), 0) << server_->output();
    }
    StoreTest::TearDown();
  }

  HttpReply call(const std::string& method, const std::string& target, const json& body = nullptr,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    return client_->request(method, target, body.is_null() ? "" : body.dump(), std::move(headers));
  }
  static json parsed(const HttpReply& r) { return json::parse(r.body); }
  // The admin CLI on the scratch database (with this process's environment).
  CommandResult cli(std::vector<std::string> args) {
    std::vector<std::string> argv{BANYAN_CLI};
    for (auto& a : args) argv.push_back(std::move(a));
    argv.push_back("--database");
    argv.push_back(scratch().url());
    return run_command(argv);
  }
  std::string auth_line() const { return "Authorization: Bearer " + admin_key_ + "\r\n"; }
  std::int64_t contacts_in_db() {
    return std::stoll(scratch().raw("SELECT COUNT(*) FROM contacts"));
  }
  // A dead letter of a deal.won event in `queue`, written as the relay would.
  // Dead now: an older one would be the server's retention to delete.
  void add_dead_letter(const std::string& queue, int n) {
    const std::string now = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    scratch().raw(
        "INSERT INTO dead_letters (queue, event_id, event_sequence, event_type, aggregate_type, "
        "aggregate_id, aggregate_version, occurred_at, actor_id, payload, attempts, "
        "first_failed_at, "
        "last_failed_at, last_error, error_class, consumer, dead_at) VALUES ('" +
        queue + "', 'e" + std::to_string(n) + "', " + std::to_string(n) +
        ", 'deal.won', 'deal', 1, 1, 1, 0, '{\"n\":" + std::to_string(n) + "}', 5, " + now + ", " +
        now + ", 'billing says 503', 'transient', 'w/billing', " + now + ")");
  }
  // A 4xx problem+json with the code, the request id, and nothing changed.
  void expect_problem(const HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json") << r.body;
    if (r.header("content-type") != "application/problem+json") return;
    const json p = parsed(r);
    EXPECT_EQ(p["status"], status);
    EXPECT_EQ(p["code"], code) << r.body;
    EXPECT_EQ(p["request_id"], r.header("x-request-id"));
  }

  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<HttpClient> client_;
  unsigned short port_ = 0;
  std::string admin_key_;
};

// Two teams, East and West, and API keys by name (`keys`, the administrator's as
// "admin"), for tests of who may do what.
class TeamsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    db().transact([&](store::UnitOfWork& uow) {
      east = stores(db()).teams().create(uow, named<Team>("East")).id;
      west = stores(db()).teams().create(uow, named<Team>("West")).id;
    });
    keys["admin"] = admin_key_;
  }
  Id user_id(const std::string& email) {
    return std::stoull(scratch().raw("SELECT id FROM users WHERE email = '" + email + "'"));
  }
  // A request with the named key instead of the administrator's.
  HttpReply as(const std::string& key, const std::string& method, const std::string& target,
               const json& body = nullptr,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + keys.at(key));
    return call(method, target, body, std::move(headers));
  }

  Id east = 0, west = 0;
  std::map<std::string, std::string> keys;
};

}  // namespace banyan::test
