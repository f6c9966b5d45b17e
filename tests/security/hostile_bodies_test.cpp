// The request parser against a real server: the review's quadratic shapes (a 1 MiB body
// of 87,000 keys in one object, or of 100,000 empty objects in one array) are refused
// with 413 as they are read, for any principal, and the server keeps answering meanwhile.
#include <thread>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

class HostileBodiesTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override { return {"--max-body", "2097152"}; }

  static std::string object_with_keys(std::size_t n) {
    std::string body = "{";
    for (std::size_t i = 0; i < n; ++i) body += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
    return body + "}";
  }
  static std::string array_of_empty_objects(std::size_t n) {
    std::string body = "{\"items\":[";
    for (std::size_t i = 0; i < n; ++i) body += i ? ",{}" : "{}";
    return body + "]}";
  }
  HttpReply post(HttpClient& client, const std::string& target, const std::string& body) {
    return client.request("POST", target, body, {{"content-type", "application/json"}});
  }
};

TEST_P(HostileBodiesTest, ManyKeysInOneObjectAre413) {
  const std::string body = object_with_keys(87000);
  ASSERT_GT(body.size(), 900000u);  // about 1 MiB
  expect_problem(post(*client_, "/v1/contacts", body), 413, "body_too_large");
  expect_problem(post(*client_, "/v1/contacts/upsert", body), 413, "body_too_large");
  EXPECT_EQ(contacts_in_db(), 0);
}

TEST_P(HostileBodiesTest, ManyElementsInOneArrayAre413) {
  const std::string body = array_of_empty_objects(100000);
  expect_problem(post(*client_, "/v1/contacts/batch", body), 413, "body_too_large");
  expect_problem(post(*client_, "/v1/contacts/upsert", body), 413, "body_too_large");
  EXPECT_EQ(contacts_in_db(), 0);
}

TEST_P(HostileBodiesTest, BytesAfterTheDocumentAreRefusedANulIncluded) {
  for (const std::string& body :
       {std::string("{\"first_name\":\"Ada\"}\0", 21),
        std::string("{\"first_name\":\"Ada\"}\0{\"last_name\":\"X\"}", 39),
        std::string(R"({"first_name":"Ada"}{"first_name":"Eve"})")})
    expect_problem(post(*client_, "/v1/contacts", body), 400, "malformed_json");
  EXPECT_EQ(contacts_in_db(), 0);
}

TEST_P(HostileBodiesTest, TheServerAnswersHealthChecksWhileHostileBodiesArrive) {
  const std::string keys = object_with_keys(87000);
  const std::string objects = array_of_empty_objects(100000);
  const std::string reader = key_for("reader@example.com", {"read_only"});
  // Two clients (one per server thread) send the shapes over and over, as a read-only
  // principal and as an administrator.
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  auto flood = [&](const std::string& secret) {
    HttpClient c(port_);
    c.set_default_header("authorization", "Bearer " + secret);
    while (!stop) {
      for (const auto* body : {&keys, &objects}) {
        const int status = post(c, "/v1/contacts/batch", *body).status;
        if (status == 413 || status == 403) ++refused;
      }
    }
  };
  std::thread a(flood, reader), b(flood, admin_key_);
  HttpClient health(port_);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(health.request("GET", "/healthz").status, 200);
  stop = true;
  a.join();
  b.join();
  EXPECT_GT(refused.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, HostileBodiesTest, ::testing::Values(Backend::kSqlite),
                         backend_test_name);

}  // namespace
}  // namespace banyan::test
