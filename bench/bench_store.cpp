// Store throughput: insert, get by id, and a filtered page, through Banyan's public API
// and through the raw C APIs (sqlite3, libmariadb prepared statements) doing the same
// statements with the same transaction size (one operation per transaction) and the
// same durability settings (the same database file or server, WAL + synchronous=NORMAL).
#include <mysql.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "banyan/banyan.hpp"

#include <random>

#include "bench_util.hpp"
#include "mysql_scratch.hpp"
#include "store/match_keys.hpp"
#include "store/sql_builder.hpp"
#include "util/encoding.hpp"

namespace {

using banyan::Contact;
using banyan::Id;
using banyan::store::Database;
using banyan::store::Filter;
using banyan::store::UnitOfWork;

constexpr int kSeedRows = 100000;
constexpr const char* kColumns =
    "id, version, owner_id, team_id, created_at, created_by, updated_at, updated_by, "
    "external_id, archived_at, first_name, last_name, email, phone, title";
constexpr int kColumnCount = 15;

std::string sqlite_path() {
  return "/tmp/banyan_bench_store_" + std::to_string(::getpid()) + ".db";
}

struct Target {
  std::string url;
  std::unique_ptr<Database> db;
  std::vector<Id> ids;
  Id tier_field = 0;  // custom fields of the seeded contacts
  Id score_field = 0;
};

// Opens the database through Banyan (which creates the schema) and seeds it; `encrypted`:
// a second database whose sensitive values are encrypted at rest.
Target& target(bool mysql, bool encrypted = false) {
  static Target targets[4];
  Target& t = targets[(mysql ? 1 : 0) + (encrypted ? 2 : 0)];
  if (t.db) return t;
  const std::string suffix = encrypted ? "_enc" : "";
  if (mysql) {
    t.url =
        banyan::bench::fresh_mysql_database("bench_store_" + std::to_string(::getpid()) + suffix);
  } else {
    t.url = "sqlite://" + sqlite_path() + suffix;
  }
  banyan::store::DatabaseOptions o;
  o.pool.min_size = 2;
  o.pool.max_size = 2;
  if (encrypted)
    o.encryption =
        banyan::store::EncryptionKeys::parse(banyan::store::EncryptionKeys::generate_line("bench"));
  t.db = Database::open(t.url, o);
  t.db->transact([&](UnitOfWork& uow) {
    banyan::CustomFieldDefinition tier;
    tier.name = "tier";
    tier.type = banyan::CustomFieldType::kEnum;
    tier.options = {"bronze", "silver", "gold"};
    t.tier_field = t.db->custom_fields().define(uow, tier).id;
    banyan::CustomFieldDefinition score;
    score.name = "score";
    score.type = banyan::CustomFieldType::kNumber;
    t.score_field = t.db->custom_fields().define(uow, score).id;
  });
  static const char* const kTiers[] = {"bronze", "silver", "gold"};
  for (int batch = 0; batch < kSeedRows; batch += 1000) {
    t.db->transact([&](UnitOfWork& uow) {
      for (int i = batch; i < batch + 1000; ++i) {
        Contact c;
        c.first_name = "First" + std::to_string(i);
        c.last_name = "Smith" + std::to_string(i % 1000);
        c.email = "person" + std::to_string(i) + "@example.com";
        c.title = "Engineer";
        c.custom = {{"tier", std::string(kTiers[i % 3])}, {"score", std::int64_t{i % 1000}}};
        t.ids.push_back(t.db->contacts().create(uow, c).id);
      }
    });
  }
  return t;
}

Contact new_contact(int i) {
  Contact c;
  c.first_name = "Bench";
  c.last_name = "Insert" + std::to_string(i);
  c.email = "bench" + std::to_string(i) + "@example.com";
  c.title = "Tester";
  return c;
}

// ---- Banyan ----------------------------------------------------------------------------

void banyan_insert(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    t.db->transact([&](UnitOfWork& uow) { t.db->contacts().create(uow, new_contact(i++)); });
  }
  state.SetItemsProcessed(state.iterations());
}

// The same contacts with encryption at rest: the email sealed (AES-256-GCM) in the row,
// the event and the audit entry, its blind index computed and indexed, its match key an
// HMAC.
void banyan_insert_encrypted(benchmark::State& state, bool mysql) {
  Target& t = target(mysql, true);
  int i = 0;
  for (auto _ : state) {
    t.db->transact([&](UnitOfWork& uow) { t.db->contacts().create(uow, new_contact(i++)); });
  }
  state.SetItemsProcessed(state.iterations());
}

// A contact found by its email (the index on email, or the blind index when encrypted).
void email_lookup(benchmark::State& state, bool mysql, bool encrypted) {
  Target& t = target(mysql, encrypted);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter =
        Filter::eq("email", "person" + std::to_string((i++ * 37) % kSeedRows) + "@example.com");
    r.limit = 10;
    auto page = t.db->contacts().query(uow, r);
    if (page.items.size() != 1)
      throw std::runtime_error("email lookup found " + std::to_string(page.items.size()));
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

// 1,000 contacts with external ids "sync-<n>", as an import made them (made on first use,
// outside the timed loops).
const std::vector<Contact>& synced(bool mysql) {
  static std::vector<Contact> made[2];
  auto& out = made[mysql ? 1 : 0];
  if (!out.empty()) return out;
  Target& t = target(mysql);
  t.db->transact([&](UnitOfWork& uow) {
    for (int i = 0; i < 1000; ++i) {
      Contact c = new_contact(2000000 + i);
      c.external_id = "sync-" + std::to_string(i);
      out.push_back(t.db->contacts().create(uow, c));
    }
  });
  return out;
}

// A sync that finds each record as it is: an upsert of a patch naming every field it sends,
// which must change nothing (and so write nothing).
void banyan_sync_unchanged(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    banyan::Patch<Contact> p;
    p.values = records[i++ % records.size()];
    p.name("first_name").name("last_name").name("email").name("title");
    const auto done =
        t.db->transact([&](UnitOfWork& uow) { return t.db->contacts().upsert(uow, p); });
    if (done.outcome != banyan::WriteOutcome::kUnchanged)
      throw std::runtime_error("the sync changed a record");
  }
  state.SetItemsProcessed(state.iterations());
}

// A change of one field: as a patch, and as the read-modify-write of the whole record that
// the server did before patches.
// Titles never repeat across runs and repetitions, so that every write changes something.
std::size_t next_title() {
  static std::size_t n = 0;
  return n++;
}

void banyan_patch(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  for (auto _ : state) {
    const std::size_t i = next_title();
    banyan::Patch<Contact> p;
    p.values.title = "Title " + std::to_string(i);
    p.name("title");
    const Id id = records[i % records.size()].id;
    const auto done =
        t.db->transact([&](UnitOfWork& uow) { return t.db->contacts().patch(uow, id, p); });
    if (done.outcome != banyan::WriteOutcome::kUpdated)
      throw std::runtime_error("the patch changed nothing");
  }
  state.SetItemsProcessed(state.iterations());
}
void banyan_update(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  for (auto _ : state) {
    const std::size_t i = next_title();
    const Id id = records[i % records.size()].id;
    t.db->transact([&](UnitOfWork& uow) {
      Contact c = t.db->contacts().get(uow, id);
      c.title = "Title " + std::to_string(i);
      if (t.db->contacts().update(uow, c).version == c.version)
        throw std::runtime_error("the update changed nothing");
    });
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_get(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    Contact c = t.db->contacts().get(uow, t.ids[i++ % t.ids.size()]);
    benchmark::DoNotOptimize(c);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_page(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter = Filter::starts_with("last_name", "Smith" + std::to_string(i++ % 100));
    r.sort = {"last_name", false};
    r.limit = 50;
    auto page = t.db->contacts().query(uow, r);
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_custom_page(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter = Filter::eq("custom.tier", "gold") &&
               Filter::ge("custom.score", std::int64_t{(i++ * 37) % 950});
    r.sort = {"custom.score", false};
    r.limit = 50;
    auto page = t.db->contacts().query(uow, r);
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_search(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::SearchRequest r;
    r.query = "smith" + std::to_string(100 + i++ % 900);
    r.limit = 20;
    auto hits = t.db->search().search(uow, r);
    benchmark::DoNotOptimize(hits);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

// The same statements, written out by hand for the raw baselines.
std::string custom_page_sql(bool mysql, const Target& t) {
  const std::string tier = "'$.f" + std::to_string(t.tier_field) + "'";
  const std::string score = "'$.f" + std::to_string(t.score_field) + "'";
  const std::string tier_expr = mysql ? "JSON_VALUE(contacts.custom_fields, " + tier + ")"
                                      : "json_extract(contacts.custom_fields, " + tier + ")";
  const std::string score_expr =
      mysql ? "CAST(JSON_VALUE(contacts.custom_fields, " + score + ") AS SIGNED)"
            : "json_extract(contacts.custom_fields, " + score + ")";
  return std::string("SELECT ") + kColumns +
         " FROM contacts WHERE contacts.archived_at IS NULL AND ((" + tier_expr + " = ?) AND (" +
         score_expr + " >= ?)) ORDER BY " + score_expr +
         " ASC, contacts.id ASC "
         "LIMIT 51";
}

std::string search_sql(bool mysql) {
  return mysql ? "SELECT object_type, object_id, title, MATCH(title) AGAINST (? IN BOOLEAN MODE) "
                 "* 10 + MATCH(title, body) AGAINST (? IN BOOLEAN MODE) AS score FROM "
                 "search_documents WHERE MATCH(title, body) AGAINST (? IN BOOLEAN MODE) ORDER BY "
                 "score DESC, object_id ASC LIMIT 20"
               : "SELECT object_type, object_id, title, -bm25(search_index, 0.0, 0.0, 10.0, 1.0) "
                 "AS score FROM search_index WHERE search_index MATCH ? ORDER BY score DESC, "
                 "object_id ASC LIMIT 20";
}

// The outbox row Banyan writes with every insert: the same work for the raw baselines.
std::string event_payload(long long id, const Contact& c, long long now) {
  nlohmann::json j = {{"id", id},
                      {"version", 1},
                      {"owner_id", nullptr},
                      {"team_id", nullptr},
                      {"created_at", now},
                      {"created_by", nullptr},
                      {"updated_at", now},
                      {"updated_by", nullptr},
                      {"external_id", nullptr},
                      {"archived_at", nullptr},
                      {"first_name", c.first_name},
                      {"last_name", c.last_name},
                      {"email", *c.email},
                      {"phone", nullptr},
                      {"title", *c.title},
                      {"merged_into_id", nullptr},
                      {"custom", nlohmann::json::object()}};
  return j.dump();
}

// The audit entry Banyan appends with every write: the next number, and the SHA-256 over
// the previous hash and the entry's fields, length-prefixed as Banyan does; the changes
// are as large as Banyan's (the record's fields).
struct RawAuditEntry {
  long long id;
  std::string hash;
};
RawAuditEntry next_audit_entry(long long last_id, const std::string& prev, long long now,
                               long long object_id, const std::string& changes) {
  std::string text;
  for (const std::string& part :
       {prev, std::to_string(last_id + 1), std::to_string(now), std::string("0"), std::string(),
        std::string(), std::string("created"), std::string("contact"), std::to_string(object_id),
        changes, std::string()})
    text += std::to_string(part.size()) + ":" + part + ";";
  return {last_id + 1, banyan::util::sha256_hex(text)};
}
constexpr const char* kAuditInsert =
    "INSERT INTO audit_log (id, at, actor_id, actor, origin, action, object_type, object_id, "
    "changes, detail, "
    "prev_hash, hash) VALUES (?, ?, 0, '', '', 'created', 'contact', ?, ?, '', ?, ?)";
constexpr const char* kAuditMove = "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1";

std::string event_id() {
  static std::mt19937_64 rng{42};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

std::string name_key_of(const Contact& c) {
  return banyan::store::detail::soundex(c.first_name) + " " +
         banyan::store::detail::soundex(c.last_name);
}

// ---- raw sqlite3 -----------------------------------------------------------------------

struct RawContact {
  std::array<std::string, kColumnCount> cols;
};

class RawSqlite {
 public:
  RawSqlite() {
    target(false);
    sqlite3_open_v2(sqlite_path().c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA case_sensitive_like=ON");  // as Banyan's connections: LIKE 'x%' can use an index
    sqlite3_busy_timeout(db_, 5000);
    prepare(&insert_,
            "INSERT INTO contacts (version, owner_id, team_id, created_at, created_by, "
            "updated_at, updated_by, external_id, archived_at, first_name, last_name, email, "
            "phone, title) VALUES (1, NULL, NULL, ?, NULL, ?, NULL, NULL, NULL, ?, ?, ?, NULL, ?)");
    prepare(&get_, std::string("SELECT ") + kColumns + " FROM contacts WHERE id = ?");
    prepare(&by_external_,
            std::string("SELECT ") + kColumns + " FROM contacts WHERE external_id = ?");
    prepare(&page_, std::string("SELECT ") + kColumns +
                        " FROM contacts WHERE contacts.archived_at IS NULL AND "
                        "contacts.last_name LIKE ? ESCAPE '!' ORDER BY contacts.last_name ASC, "
                        "contacts.id ASC LIMIT 51");
    prepare(&index_,
            "INSERT INTO search_index (rowid, object_type, object_id, title, body) "
            "VALUES (? * 16 + 4, 'contact', ?, ?, ?)");
    prepare(&keys_,
            "INSERT INTO match_keys (object_type, object_id, rule, match_key) VALUES "
            "('contact', ?, 'email', ?), ('contact', ?, 'name', ?)");
    prepare(&event_,
            "INSERT INTO outbox_events (event_id, event_type, aggregate_type, "
            "aggregate_id, aggregate_version, occurred_at, actor_id, payload) VALUES "
            "(?, 'contact.created', 'contact', ?, 1, ?, NULL, ?)");
    prepare(&custom_page_, custom_page_sql(false, target(false)));
    prepare(&search_, search_sql(false));
    prepare(&head_, "SELECT last_id, last_hash FROM audit_head WHERE id = 1");
    prepare(&audit_, kAuditInsert);
    prepare(&move_, kAuditMove);
    prepare(&begin_, "BEGIN IMMEDIATE");
    prepare(&begin_read_, "BEGIN");
    prepare(&commit_, "COMMIT");
  }
  ~RawSqlite() {
    for (sqlite3_stmt* s : {insert_, index_, keys_, event_, get_, by_external_, page_, custom_page_,
                            search_, begin_, begin_read_, commit_, head_, audit_, move_})
      sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  void step_reset(sqlite3_stmt* s) {
    while (sqlite3_step(s) == SQLITE_ROW) {
    }
    sqlite3_reset(s);
  }
  void insert(int i) {
    step_reset(begin_);
    const Contact c = new_contact(i);
    const long long now = 1790000000000000LL + i;
    sqlite3_bind_int64(insert_, 1, now);
    sqlite3_bind_int64(insert_, 2, now);
    sqlite3_bind_text(insert_, 3, c.first_name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_, 4, c.last_name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_, 5, c.email->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert_, 6, c.title->c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert_) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    sqlite3_reset(insert_);
    // The same index writes as Banyan's: the search document and the match keys.
    const sqlite3_int64 id = sqlite3_last_insert_rowid(db_);
    const std::string title = c.first_name + " " + c.last_name;
    sqlite3_bind_int64(index_, 1, id);
    sqlite3_bind_int64(index_, 2, id);
    sqlite3_bind_text(index_, 3, title.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(index_, 4, c.email->c_str(), -1, SQLITE_TRANSIENT);
    step_reset(index_);
    const std::string name_key = name_key_of(c);
    sqlite3_bind_int64(keys_, 1, id);
    sqlite3_bind_text(keys_, 2, c.email->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(keys_, 3, id);
    sqlite3_bind_text(keys_, 4, name_key.c_str(), -1, SQLITE_TRANSIENT);
    step_reset(keys_);
    const std::string eid = event_id();
    const std::string payload = event_payload(id, c, now);
    sqlite3_bind_text(event_, 1, eid.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(event_, 2, id);
    sqlite3_bind_int64(event_, 3, now);
    sqlite3_bind_text(event_, 4, payload.c_str(), -1, SQLITE_TRANSIENT);
    step_reset(event_);
    // The audit entry, chained to the head.
    if (sqlite3_step(head_) != SQLITE_ROW) throw std::runtime_error("no audit head");
    const long long last = sqlite3_column_int64(head_, 0);
    const std::string prev = reinterpret_cast<const char*>(sqlite3_column_text(head_, 1));
    sqlite3_reset(head_);
    const auto entry = next_audit_entry(last, prev, now, id, payload);
    sqlite3_bind_int64(audit_, 1, entry.id);
    sqlite3_bind_int64(audit_, 2, now);
    sqlite3_bind_int64(audit_, 3, id);
    sqlite3_bind_text(audit_, 4, payload.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(audit_, 5, prev.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(audit_, 6, entry.hash.c_str(), -1, SQLITE_TRANSIENT);
    step_reset(audit_);
    sqlite3_bind_int64(move_, 1, entry.id);
    sqlite3_bind_text(move_, 2, entry.hash.c_str(), -1, SQLITE_TRANSIENT);
    step_reset(move_);
    step_reset(commit_);
  }
  std::vector<RawContact> read(sqlite3_stmt* s) {
    std::vector<RawContact> out;
    while (sqlite3_step(s) == SQLITE_ROW) {
      RawContact r;
      for (int c = 0; c < kColumnCount; ++c) {
        const unsigned char* text = sqlite3_column_text(s, c);
        if (text) r.cols[c] = reinterpret_cast<const char*>(text);
      }
      out.push_back(std::move(r));
    }
    sqlite3_reset(s);
    return out;
  }
  std::vector<RawContact> get(Id id) {
    step_reset(begin_read_);
    sqlite3_bind_int64(get_, 1, static_cast<sqlite3_int64>(id));
    auto rows = read(get_);
    step_reset(commit_);
    return rows;
  }
  // What a sync that changes nothing must at least do: read the record by its external id,
  // in a write transaction as the upsert's.
  std::vector<RawContact> by_external_id(const std::string& external_id) {
    step_reset(begin_);
    sqlite3_bind_text(by_external_, 1, external_id.c_str(), -1, SQLITE_TRANSIENT);
    auto rows = read(by_external_);
    step_reset(commit_);
    return rows;
  }
  std::vector<RawContact> page(const std::string& prefix) {
    step_reset(begin_read_);
    const std::string pattern = prefix + "%";
    sqlite3_bind_text(page_, 1, pattern.c_str(), -1, SQLITE_TRANSIENT);
    auto rows = read(page_);
    step_reset(commit_);
    return rows;
  }
  std::vector<RawContact> custom_page(std::int64_t min_score) {
    step_reset(begin_read_);
    sqlite3_bind_text(custom_page_, 1, "gold", -1, SQLITE_STATIC);
    sqlite3_bind_int64(custom_page_, 2, min_score);
    auto rows = read(custom_page_);
    step_reset(commit_);
    return rows;
  }
  std::vector<RawContact> search(const std::string& word) {
    step_reset(begin_read_);
    const std::string match = "\"" + word + "\"*";
    sqlite3_bind_text(search_, 1, match.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<RawContact> out;
    while (sqlite3_step(search_) == SQLITE_ROW) {
      RawContact r;
      for (int c = 0; c < 4; ++c) {
        const unsigned char* text = sqlite3_column_text(search_, c);
        if (text) r.cols[c] = reinterpret_cast<const char*>(text);
      }
      out.push_back(std::move(r));
    }
    sqlite3_reset(search_);
    step_reset(commit_);
    return out;
  }

 private:
  void exec(const char* sql) { sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  void prepare(sqlite3_stmt** s, const std::string& sql) {
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, s, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt *insert_ = nullptr, *index_ = nullptr, *keys_ = nullptr, *event_ = nullptr,
               *get_ = nullptr, *by_external_ = nullptr, *page_ = nullptr, *custom_page_ = nullptr,
               *search_ = nullptr, *begin_ = nullptr, *begin_read_ = nullptr, *commit_ = nullptr,
               *head_ = nullptr, *audit_ = nullptr, *move_ = nullptr;
};

// ---- raw libmariadb --------------------------------------------------------------------

class RawMariaDb {
 public:
  RawMariaDb() {
    Target& t = target(true);
    std::string rest = t.url.substr(std::strlen("mysql://"));
    std::string user = rest.substr(0, rest.find('@'));
    std::string hostport = rest.substr(rest.find('@') + 1, rest.find('/') - rest.find('@') - 1);
    std::string db = rest.substr(rest.find('/') + 1);
    m_ = mysql_init(nullptr);
    if (!mysql_real_connect(
            m_, hostport.substr(0, hostport.find(':')).c_str(), user.c_str(), nullptr, db.c_str(),
            static_cast<unsigned>(std::stoul(hostport.substr(hostport.find(':') + 1))), nullptr, 0))
      throw std::runtime_error(mysql_error(m_));
    mysql_set_character_set(m_, "utf8mb4");
    insert_ = prepare(
        "INSERT INTO contacts (version, owner_id, team_id, created_at, created_by, updated_at, "
        "updated_by, external_id, archived_at, first_name, last_name, email, phone, title) "
        "VALUES (1, NULL, NULL, ?, NULL, ?, NULL, NULL, NULL, ?, ?, ?, NULL, ?)");
    get_ = prepare(std::string("SELECT ") + kColumns + " FROM contacts WHERE id = ?");
    by_external_ =
        prepare(std::string("SELECT ") + kColumns + " FROM contacts WHERE external_id = ?");
    page_ = prepare(std::string("SELECT ") + kColumns +
                    " FROM contacts WHERE contacts.archived_at IS NULL AND contacts.last_name "
                    "LIKE ? ESCAPE '!' ORDER BY contacts.last_name ASC, contacts.id ASC LIMIT 51");
    index_ = prepare(
        "INSERT INTO search_documents (doc_id, object_type, object_id, title, body) "
        "VALUES (? * 16 + 4, 'contact', ?, ?, ?)");
    keys_ = prepare(
        "INSERT INTO match_keys (object_type, object_id, rule, match_key) VALUES "
        "('contact', ?, 'email', ?), ('contact', ?, 'name', ?)");
    event_ = prepare(
        "INSERT INTO outbox_events (event_id, event_type, aggregate_type, "
        "aggregate_id, aggregate_version, occurred_at, actor_id, payload) VALUES "
        "(?, 'contact.created', 'contact', ?, 1, ?, NULL, ?)");
    custom_page_ = prepare(custom_page_sql(true, t));
    search_ = prepare(search_sql(true));
    audit_ = prepare(kAuditInsert);
    move_ = prepare(kAuditMove);
  }
  ~RawMariaDb() {
    for (MYSQL_STMT* s :
         {insert_, index_, keys_, event_, get_, page_, custom_page_, search_, audit_, move_})
      mysql_stmt_close(s);
    mysql_close(m_);
  }
  void insert(int i) {
    query("BEGIN");
    const Contact c = new_contact(i);
    long long now = 1790000000000000LL + i;
    MYSQL_BIND b[6];
    std::memset(b, 0, sizeof b);
    bind_int(b[0], &now);
    bind_int(b[1], &now);
    bind_text(b[2], c.first_name);
    bind_text(b[3], c.last_name);
    bind_text(b[4], *c.email);
    bind_text(b[5], *c.title);
    if (mysql_stmt_bind_param(insert_, b) || mysql_stmt_execute(insert_))
      throw std::runtime_error(mysql_stmt_error(insert_));
    // The same index writes as Banyan's: the search document and the match keys.
    long long id = static_cast<long long>(mysql_stmt_insert_id(insert_));
    const std::string title = c.first_name + " " + c.last_name;
    const std::string name_key = name_key_of(c);
    MYSQL_BIND ix[4];
    std::memset(ix, 0, sizeof ix);
    bind_int(ix[0], &id);
    bind_int(ix[1], &id);
    bind_text(ix[2], title);
    bind_text(ix[3], *c.email);
    if (mysql_stmt_bind_param(index_, ix) || mysql_stmt_execute(index_))
      throw std::runtime_error(mysql_stmt_error(index_));
    MYSQL_BIND kb[4];
    std::memset(kb, 0, sizeof kb);
    bind_int(kb[0], &id);
    bind_text(kb[1], *c.email);
    bind_int(kb[2], &id);
    bind_text(kb[3], name_key);
    if (mysql_stmt_bind_param(keys_, kb) || mysql_stmt_execute(keys_))
      throw std::runtime_error(mysql_stmt_error(keys_));
    const std::string eid = event_id();
    const std::string payload = event_payload(id, c, now);
    MYSQL_BIND eb[4];
    std::memset(eb, 0, sizeof eb);
    bind_text(eb[0], eid);
    bind_int(eb[1], &id);
    bind_int(eb[2], &now);
    bind_text(eb[3], payload);
    if (mysql_stmt_bind_param(event_, eb) || mysql_stmt_execute(event_))
      throw std::runtime_error(mysql_stmt_error(event_));
    // The audit entry, chained to the head, which is locked for it.
    query("SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE");
    MYSQL_RES* head = mysql_store_result(m_);
    MYSQL_ROW row = head != nullptr ? mysql_fetch_row(head) : nullptr;
    if (row == nullptr) throw std::runtime_error("no audit head");
    const long long last = std::stoll(row[0]);
    const std::string prev = row[1];
    mysql_free_result(head);
    auto entry = next_audit_entry(last, prev, now, id, payload);
    MYSQL_BIND ab[6];
    std::memset(ab, 0, sizeof ab);
    bind_int(ab[0], &entry.id);
    bind_int(ab[1], &now);
    bind_int(ab[2], &id);
    bind_text(ab[3], payload);
    bind_text(ab[4], prev);
    bind_text(ab[5], entry.hash);
    if (mysql_stmt_bind_param(audit_, ab) || mysql_stmt_execute(audit_))
      throw std::runtime_error(mysql_stmt_error(audit_));
    MYSQL_BIND mb[2];
    std::memset(mb, 0, sizeof mb);
    bind_int(mb[0], &entry.id);
    bind_text(mb[1], entry.hash);
    if (mysql_stmt_bind_param(move_, mb) || mysql_stmt_execute(move_))
      throw std::runtime_error(mysql_stmt_error(move_));
    query("COMMIT");
  }
  std::vector<RawContact> get(Id id) {
    query("BEGIN");
    long long v = static_cast<long long>(id);
    MYSQL_BIND b[1];
    std::memset(b, 0, sizeof b);
    bind_int(b[0], &v);
    auto rows = run(get_, b);
    query("COMMIT");
    return rows;
  }
  std::vector<RawContact> by_external_id(const std::string& external_id) {
    query("BEGIN");
    MYSQL_BIND b[1];
    std::memset(b, 0, sizeof b);
    bind_text(b[0], external_id);
    auto rows = run(by_external_, b);
    query("COMMIT");
    return rows;
  }
  std::vector<RawContact> page(const std::string& prefix) {
    query("BEGIN");
    const std::string pattern = prefix + "%";
    MYSQL_BIND b[1];
    std::memset(b, 0, sizeof b);
    bind_text(b[0], pattern);
    auto rows = run(page_, b);
    query("COMMIT");
    return rows;
  }
  std::vector<RawContact> custom_page(std::int64_t min_score) {
    query("BEGIN");
    const std::string gold = "gold";
    long long min = min_score;
    MYSQL_BIND b[2];
    std::memset(b, 0, sizeof b);
    bind_text(b[0], gold);
    bind_int(b[1], &min);
    auto rows = run(custom_page_, b);
    query("COMMIT");
    return rows;
  }
  std::vector<RawContact> search(const std::string& word) {
    query("BEGIN");
    const std::string match = "+" + word + "*";
    MYSQL_BIND b[3];
    std::memset(b, 0, sizeof b);
    for (auto& bind : b) bind_text(bind, match);
    auto rows = run(search_, b, 4);
    query("COMMIT");
    return rows;
  }

 private:
  static void bind_int(MYSQL_BIND& b, long long* v) {
    b.buffer_type = MYSQL_TYPE_LONGLONG;
    b.buffer = v;
  }
  static void bind_text(MYSQL_BIND& b, const std::string& s) {
    b.buffer_type = MYSQL_TYPE_STRING;
    b.buffer = const_cast<char*>(s.data());
    b.buffer_length = s.size();
  }
  void query(const char* sql) {
    if (mysql_query(m_, sql)) throw std::runtime_error(mysql_error(m_));
  }
  MYSQL_STMT* prepare(const std::string& sql) {
    MYSQL_STMT* s = mysql_stmt_init(m_);
    if (mysql_stmt_prepare(s, sql.c_str(), sql.size()))
      throw std::runtime_error(mysql_stmt_error(s));
    return s;
  }
  std::vector<RawContact> run(MYSQL_STMT* s, MYSQL_BIND* params, int columns = kColumnCount) {
    if (mysql_stmt_bind_param(s, params) || mysql_stmt_execute(s))
      throw std::runtime_error(mysql_stmt_error(s));
    std::array<std::array<char, 512>, kColumnCount> buf;
    std::array<unsigned long, kColumnCount> len{};
    std::array<my_bool, kColumnCount> is_null{};
    MYSQL_BIND out[kColumnCount];
    std::memset(out, 0, sizeof out);
    for (int c = 0; c < columns; ++c) {
      out[c].buffer_type = MYSQL_TYPE_STRING;
      out[c].buffer = buf[c].data();
      out[c].buffer_length = buf[c].size();
      out[c].length = &len[c];
      out[c].is_null = &is_null[c];
    }
    mysql_stmt_bind_result(s, out);
    std::vector<RawContact> rows;
    while (mysql_stmt_fetch(s) == 0) {
      RawContact r;
      for (int c = 0; c < columns; ++c)
        if (!is_null[c]) r.cols[c].assign(buf[c].data(), len[c]);
      rows.push_back(std::move(r));
    }
    mysql_stmt_free_result(s);
    return rows;
  }
  MYSQL* m_ = nullptr;
  MYSQL_STMT *insert_ = nullptr, *index_ = nullptr, *keys_ = nullptr, *event_ = nullptr,
             *get_ = nullptr, *by_external_ = nullptr, *page_ = nullptr, *custom_page_ = nullptr,
             *search_ = nullptr, *audit_ = nullptr, *move_ = nullptr;
};

template <typename Raw>
Raw& raw() {
  static Raw r;
  return r;
}

template <typename Raw>
void raw_insert(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 1000000;
  for (auto _ : state) r.insert(i++);
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_get(benchmark::State& state, bool mysql) {
  Raw& r = raw<Raw>();
  const auto& ids = target(mysql).ids;
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.get(ids[i++ % ids.size()]));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_sync_unchanged(benchmark::State& state, bool mysql) {
  Raw& r = raw<Raw>();
  const auto& records = synced(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto rows = r.by_external_id(*records[i++ % records.size()].external_id);
    if (rows.size() != 1) throw std::runtime_error("no record by its external id");
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_page(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.page("Smith" + std::to_string(i++ % 100)));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_custom_page(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.custom_page((i++ * 37) % 950));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_search(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(r.search("smith" + std::to_string(100 + i++ % 900)));
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  const bool have_mysql = !banyan::bench::env_or("BANYAN_TEST_MYSQL_URL", "").empty();
  for (bool mysql : {false, true}) {
    if (mysql && !have_mysql) continue;
    const std::string b = mysql ? "store/mariadb/" : "store/sqlite/";
    benchmark::RegisterBenchmark((b + "insert/banyan").c_str(), banyan_insert, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "insert/raw").c_str(), raw_insert<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "insert/raw").c_str(), raw_insert<RawSqlite>)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "insert/banyan_encrypted").c_str(), banyan_insert_encrypted,
                                 mysql)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "email_lookup/banyan").c_str(), email_lookup, mysql, false)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "email_lookup/banyan_encrypted").c_str(), email_lookup, mysql,
                                 true)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "get/banyan").c_str(), banyan_get, mysql)->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "get/raw").c_str(), raw_get<RawMariaDb>, true)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "get/raw").c_str(), raw_get<RawSqlite>, false)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "sync_unchanged/banyan").c_str(), banyan_sync_unchanged,
                                 mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "sync_unchanged/raw").c_str(),
                                   raw_sync_unchanged<RawMariaDb>, true)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "sync_unchanged/raw").c_str(),
                                   raw_sync_unchanged<RawSqlite>, false)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "patch/banyan").c_str(), banyan_patch, mysql)->UseRealTime();
    benchmark::RegisterBenchmark((b + "patch/banyan_read_modify_write").c_str(), banyan_update,
                                 mysql)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "page/banyan").c_str(), banyan_page, mysql)->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "page/raw").c_str(), raw_page<RawMariaDb>)->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "page/raw").c_str(), raw_page<RawSqlite>)->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "custom_page/banyan").c_str(), banyan_custom_page, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "custom_page/raw").c_str(), raw_custom_page<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "custom_page/raw").c_str(), raw_custom_page<RawSqlite>)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "search/banyan").c_str(), banyan_search, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "search/raw").c_str(), raw_search<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "search/raw").c_str(), raw_search<RawSqlite>)
          ->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  banyan::bench::remove_sqlite_files(sqlite_path());
  banyan::bench::remove_sqlite_files(sqlite_path() + "_enc");
  return 0;
}
