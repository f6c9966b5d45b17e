// banyan-server and its key ring (issue 17, point 6), as an operator rotates keys with the
// server running: the ring comes from a key file; a record sealed elsewhere with a new key
// makes /readyz say so; after the file gains the key and SIGHUP (or the periodic check),
// reads work without a restart. A ring that lacks a key in use stops the server at start.
// A custom field marked sensitive over the API has its stored values sealed, counted.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "messaging_fixture.hpp"
#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;
using store::EncryptionKeys;

const std::string kKey1 = EncryptionKeys::generate_line("ring1");
const std::string kKey2 = EncryptionKeys::generate_line("ring2");

class KeyRingServerTest : public ServerTest {
 protected:
  void SetUp() override {
    key_file_ = ::testing::TempDir() + "banyan-ring-" + std::to_string(::getpid());
    write_ring(kKey1);
    ::setenv("BANYAN_ENCRYPTION_KEY_FILE", key_file_.c_str(), 1);  // the server's and the fixture's
    ServerTest::SetUp();
  }
  void TearDown() override {
    ServerTest::TearDown();
    ::unsetenv("BANYAN_ENCRYPTION_KEY_FILE");
    std::filesystem::remove(key_file_);
  }
  std::vector<std::string> server_args() const override { return {"--key-check-interval", "1h"}; }
  void write_ring(const std::string& ring) {
    std::ofstream(key_file_, std::ios::trunc) << ring << "\n";
  }

  std::string key_file_;
};
BANYAN_ON_BOTH_BACKENDS(KeyRingServerTest);

TEST_P(KeyRingServerTest, ARotationElsewhereShowsInReadyzAndSighupPicksItUp) {
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  // Another process rotates (k2 appended) and seals a new record with k2.
  store::DatabaseOptions o;
  o.encryption = EncryptionKeys::parse(kKey1 + "\n" + kKey2);
  auto elsewhere = scratch().open(std::move(o));
  const Id id = elsewhere->transact([&](store::UnitOfWork& uow) {
    return stores(*elsewhere)
        .contacts()
        .create(uow, contact("Ada", "Rotated", "rotated@example.com"))
        .id;
  });
  expect_problem(call("GET", "/v1/contacts/" + std::to_string(id)), 503, "unavailable");
  // The periodic check is an hour away here: SIGHUP reads the keys and the database again.
  server_->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return call("GET", "/readyz").status == 503; }, 10s));
  const json unready = parsed(call("GET", "/readyz"));
  EXPECT_NE(unready.dump().find("'ring2'"), std::string::npos) << unready.dump();

  write_ring(kKey1 + "\n" + kKey2);
  server_->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return call("GET", "/readyz").status == 200; }, 10s));
  const auto read = call("GET", "/v1/contacts/" + std::to_string(id));
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(parsed(read)["email"], "rotated@example.com");
  EXPECT_TRUE(server_->running()) << "no restart";
}

TEST_P(KeyRingServerTest, AChangedRingThatLacksAKeyInUseIsRefusedAndTheRingInForceStays) {
  const auto made =
      call("POST", "/v1/contacts", {{"first_name", "Kept"}, {"email", "kept@example.com"}});
  ASSERT_EQ(made.status, 201);
  write_ring(kKey2);  // ring1 dropped although it seals the record above
  server_->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return call("GET", "/readyz").status == 503; }, 10s));
  EXPECT_NE(call("GET", "/readyz").body.find("refused"), std::string::npos);
  const auto read = call("GET", "/v1/contacts/" + std::to_string(parsed(made)["id"].get<Id>()));
  EXPECT_EQ(read.status, 200) << "the ring in force still opens it: " << read.body;
  // And a server started with that ring does not start at all.
  const auto r =
      run_command({BANYAN_SERVER, "--listen", "127.0.0.1:0", "--database", scratch().url()});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("'ring1'"), std::string::npos) << r.output;
  write_ring(kKey1);
}

TEST_P(KeyRingServerTest, MarkingAFieldSensitiveOverTheApiSealsItsStoredValuesAndSaysHowMany) {
  const auto field = call("POST", "/v1/custom-fields",
                          {{"object_type", "contact"}, {"name", "salary"}, {"type", "text"}});
  ASSERT_EQ(field.status, 201) << field.body;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(call("POST", "/v1/contacts",
                   {{"first_name", "S"}, {"custom", {{"salary", "pay-" + std::to_string(i)}}}})
                  .status,
              201);
  const auto in_contacts = [&] {
    return scratch().raw("SELECT COUNT(*) FROM contacts WHERE custom_fields LIKE '%pay-1%'");
  };
  EXPECT_EQ(in_contacts(), "1");
  const json f = parsed(field);
  const auto marked =
      call("PATCH", "/v1/custom-fields/" + std::to_string(f["id"].get<Id>()), {{"sensitive", true}},
           {{"if-match", "\"" + std::to_string(f["version"].get<int>()) + "\""}});
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_EQ(parsed(marked)["sealed_records"], 3) << marked.body;
  EXPECT_EQ(in_contacts(), "0")
      << "sealed in the record (the audit trail keeps what was written then)";
}

}  // namespace
}  // namespace banyan::test
