// A database administrator who rewrites the audit trail (issue 17, point 3), on both
// backends. The tamperer writes SQL, knows how entries are hashed and recomputes every
// hash and link the way an unkeyed trail would take them, but does not hold the audit
// key, which lives outside the database. Each rewrite is found, at its first bad entry:
// an edited row, a recomputed chain, a renumbered deletion through the key; a truncation
// with the head reset through a checkpoint kept outside the database.
#include <openssl/sha.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "banyan/errors.hpp"
#include "banyan/store/audit_log.hpp"
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

const char* const kAuditKey = "audit1:8Jk2b4m1xQ0n3ZP6yJ0o0Ew9Yk1vJX0c6cWq3mZQe0A=";
const char* const kOtherKey = "audit2:Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXg=";

store::EncryptionKeys key(const char* line) { return store::EncryptionKeys::parse(line); }

std::string sha256_hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// What the tamperer computes for an entry: the unkeyed chain's hash, from the documented
// layout (each part length-prefixed).
std::string forged_hash(const std::string& prev, const store::AuditEntry& e) {
  std::string text;
  auto part = [&](const std::string& v) { text += std::to_string(v.size()) + ":" + v + ";"; };
  part(prev);
  part(std::to_string(e.id));
  part(std::to_string(e.at.time_since_epoch().count()));
  part(std::to_string(e.actor_id.value_or(0)));
  part(e.actor);
  part(e.origin);
  part(e.action);
  part(std::string(to_string(e.object.type)));
  part(std::to_string(e.object.id));
  part(e.changes);
  part(e.detail);
  return sha256_hex(text);
}

std::string sql_text(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

class AuditAnchorTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    reopen(kAuditKey);
  }
  // Reopens the database with an audit key (or none).
  void reopen(const char* audit_key) {
    db_keyed_.reset();
    store::DatabaseOptions options;
    if (audit_key != nullptr) options.audit_key = key(audit_key);
    db_keyed_ = scratch().open(std::move(options));
  }
  store::Database& keyed() { return *db_keyed_; }

  void write_contacts(int n) {
    for (int i = 0; i < n; ++i)
      keyed().transact([&](store::UnitOfWork& uow) {
        stores(keyed()).contacts().create(uow, contact("N" + std::to_string(i), "X"));
      });
  }
  std::vector<store::AuditEntry> entries() {
    return keyed().read([&](store::UnitOfWork& uow) {
      store::AuditQuery q;
      q.limit = 1000;
      return stores(keyed()).audit().query(uow, q);
    });
  }
  store::AuditVerification verify(const std::vector<store::AuditCheckpoint>& anchors = {}) {
    return keyed().read(
        [&](store::UnitOfWork& uow) { return stores(keyed()).audit().verify(uow, anchors); });
  }
  store::AuditCheckpoint checkpoint() {
    return keyed().read(
        [&](store::UnitOfWork& uow) { return stores(keyed()).audit().checkpoint(uow); });
  }

  // The tamperer replaces the entries from `from` on (to the end, or to `to` when given)
  // with `rewritten`'s (ids included), links and hashes each the unkeyed way, and moves the
  // head to the last one when the rewrite reaches the end.
  void rewrite_chain(std::vector<store::AuditEntry> rewritten, std::uint64_t from,
                     std::uint64_t to = 0) {
    std::string prev = from == 1 ? std::string(64, '0') : rewritten[from - 2].hash;
    scratch().raw("DELETE FROM audit_log WHERE id >= " + std::to_string(from) +
                  (to != 0 ? " AND id <= " + std::to_string(to) : std::string()));
    for (auto& e : rewritten) {
      if (e.id < from || (to != 0 && e.id > to)) continue;
      e.hash = forged_hash(prev, e);
      scratch().raw(
          "INSERT INTO audit_log (id, at, actor_id, actor, origin, action, object_type, object_id, "
          "changes, detail, prev_hash, hash) VALUES (" +
          std::to_string(e.id) + ", " + std::to_string(e.at.time_since_epoch().count()) + ", " +
          std::to_string(e.actor_id.value_or(0)) + ", " + sql_text(e.actor) + ", " +
          sql_text(e.origin) + ", " + sql_text(e.action) + ", " +
          sql_text(std::string(to_string(e.object.type))) + ", " + std::to_string(e.object.id) +
          ", " + sql_text(e.changes) + ", " + sql_text(e.detail) + ", " + sql_text(prev) + ", " +
          sql_text(e.hash) + ")");
      prev = e.hash;
    }
    if (to != 0) return;
    scratch().raw("UPDATE audit_head SET last_id = " + std::to_string(rewritten.back().id) +
                  ", last_hash = " + sql_text(rewritten.back().hash) + " WHERE id = 1");
  }

  void TearDown() override {
    db_keyed_.reset();
    StoreTest::TearDown();
  }

 private:
  std::unique_ptr<store::Database> db_keyed_;
};
BANYAN_ON_BOTH_BACKENDS(AuditAnchorTest);

TEST_P(AuditAnchorTest, AKeyedTrailVerifiesAndItsCheckpointsAreSigned) {
  write_contacts(5);
  const auto v = verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 5u);
  EXPECT_EQ(
      keyed().read([&](store::UnitOfWork& uow) { return stores(keyed()).audit().keyed_from(uow); }),
      1u);
  const auto c = checkpoint();
  EXPECT_EQ(c.sequence, 5u);
  EXPECT_EQ(c.hash, entries().back().hash);
  // A line of the anchor file reads back as the same checkpoint, and verifies.
  const auto back = store::AuditCheckpoint::parse(c.line());
  EXPECT_EQ(back.sequence, c.sequence);
  EXPECT_EQ(back.signature, c.signature);
  EXPECT_TRUE(verify({back}).intact);
}

TEST_P(AuditAnchorTest, AnEditedRowIsFoundAtItsEntry) {
  write_contacts(5);
  scratch().raw("UPDATE audit_log SET changes = '{}' WHERE id = 3");
  const auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 3u) << v.problem;
  EXPECT_NE(v.problem.find("changed"), std::string::npos) << v.problem;
}

TEST_P(AuditAnchorTest, ARecomputedChainIsFoundAtTheFirstRewrittenEntry) {
  write_contacts(6);
  auto log = entries();
  ASSERT_EQ(log.size(), 6u);
  log[3].changes = R"({"first_name":[null,"Someone else"]})";  // entry 4
  rewrite_chain(log, 4);
  const auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 4u) << v.problem;
  EXPECT_NE(v.problem.find("audit key"), std::string::npos) << v.problem;
}

TEST_P(AuditAnchorTest, ARenumberedDeletionInTheMiddleIsFoundWhereTheGapWas) {
  write_contacts(7);
  auto log = entries();
  log.erase(log.begin() + 2);  // entry 3 goes; 4..7 become 3..6
  for (std::size_t i = 2; i < log.size(); ++i) log[i].id = i + 1;
  rewrite_chain(log, 3);
  const auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 3u) << v.problem;
}

TEST_P(AuditAnchorTest, ATruncationWithTheHeadResetIsFoundThroughACheckpoint) {
  write_contacts(4);
  const auto early = checkpoint();  // vouches for entry 4
  write_contacts(4);
  const auto late = checkpoint();  // vouches for entry 8
  // Entries 6 to 8 removed and the head set to entry 5, as a tamperer with SQL can.
  const auto log = entries();
  scratch().raw("DELETE FROM audit_log WHERE id > 5");
  scratch().raw("UPDATE audit_head SET last_id = 5, last_hash = " + sql_text(log[4].hash) +
                " WHERE id = 1");
  EXPECT_TRUE(verify().intact)
      << "without an anchor, a clean cut cannot be told from a shorter trail";
  const auto v = verify({early, late});
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 6u) << v.problem;
  EXPECT_NE(v.problem.find("removed"), std::string::npos) << v.problem;
}

TEST_P(AuditAnchorTest, ACheckpointEditedInTheAnchorFileIsRefused) {
  write_contacts(3);
  auto c = checkpoint();
  c.sequence = 2;  // moved back to cover a cut
  c.hash = entries()[1].hash;
  const auto v = verify({c});
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 2u);
  EXPECT_NE(v.problem.find("not signed"), std::string::npos) << v.problem;
}

TEST_P(AuditAnchorTest, AClearedKeyMarkIsFound) {
  write_contacts(3);
  auto log = entries();
  log[0].changes = "{}";
  scratch().raw("UPDATE audit_head SET keyed_from = 0, key_mark = ''");
  rewrite_chain(log, 1);
  const auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 1u);
  EXPECT_NE(v.problem.find("head was altered"), std::string::npos) << v.problem;
}

TEST_P(AuditAnchorTest, AnotherKeyOrNoKeyCannotWriteAKeyedTrail) {
  write_contacts(2);
  // Another key: the database is not opened at all.
  EXPECT_THROW(reopen(kOtherKey), Unavailable);
  // No key: reading works; a write is refused whole, its record included.
  reopen(nullptr);
  EXPECT_THROW(keyed().transact([&](store::UnitOfWork& uow) {
    stores(keyed()).contacts().create(uow, contact("Sneak", "X"));
  }),
               Unavailable);
  EXPECT_EQ(scratch().raw("SELECT COUNT(*) FROM contacts"), "2");
  EXPECT_THROW(verify(), Unavailable);
  EXPECT_THROW(checkpoint(), Unavailable);
  reopen(kAuditKey);
  EXPECT_TRUE(verify().intact);
}

TEST_P(AuditAnchorTest, AnExistingUnkeyedTrailIsKeyedFromItsNextEntry) {
  reopen(nullptr);
  scratch().raw("UPDATE audit_head SET keyed_from = 0, key_mark = ''");  // as before version 15
  write_contacts(3);
  reopen(kAuditKey);
  EXPECT_EQ(
      keyed().read([&](store::UnitOfWork& uow) { return stores(keyed()).audit().keyed_from(uow); }),
      4u);
  write_contacts(2);
  EXPECT_TRUE(verify().intact);
  // An unkeyed entry rewritten with its chain up to the keyed part breaks the first keyed link.
  auto log = entries();
  log[1].changes = "{}";
  rewrite_chain(log, 2, 3);
  const auto v = verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 4u) << v.problem;
}

TEST(AuditAnchorFile, AppendsLinesAndNamesALineThatIsNotACheckpoint) {
  const auto path =
      std::filesystem::temp_directory_path() / ("banyan-anchor-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  store::AuditCheckpoint c;
  c.sequence = 7;
  c.hash = std::string(64, 'a');
  c.at = Timestamp(std::chrono::microseconds(1'700'000'000'000'000));
  c.signature = std::string(64, 'b');
  store::append_audit_anchor(path, c);
  store::append_audit_anchor(path, c);
  const auto read = store::read_audit_anchor(path);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].line(), c.line());
  std::ofstream(path, std::ios::app) << "banyan-audit-checkpoint v1 8 nothex\n";
  try {
    store::read_audit_anchor(path);
    ADD_FAILURE() << "a malformed line was accepted";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(store::read_audit_anchor(path.string() + ".missing"), Unavailable);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace banyan::test
