// Where OIDC signing keys may come from: an issuer is https:// (plain http:// only on
// loopback, and only when the operator says so), and its jwks_uri is on its origin, so
// nobody on the path and no other origin can hand the server keys that mint tokens.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

// banyan-server started with `args` on a scratch SQLite file: its exit status and output
// when it refuses to start.
std::pair<int, std::string> start_refused(std::vector<std::string> args) {
  const std::string db =
      ::testing::TempDir() + "banyan-issuer-" + std::to_string(::getpid()) + ".db";
  std::vector<std::string> command{BANYAN_SERVER,    "--listen",        "127.0.0.1:0", "--database",
                                   "sqlite://" + db, "--oidc-audience", "api"};
  for (auto& a : args) command.push_back(std::move(a));
  ChildProcess server(command);
  const int status = server.wait(std::chrono::seconds(20));
  std::filesystem::remove(db);
  return {status, server.output()};
}

TEST(OidcIssuer, APlainHttpIssuerIsRefusedAtStart) {
  auto [status, output] = start_refused({"--oidc-issuer", "http://id.example.com"});
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("is not an https:// URL"), std::string::npos) << output;
  // Even with the loopback flag: the flag is for this machine only.
  std::tie(status, output) =
      start_refused({"--oidc-issuer", "http://id.example.com", "--oidc-allow-http-loopback"});
  EXPECT_EQ(status, 1) << output;
}

TEST(OidcIssuer, ALoopbackHttpIssuerNeedsTheExplicitFlag) {
  const auto [status, output] = start_refused({"--oidc-issuer", "http://127.0.0.1:9"});
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("allow_http_loopback"), std::string::npos) << output;
}

// An issuer whose discovery document points its jwks_uri at another origin: a static
// file server (python3 -m http.server) on loopback.
class ForeignKeysTest : public ServerTest {
 protected:
  void SetUp() override {
    site_ = ::testing::TempDir() + "banyan-discovery-" + std::to_string(::getpid());
    std::filesystem::create_directories(site_ + "/.well-known");
    port_of_site_ = free_port();
    issuer_ = "http://127.0.0.1:" + std::to_string(port_of_site_);
    std::ofstream(site_ + "/.well-known/openid-configuration") << json{
        {"issuer", issuer_},
        {"jwks_uri", "http://127.0.0.2:" + std::to_string(port_of_site_) +
                         "/jwks"}}.dump();
    std::ofstream(site_ + "/jwks") << R"({"keys":[]})";
    site_server_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/bin/python3", "-m", "http.server", std::to_string(port_of_site_), "--bind",
        "127.0.0.1", "--directory", site_});
    ASSERT_TRUE(site_server_->wait_for_output("Serving HTTP")) << site_server_->output();
    ServerTest::SetUp();
  }
  void TearDown() override {
    ServerTest::TearDown();
    site_server_.reset();
    std::filesystem::remove_all(site_);
  }
  std::vector<std::string> server_args() const override {
    return {"--oidc-issuer", issuer_, "--oidc-audience", "api", "--oidc-allow-http-loopback"};
  }
  static unsigned short free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
  }

  std::string site_, issuer_;
  unsigned short port_of_site_ = 0;
  std::unique_ptr<ChildProcess> site_server_;
};

TEST_P(ForeignKeysTest, KeysFromAnotherOriginAreNotFetched) {
  const auto r = call("GET", "/v1/contacts", nullptr, {{"authorization", "Bearer aaa.bbb.ccc"}});
  expect_problem(r, 503, "unavailable");
  EXPECT_NE(r.body.find("is not on the issuer's origin"), std::string::npos) << r.body;
  EXPECT_EQ(site_server_->output().find("GET /jwks"), std::string::npos)
      << "the foreign keys were fetched";
  EXPECT_EQ(call("GET", "/v1/contacts").status, 200);  // API keys still work
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ForeignKeysTest, ::testing::Values(Backend::kSqlite),
                         backend_test_name);

}  // namespace
}  // namespace banyan::test
