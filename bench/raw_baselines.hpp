// The raw baselines of the store benchmarks: the same work as Banyan's writes and reads
// (the row, its outbox event, its audit entry, its search and match-key rows), written by
// hand against sqlite3 and libmariadb, on the databases of store_targets.hpp.
#pragma once

#include <mysql.h>
#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/match_keys.hpp"
#include "store_targets.hpp"
#include "util/encoding.hpp"

namespace banyan::bench {

// The same statements, written out by hand for the raw baselines.
inline std::string custom_page_sql(bool mysql, const Target& t) {
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

inline std::string search_sql(bool mysql) {
  return mysql ? "SELECT object_type, object_id, title, MATCH(title) AGAINST (? IN BOOLEAN MODE) "
                 "* 10 + MATCH(title, body) AGAINST (? IN BOOLEAN MODE) AS score FROM "
                 "search_documents WHERE MATCH(title, body) AGAINST (? IN BOOLEAN MODE) ORDER BY "
                 "score DESC, object_id ASC LIMIT 20"
               : "SELECT object_type, object_id, title, -bm25(search_index, 0.0, 0.0, 10.0, 1.0) "
                 "AS score FROM search_index WHERE search_index MATCH ? ORDER BY score DESC, "
                 "object_id ASC LIMIT 20";
}

// The outbox row Banyan writes with every insert: the same work for the raw baselines.
inline std::string event_payload(long long id, const Contact& c, long long now) {
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
inline RawAuditEntry next_audit_entry(long long last_id, const std::string& prev, long long now,
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

inline std::string event_id() {
  static std::mt19937_64 rng{42};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

inline std::string name_key_of(const Contact& c) {
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

}  // namespace banyan::bench
