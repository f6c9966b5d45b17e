// A stalled database (MariaDB behind a proxy that stops forwarding, as a paused server
// or a host that drops packets looks to its clients) costs the requests that need it a
// 503 with Retry-After at the handler deadline, not a hang: /healthz answers throughout,
// /readyz says what is wrong, nothing half-done is committed, and service resumes by
// itself when the database does.
#include <future>
#include <thread>

#include "messaging_fixture.hpp"
#include "server_fixture.hpp"
#include "tcp_proxy.hpp"

namespace banyan::test {
namespace {

class DatabaseStallTest : public ServerTest {
 protected:
  void SetUp() override {
    const auto server = MariaDbServer::from_env();
    proxy_ = std::make_unique<TcpProxy>(server.host, server.port);
    ServerTest::SetUp();
  }
  void TearDown() override {
    if (proxy_) proxy_->stall(false);
    ServerTest::TearDown();
    proxy_.reset();
  }
  // The scratch database through the proxy, with short database timeouts.
  std::string database_url() const override {
    const auto server = MariaDbServer::from_env();
    const std::string& url = scratch().url();
    return "mysql://" + server.user + "@127.0.0.1:" + std::to_string(proxy_->port()) +
           url.substr(url.rfind('/')) + "?connect_timeout=2&read_timeout=8&write_timeout=8";
  }
  std::vector<std::string> server_args() const override {
    return {"--handler-threads", "4", "--handler-timeout", "2s", "--rate-address", "off"};
  }
  static HttpReply get(unsigned short port, const std::string& target,
                       const std::string& key = "") {
    HttpClient client(port);
    if (!key.empty()) client.set_default_header("authorization", "Bearer " + key);
    return client.request("GET", target);
  }

  std::unique_ptr<TcpProxy> proxy_;
};

TEST_P(DatabaseStallTest, AStalledDatabaseGives503sInTimeWhileHealthAnswersAndServiceResumes) {
  const auto made = call("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "Before"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string contact = "/v1/contacts/" + parsed(made)["id"].dump();
  ASSERT_TRUE(
      eventually([&] { return get(port_, "/readyz").status == 200; }, std::chrono::seconds(10)));

  proxy_->stall(true);
  // More requests than handler threads, reads and a write, all at once.
  std::vector<std::future<std::pair<HttpReply, std::chrono::milliseconds>>> waiting;
  for (int i = 0; i < 8; ++i)
    waiting.push_back(std::async(std::launch::async, [&, i] {
      const auto started = std::chrono::steady_clock::now();
      HttpClient client(port_);
      client.set_default_header("authorization", "Bearer " + admin_key_);
      HttpReply r = i == 0 ? client.request("POST", "/v1/contacts",
                                            R"({"first_name":"Ada","last_name":"During"})")
                           : client.request("GET", contact);
      return std::pair{r, std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)};
    }));
  // Meanwhile the health check, which needs no database, answers.
  for (int i = 0; i < 5; ++i) {
    const auto health = get(port_, "/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& w : waiting) {
    const auto [r, took] = w.get();
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.header("retry-after"), "1");
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    // The handler deadline answered (2 s), not the database's read timeout (8 s).
    EXPECT_LT(took, std::chrono::milliseconds(6000)) << "answered after " << took.count() << " ms";
  }
  // /readyz says the database is the trouble, and answers at once.
  HttpReply ready;
  EXPECT_TRUE(eventually([&] { return (ready = get(port_, "/readyz")).status == 503; },
                         std::chrono::seconds(10)));
  EXPECT_NE(ready.body.find("database"), std::string::npos) << ready.body;
  EXPECT_EQ(get(port_, "/healthz").status, 200);

  proxy_->stall(false);
  EXPECT_TRUE(eventually([&] { return get(port_, contact, admin_key_).status == 200; },
                         std::chrono::seconds(15)));
  EXPECT_TRUE(
      eventually([&] { return get(port_, "/readyz").status == 200; }, std::chrono::seconds(10)));
  EXPECT_EQ(contacts_in_db(), 1) << "the write answered 503 took effect";
  const auto after = call("POST", "/v1/contacts", {{"first_name", "Ada"}, {"last_name", "After"}});
  EXPECT_EQ(after.status, 201) << after.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseStallTest, ::testing::Values(Backend::kMariaDb),
                         [](const auto& p) { return backend_name(p.param); });

}  // namespace
}  // namespace banyan::test
