// banyan-server with bearer JWTs from a real OIDC provider (the npm package oidc-provider,
// tests/oidc/provider.mjs, on loopback) issuing client-credentials tokens, on both
// backends: a linked client acts as its service account; expired, wrong-audience,
// wrong-issuer, unlinked and second-provider tokens are refused and change nothing; the
// issuer's keys rotate without a restart, with one rate-limited refresh for an unknown
// key; an issuer out of reach is an outage (503), not a bad credential.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "net/http_client.hpp"
#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

const std::string kAudience = "https://banyan.test/api";
const std::string kOtherAudience = "https://other.test/api";

// One oidc-provider process on a free port; its issuer is http://127.0.0.1:<port> unless
// given (an impostor names another's).
class OidcProvider {
 public:
  explicit OidcProvider(std::vector<std::string> extra = {}) {
    std::vector<std::string> command{BANYAN_NODE, BANYAN_OIDC_PROVIDER, "--audience",
                                     kAudience,   "--audience",         kOtherAudience};
    for (auto& a : extra) command.push_back(std::move(a));
    process_ = std::make_unique<ChildProcess>(command);
    if (!process_->wait_for_output("listening ")) {
      ADD_FAILURE()
          << "the OIDC provider did not start (./scripts/test.sh installs it into tests/oidc): "
          << process_->output();
      return;
    }
    const std::string out = process_->output();
    const auto at = out.find("listening ") + 10;
    const auto space = out.find(" port ", at);
    issuer_ = out.substr(at, space - at);
    port_ = static_cast<unsigned short>(std::stoi(out.substr(space + 6)));
  }
  ~OidcProvider() {
    if (process_ && process_->running()) process_->signal(SIGTERM);
  }

  const std::string& issuer() const { return issuer_; }

  // A client-credentials access token (a JWT) for `client`, asked for `audience`.
  std::string token(const std::string& client, const std::string& audience = kAudience) {
    HttpClient http(port_);
    const auto r = http.request(
        "POST", "/token",
        "grant_type=client_credentials&scope=crm&client_secret=secret&client_id=" + client +
            "&resource=" + audience,
        {{"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto doc = json::parse(r.body, nullptr, false);
    if (doc.is_discarded() || !doc.contains("access_token")) return "no-token";
    return doc["access_token"].get<std::string>();
  }
  // Replaces the signing key (keeping the old one too if asked), as a key rotation does.
  void rotate(bool keep_old) {
    HttpClient http(port_);
    EXPECT_EQ(http.request("POST", "/_test/rotate", json{{"keep_old", keep_old}}.dump()).status,
              200);
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string issuer_;
  unsigned short port_ = 0;
};

std::string scratch_path(const std::string& name) {
  static std::atomic<int> n{0};
  return (std::filesystem::temp_directory_path() /
          ("banyan-oidc-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + name))
      .string();
}

class ServerOidcTest : public ServerTest {
 protected:
  void SetUp() override {
    keys_file_ = scratch_path("keys.json");
    provider_ = std::make_unique<OidcProvider>(std::vector<std::string>{"--keys", keys_file_});
    if (HasFailure()) return;
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    bot_ = linked_user("bot@example.com", "integration", {provider_->issuer(), "banyan-sync"});
    linked_user("short@example.com", "admin", {provider_->issuer(), "short-lived"});
  }
  void TearDown() override {
    ServerTest::TearDown();
    provider_.reset();
    std::filesystem::remove(keys_file_);
  }
  // A second's skew makes an expired token quick to get; a two-second refresh interval
  // makes the rate limit on refreshes quick to see. The failures these tests send on
  // purpose must not be throttled.
  std::vector<std::string> server_args() const override {
    return {"--oidc-issuer",
            provider_->issuer(),
            "--oidc-audience",
            kAudience,
            "--oidc-clock-skew",
            "1s",
            "--oidc-key-refresh",
            "2s",
            "--rate-auth-failures",
            "off",
            "--oidc-allow-http-loopback"};
  }

  HttpReply with_token(const std::string& token, const std::string& method,
                       const std::string& target, const json& body = nullptr) {
    return call(method, target, body, {{"authorization", "Bearer " + token}});
  }
  // The token is refused as RFC 6750 says (401, invalid_token) and a create with it
  // leaves no contact behind.
  void expect_refused(const std::string& token, const std::string& what) {
    SCOPED_TRACE(what);
    const auto before = contacts_in_db();
    const auto get = with_token(token, "GET", "/v1/contacts");
    expect_problem(get, 401, "invalid_token");
    EXPECT_NE(get.header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);
    expect_problem(with_token(token, "POST", "/v1/contacts", json{{"first_name", "Eve"}}), 401,
                   "invalid_token");
    EXPECT_EQ(contacts_in_db(), before);
  }
  double metric(const std::string& name) {
    const auto r = call("GET", "/metrics");
    const auto at = r.body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + name.size() + 2));
  }

  std::string keys_file_;
  std::unique_ptr<OidcProvider> provider_;
  Id bot_ = 0;
};

TEST_P(ServerOidcTest, AClientCredentialsTokenActsAsItsLinkedServiceAccount) {
  const std::string token = provider_->token("banyan-sync");
  EXPECT_EQ(with_token(token, "GET", "/v1/contacts").status, 200);
  const auto created = with_token(token, "POST", "/v1/contacts", json{{"first_name", "Synced"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(parsed(created)["owner_id"], bot_);
  // The integration role may not delete: the token carries its user's roles, no more.
  const auto id = parsed(created)["id"].get<Id>();
  expect_problem(with_token(token, "DELETE", "/v1/contacts/" + std::to_string(id)), 403,
                 "permission_denied");
  EXPECT_EQ(contacts_in_db(), 1);
  // API keys go on working beside tokens.
  EXPECT_EQ(call("GET", "/v1/contacts/" + std::to_string(id)).status, 200);
}

TEST_P(ServerOidcTest, ExpiredWrongAudienceAndUnlinkedTokensAreRefusedAndChangeNothing) {
  const std::string expired = provider_->token("short-lived");
  expect_refused(provider_->token("banyan-sync", kOtherAudience), "for another audience");
  expect_refused(provider_->token("stranger"), "a subject linked to no user");
  std::this_thread::sleep_for(2500ms);  // the token lived 1 s; the skew allows 1 s more
  expect_refused(expired, "expired");
  const std::string token = provider_->token("banyan-sync");
  // Tampered: the payload of a valid token with one character changed.
  std::string tampered = token;
  const auto dot = tampered.find('.') + 5;
  tampered[dot] = tampered[dot] == 'A' ? 'B' : 'A';
  expect_refused(tampered, "tampered");
  expect_refused(token.substr(0, token.rfind('.') + 1), "signature stripped");
  // Deactivating the linked user refuses its tokens (after the 5 s credential cache).
  EXPECT_EQ(with_token(token, "GET", "/v1/contacts").status, 200);
  db().transact([&](store::UnitOfWork& uow) {
    auto u = stores(db()).users().get(uow, bot_);
    u.active = false;
    stores(db()).users().update(uow, u);
  });
  std::this_thread::sleep_for(5200ms);
  expect_refused(token, "its user deactivated");
}

TEST_P(ServerOidcTest, TokensOfOtherProvidersAreRefusedAfterOneRateLimitedKeyRefresh) {
  EXPECT_EQ(with_token(provider_->token("banyan-sync"), "GET", "/v1/contacts").status, 200);
  EXPECT_EQ(metric("banyan_oidc_key_refreshes_total"), 1);  // the keys, fetched at first use

  // Another issuer with keys of its own.
  OidcProvider second;
  expect_refused(second.token("banyan-sync"), "a second provider");
  // Another issuer signing with the very same keys: the signature holds, the issuer not.
  OidcProvider same_keys({"--keys", keys_file_});
  expect_refused(same_keys.token("banyan-sync"), "the same keys, another issuer");
  // An impostor naming our issuer, with keys of its own: a key id we do not know.
  std::this_thread::sleep_for(2100ms);  // past the refresh interval
  OidcProvider impostor({"--issuer", provider_->issuer()});
  // Tokens made first: asking the provider for each took long enough on a loaded machine
  // for the interval to pass, and a second refresh to be due.
  std::vector<std::string> forged;
  for (int i = 0; i < 5; ++i) forged.push_back(impostor.token("banyan-sync"));
  const double before = metric("banyan_oidc_key_refreshes_total");
  for (const auto& token : forged) expect_refused(token, "an impostor of our issuer");
  // One refresh for the first unknown key id; the next four within the interval: none.
  EXPECT_EQ(metric("banyan_oidc_key_refreshes_total"), before + 1);
}

TEST_P(ServerOidcTest, KeysRotateWithoutARestart) {
  const std::string old_token = provider_->token("banyan-sync");
  EXPECT_EQ(with_token(old_token, "GET", "/v1/contacts").status, 200);
  std::this_thread::sleep_for(2100ms);  // past the refresh interval
  provider_->rotate(/*keep_old=*/true);
  const std::string new_token = provider_->token("banyan-sync");
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(with_token(new_token, "GET", "/v1/contacts").status, 200) << "the new key was fetched";
  EXPECT_EQ(with_token(old_token, "GET", "/v1/companies").status, 200)
      << "the old key is still published";
  EXPECT_EQ(metric("banyan_oidc_key_refreshes_total"), 2);

  std::this_thread::sleep_for(2100ms);
  provider_->rotate(/*keep_old=*/false);
  const std::string newest = provider_->token("banyan-sync");
  EXPECT_EQ(with_token(newest, "POST", "/v1/contacts", json{{"first_name", "After"}}).status, 201);
  EXPECT_EQ(metric("banyan_oidc_key_refreshes_total"), 3);
}

BANYAN_ON_BOTH_BACKENDS(ServerOidcTest);

// An issuer on https://, its certificate from a private CA that the server trusts through
// OpenSSL's SSL_CERT_FILE (or, in the second suite, does not: then its keys cannot be had).
class ServerOidcHttpsTest : public ServerTest {
 protected:
  virtual bool server_trusts_the_issuer() const { return true; }
  void SetUp() override {
    cert_ = scratch_path("issuer.pem");
    key_ = scratch_path("issuer.key");
    const auto made =
        run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1", "-addext",
                     "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", key_, "-out", cert_});
    ASSERT_EQ(made.status, 0) << made.output;
    provider_ = std::make_unique<OidcProvider>(
        std::vector<std::string>{"--tls-cert", cert_, "--tls-key", key_});
    if (HasFailure()) return;
    ASSERT_EQ(provider_->issuer().rfind("https://", 0), 0u) << provider_->issuer();
    // The server inherits the environment it starts with; this process trusts the CA too,
    // to ask the provider for tokens.
    if (server_trusts_the_issuer()) ::setenv("SSL_CERT_FILE", cert_.c_str(), 1);
    ServerTest::SetUp();
    ::setenv("SSL_CERT_FILE", cert_.c_str(), 1);
    if (HasFatalFailure()) return;
    bot_ = linked_user("bot@example.com", "integration", {provider_->issuer(), "banyan-sync"});
  }
  void TearDown() override {
    ServerTest::TearDown();
    provider_.reset();
    ::unsetenv("SSL_CERT_FILE");
    std::filesystem::remove(cert_);
    std::filesystem::remove(key_);
  }
  std::vector<std::string> server_args() const override {
    return {"--oidc-issuer", provider_->issuer(),    "--oidc-audience",
            kAudience,       "--rate-auth-failures", "off"};
  }
  // A client-credentials token, asked for over https with the library's own client.
  std::string https_token() {
    const auto r =
        net::detail::http_request("POST", provider_->issuer() + "/token",
                                  "grant_type=client_credentials&scope=crm&client_id=banyan-sync&"
                                  "client_secret=secret&resource=" +
                                      kAudience,
                                  {{"Content-Type", "application/x-www-form-urlencoded"}},
                                  std::chrono::steady_clock::now() + 10s);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto doc = json::parse(r.body, nullptr, false);
    return doc.is_object() && doc.contains("access_token") ? doc["access_token"].get<std::string>()
                                                           : "no-token";
  }

  std::string cert_, key_;
  std::unique_ptr<OidcProvider> provider_;
  Id bot_ = 0;
};
BANYAN_ON_BOTH_BACKENDS(ServerOidcHttpsTest);

TEST_P(ServerOidcHttpsTest, AnHttpsIssuersKeysAreFetchedOverVerifiedTls) {
  const auto r =
      call("GET", "/v1/contacts", nullptr, {{"authorization", "Bearer " + https_token()}});
  EXPECT_EQ(r.status, 200) << r.body;
}

class ServerOidcUntrustedHttpsTest : public ServerOidcHttpsTest {
 protected:
  bool server_trusts_the_issuer() const override { return false; }
};
BANYAN_ON_BOTH_BACKENDS(ServerOidcUntrustedHttpsTest);

TEST_P(ServerOidcUntrustedHttpsTest, AnIssuerWhoseCertificateIsNotTrustedIsNeverAsked) {
  const auto r =
      call("GET", "/v1/contacts", nullptr, {{"authorization", "Bearer " + https_token()}});
  expect_problem(r, 503, "unavailable");
  EXPECT_EQ(call("GET", "/v1/contacts").status, 200) << "API keys still work";
}

// The issuer cannot be reached: its tokens cannot be checked, which is an outage (503),
// not a bad credential; API keys go on working.
class ServerOidcUnreachableTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--oidc-issuer",
            "http://127.0.0.1:1",
            "--oidc-audience",
            kAudience,
            "--rate-auth-failures",
            "off",
            "--oidc-allow-http-loopback"};
  }
};

TEST_P(ServerOidcUnreachableTest, TokensAnswer503AndApiKeysStillWork) {
  OidcProvider provider;
  const auto r = call("GET", "/v1/contacts", nullptr,
                      {{"authorization", "Bearer " + provider.token("banyan-sync")}});
  expect_problem(r, 503, "unavailable");
  EXPECT_EQ(call("GET", "/v1/contacts").status, 200);
}

BANYAN_ON_BOTH_BACKENDS(ServerOidcUnreachableTest);

}  // namespace
}  // namespace banyan::test
