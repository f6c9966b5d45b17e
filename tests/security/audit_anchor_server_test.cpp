// banyan-server keeps the audit trail anchored (issue 17, point 3): with an audit key and
// --audit-anchor it appends signed checkpoints as the trail moves, and `banyan audit verify
// --anchor` finds against them a cut that the database alone cannot show.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "banyan/store/audit_log.hpp"
#include "server_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

const char* const kAuditKey = "audit1:8Jk2b4m1xQ0n3ZP6yJ0o0Ew9Yk1vJX0c6cWq3mZQe0A=";

class AuditAnchorServerTest : public ServerTest {
 protected:
  void SetUp() override {
    anchor_ = (std::filesystem::temp_directory_path() /
               ("banyan-anchor-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                  .string();
    for (auto& c : anchor_)
      if (c == '/' && &c > anchor_.data() + 5) c = '_';
    std::filesystem::remove(anchor_);
    // The test's own Database, the server and the CLI all get the key as an operator gives it.
    ::setenv("BANYAN_AUDIT_KEY", kAuditKey, 1);
    ServerTest::SetUp();
  }
  void TearDown() override {
    ServerTest::TearDown();
    ::unsetenv("BANYAN_AUDIT_KEY");
    std::filesystem::remove(anchor_);
  }
  std::vector<std::string> server_args() const override {
    return {"--audit-anchor", anchor_, "--audit-checkpoint-interval", "1s"};
  }
  std::uint64_t head() { return std::stoull(scratch().raw("SELECT last_id FROM audit_head")); }

  std::string anchor_;
};
BANYAN_ON_BOTH_BACKENDS(AuditAnchorServerTest);

TEST_P(AuditAnchorServerTest, TheServerAnchorsTheTrailAndVerifyFindsACutAgainstIt) {
  ASSERT_FALSE(store::read_audit_anchor(anchor_).empty()) << "a checkpoint at start";
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "N" + std::to_string(i)}}).status, 201);
  const std::uint64_t last = head();
  ASSERT_GE(last, 4u);
  bool anchored = false;
  for (int i = 0; i < 100 && !anchored; ++i) {
    const auto anchors = store::read_audit_anchor(anchor_);
    anchored = anchors.back().sequence == last;
    if (!anchored) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(anchored) << "the head was checkpointed within the interval";
  server_->signal(SIGTERM);
  ASSERT_EQ(server_->wait(), 0) << server_->output();

  auto v = cli({"audit", "verify", "--anchor", anchor_});
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_NE(v.output.find("checkpoints agree"), std::string::npos) << v.output;

  // The newest two entries cut off, the head reset to the entry before them.
  const std::string kept = std::to_string(last - 2);
  const std::string hash = scratch().raw("SELECT hash FROM audit_log WHERE id = " + kept);
  scratch().raw("DELETE FROM audit_log WHERE id > " + kept);
  scratch().raw("UPDATE audit_head SET last_id = " + kept + ", last_hash = '" + hash +
                "' WHERE id = 1");
  v = cli({"audit", "verify"});
  EXPECT_EQ(v.status, 0) << "the database alone cannot tell: " << v.output;
  v = cli({"audit", "verify", "--anchor", anchor_});
  EXPECT_EQ(v.status, 1) << v.output;
  EXPECT_NE(v.output.find("TAMPERED WITH at entry " + std::to_string(last - 1)), std::string::npos)
      << v.output;
}

TEST_P(AuditAnchorServerTest, AnAnchorWithoutTheAuditKeyStopsTheServerBeforeItServes) {
  const auto r = run_command({"/usr/bin/env", "-u", "BANYAN_AUDIT_KEY", BANYAN_SERVER, "--listen",
                              "127.0.0.1:0", "--database", scratch().url(), "--audit-anchor",
                              anchor_ + ".other"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("audit key"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("listening"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace banyan::test
