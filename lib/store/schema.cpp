#include "store/schema.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "banyan/errors.hpp"
#include "store/match_keys.hpp"
#include "store/odb/rows.hxx"
#include "store/search_index.hpp"

namespace banyan::store::detail {
namespace {

constexpr int kBaseVersion = 1;

bool schema_table_exists(island::Transaction& tx, island::Backend backend) {
  island::SqlFragment q;
  if (backend == island::Backend::kSqlite) {
    q.text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'banyan_schema'");
  } else {
    q.text(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name = 'banyan_schema'");
  }
  return island::query_int(tx, q) > 0;
}

void write_version(island::Transaction& tx, int version, bool first) {
  odbrows::SchemaRow row;
  row.id = 1;
  row.version = version;
  if (first) {
    island::RowStore<odbrows::SchemaRow>::insert(tx, row);
  } else {
    island::RowStore<odbrows::SchemaRow>::update(tx, row);
  }
}

// MySQL compares text case- and pad-insensitively by default; Banyan's semantics
// (unique keys, filters, keyset order) are byte-exact on both backends.
void use_binary_collation(island::Transaction& tx) {
  try {
    island::execute(tx, "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin");
  } catch (const Error&) {
    island::execute(tx, "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  }
}

// Version 2: deal stage history and lead conversion pointers. Existing deals get their
// current stage as the first history entry, dated at their creation.
void migrate_to_2(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  const std::string id = sqlite ? "INTEGER" : "BIGINT UNSIGNED";
  const std::string time = sqlite ? "INTEGER" : "BIGINT";
  for (const char* column : {"converted_contact_id", "converted_company_id", "converted_deal_id"})
    island::execute(tx, "ALTER TABLE leads ADD COLUMN " + std::string(column) + " " + id + " NULL");
  island::execute(tx, "ALTER TABLE leads ADD COLUMN converted_at " + time + " NULL");
  island::execute(tx, std::string("CREATE TABLE deal_stage_changes (") +
                          (sqlite ? "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
                                  : "id BIGINT UNSIGNED NOT NULL PRIMARY KEY AUTO_INCREMENT") +
                          ", deal_id " + id + " NOT NULL, from_stage_id " + id +
                          " NULL, to_stage_id " + id + " NOT NULL, changed_at " + time +
                          " NOT NULL, changed_by " + id + " NULL, time_in_previous_us " + time +
                          " NULL)" + (sqlite ? "" : " ENGINE=InnoDB"));
  island::execute(tx, "CREATE INDEX deal_stage_changes_deal_ix ON deal_stage_changes (deal_id)");
  island::execute(tx,
                  "INSERT INTO deal_stage_changes (deal_id, from_stage_id, to_stage_id, "
                  "changed_at, changed_by, time_in_previous_us) SELECT id, NULL, stage_id, "
                  "created_at, created_by, NULL FROM deals");
}

// Version 3: custom fields. Every record table gains a JSON column; definitions get a table.
void migrate_to_3(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  for (const char* table : {"users", "teams", "tags", "companies", "contacts", "leads", "pipelines",
                            "stages", "deals", "activities"}) {
    island::execute(tx, std::string("ALTER TABLE ") + table + " ADD COLUMN custom_fields " +
                            (sqlite ? "TEXT" : "MEDIUMTEXT") + " NULL");
  }
  const std::string id = sqlite ? "INTEGER" : "BIGINT UNSIGNED";
  const std::string text = sqlite ? "TEXT" : "VARCHAR(255)";
  const std::string big_text = "TEXT";  // on both backends
  const std::string integer = sqlite ? "INTEGER" : "BIGINT";
  const std::string real = sqlite ? "REAL" : "DOUBLE";
  const std::string boolean = sqlite ? "INTEGER" : "TINYINT(1)";
  island::execute(
      tx, std::string("CREATE TABLE custom_field_definitions (") +
              (sqlite ? "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
                      : "id BIGINT UNSIGNED NOT NULL PRIMARY KEY AUTO_INCREMENT") +
              ", version " + id + " NOT NULL, object_type " + text + " NOT NULL, name " + text +
              " NOT NULL, label " + text + " NOT NULL, type " + text + " NOT NULL, required " +
              boolean + " NOT NULL, default_json " + big_text + " NULL, options_json " + big_text +
              " NULL, min_value " + real + " NULL, max_value " + real + " NULL, max_length " +
              integer + " NULL, scale " + integer + " NOT NULL, deprecated " + boolean +
              " NOT NULL, created_at " + integer + " NOT NULL, updated_at " + integer +
              " NOT NULL)" + (sqlite ? "" : " ENGINE=InnoDB"));
  island::execute(tx,
                  "CREATE UNIQUE INDEX custom_field_definitions_name_uq ON "
                  "custom_field_definitions (object_type, name)");
}

// Version 4: the full-text index, filled from the records already there.
void migrate_to_4(island::Transaction& tx, island::Backend backend) {
  create_search_tables(tx, backend);
  backfill_search_index(tx, backend);
}

// Version 5: duplicate detection keys and merge pointers.
void migrate_to_5(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  const std::string id = sqlite ? "INTEGER" : "BIGINT UNSIGNED";
  for (const char* table : {"contacts", "companies", "leads"})
    island::execute(
        tx, std::string("ALTER TABLE ") + table + " ADD COLUMN merged_into_id " + id + " NULL");
  const std::string text = sqlite ? "TEXT" : "VARCHAR(255)";
  island::execute(tx, std::string("CREATE TABLE match_keys (") +
                          (sqlite ? "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
                                  : "id BIGINT UNSIGNED NOT NULL PRIMARY KEY AUTO_INCREMENT") +
                          ", object_type " + text + " NOT NULL, object_id " + id +
                          " NOT NULL, rule " + text + " NOT NULL, match_key " + text +
                          " NOT NULL)" + (sqlite ? "" : " ENGINE=InnoDB"));
  island::execute(tx,
                  "CREATE INDEX match_keys_lookup_ix ON match_keys (object_type, rule, match_key)");
  island::execute(tx, "CREATE INDEX match_keys_record_ix ON match_keys (object_type, object_id)");
  // The keys of existing records are computed after the last migration (ensure_schema):
  // that reads the rows as rows.hxx has them now, columns of later versions included.
}

// Version 6: the transactional outbox.
void migrate_to_6(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  const std::string id = sqlite ? "INTEGER" : "BIGINT UNSIGNED";
  const std::string text = sqlite ? "TEXT" : "VARCHAR(255)";
  island::execute(tx, std::string("CREATE TABLE outbox_events (") +
                          (sqlite ? "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT"
                                  : "id BIGINT UNSIGNED NOT NULL PRIMARY KEY AUTO_INCREMENT") +
                          ", event_id " + text + " NOT NULL, event_type " + text +
                          " NOT NULL, aggregate_type " + text + " NOT NULL, aggregate_id " + id +
                          " NOT NULL, aggregate_version " + id + " NOT NULL, occurred_at " +
                          (sqlite ? "INTEGER" : "BIGINT") + " NOT NULL, actor_id " + id +
                          " NULL, payload " + (sqlite ? "TEXT" : "MEDIUMTEXT") + " NOT NULL)" +
                          (sqlite ? "" : " ENGINE=InnoDB"));
  island::execute(tx,
                  "CREATE INDEX outbox_events_aggregate_ix ON outbox_events (aggregate_type, "
                  "aggregate_id)");
}

// Version 7: reliable messaging (the messaging and saga parts make their tables). Events
// already in the outbox stay pending, so the first relay publishes them: an event is never
// lost, even one written before messaging existed.
void migrate_to_7(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  island::execute(tx, std::string("ALTER TABLE outbox_events ADD COLUMN relayed_at ") +
                          (sqlite ? "INTEGER" : "BIGINT") + " NULL");
  island::execute(tx, "CREATE INDEX outbox_events_pending_ix ON outbox_events (relayed_at, id)");
}

// Version 8: responses kept by idempotency key (store::RequestLog).
void create_request_tables(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  island::execute(
      tx, std::string("CREATE TABLE idempotency_keys (idem_key ") +
              (sqlite ? "TEXT" : "VARCHAR(255)") + " NOT NULL PRIMARY KEY, fingerprint " +
              (sqlite ? "TEXT" : "VARCHAR(64)") +
              " NOT NULL, status INTEGER NOT NULL, headers TEXT NOT NULL, body " +
              (sqlite ? "TEXT" : "MEDIUMTEXT") + " NOT NULL, created_at " +
              (sqlite ? "INTEGER" : "BIGINT") + " NOT NULL)" + (sqlite ? "" : " ENGINE=InnoDB"));
  island::execute(tx, "CREATE INDEX idempotency_keys_created_ix ON idempotency_keys (created_at)");
}

void migrate_to_8(island::Transaction& tx, island::Backend backend) {
  create_request_tables(tx, backend);
}

// Version 10: custom fields can be marked sensitive (masked like email and phone).
void migrate_to_10(island::Transaction& tx, island::Backend backend) {
  island::execute(tx, std::string("ALTER TABLE custom_field_definitions ADD COLUMN is_sensitive ") +
                          (backend == island::Backend::kSqlite ? "INTEGER" : "TINYINT(1)") +
                          " NOT NULL DEFAULT 0");
}

// Version 12: the audit trail (store/audit.hpp). Entries are numbered 1, 2, 3, ... with
// no gaps, each carrying the hash of the one before; the head row holds the last number
// and hash, and is the lock that keeps appends in order.
void create_audit_tables(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  const std::string hash = backend == island::Backend::kSqlite ? "TEXT" : "CHAR(64)";
  island::execute(tx, "CREATE TABLE audit_log (id " + c.id + " NOT NULL PRIMARY KEY, at " + c.time +
                          " NOT NULL, actor_id " + c.id + " NOT NULL, actor " + c.text +
                          " NOT NULL, origin " + c.text + " NOT NULL, action " + c.key +
                          " NOT NULL, object_type " + c.key + " NOT NULL, object_id " + c.id +
                          " NOT NULL, changes " + c.payload +
                          " NOT NULL, detail TEXT NOT NULL, prev_hash " + hash +
                          " NOT NULL, hash " + hash + " NOT NULL)" + c.engine);
  island::execute(tx, "CREATE INDEX audit_log_object_ix ON audit_log (object_type, object_id, id)");
  island::execute(tx, "CREATE INDEX audit_log_actor_ix ON audit_log (actor_id, id)");
  island::execute(tx, "CREATE INDEX audit_log_at_ix ON audit_log (at)");
  island::execute(tx, "CREATE TABLE audit_head (id " + c.id + " NOT NULL PRIMARY KEY, last_id " +
                          c.id + " NOT NULL, last_hash " + hash + " NOT NULL)" + c.engine);
  island::execute(tx, "INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '" +
                          std::string(64, '0') + "')");
}

void migrate_to_12(island::Transaction& tx, island::Backend backend) {
  create_audit_tables(tx, backend);
}

// Version 13: encryption at rest (store/field_cipher.hpp). The ids of the keys that have
// sealed values here, each with a fingerprint that tells the key without revealing it.
void create_encryption_tables(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx, "CREATE TABLE encryption_keys (key_id " + c.key +
                          " NOT NULL PRIMARY KEY, fingerprint " + c.text +
                          " NOT NULL, created_at " + c.time + " NOT NULL)" + c.engine);
}

// Sealed values are longer than the values (so wider columns on MySQL) and emails get a
// blind index column.
void migrate_to_13(island::Transaction& tx, island::Backend backend) {
  for (const std::string table : {"contacts", "leads"}) {
    if (backend == island::Backend::kMysql) {
      island::execute(tx, "ALTER TABLE " + table +
                              " MODIFY email VARCHAR(512) NULL, MODIFY phone VARCHAR(512) NULL, "
                              "ADD COLUMN email_index VARCHAR(64) NULL");
    } else {
      island::execute(tx, "ALTER TABLE " + table + " ADD COLUMN email_index TEXT NULL");
    }
    std::string index = "CREATE INDEX ";
    index.append(table).append("_email_index_ix ON ").append(table).append(" (email_index)");
    island::execute(tx, index);
  }
  create_encryption_tables(tx, backend);
}

// Version 14: stage kinds and deals' close times. Each pipeline's won and lost stages
// are told the way its stages were named before kinds existed: the highest-probability
// stage named like "won" or at 100% becomes won, the last stage at 0% named like "lost"
// becomes lost. A pipeline where one cannot be told takes no new deals or moves until an
// administrator sets the kinds. Deals already won or lost take their last update as their
// close time. Deals themselves do not move: a status and stage that disagreed stay so
// until the deal next changes stage or status.
void migrate_to_14(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx, "ALTER TABLE stages ADD COLUMN kind " + c.text + " NOT NULL DEFAULT 'open'");
  island::execute(tx, "ALTER TABLE deals ADD COLUMN closed_at " + c.time + " NULL");
  struct StageSeen {
    std::uint64_t id, pipeline;
    std::string name;
    std::int64_t probability, position;
  };
  std::map<std::uint64_t, std::vector<StageSeen>> by_pipeline;
  island::SqlFragment q;
  q.text("SELECT id, pipeline_id, name, win_probability, position FROM stages ORDER BY id");
  const auto cells = island::query_text(tx, q, 5);
  for (std::size_t i = 0; i + 5 <= cells.size(); i += 5) {
    StageSeen st{std::stoull(cells[i].text), std::stoull(cells[i + 1].text), cells[i + 2].text,
                 std::stoll(cells[i + 3].text), std::stoll(cells[i + 4].text)};
    for (auto& ch : st.name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    by_pipeline[st.pipeline].push_back(std::move(st));
  }
  auto set_kind = [&](std::uint64_t id, const char* kind) {
    island::execute(tx, "UPDATE stages SET kind = '" + std::string(kind) +
                            "' WHERE id = " + std::to_string(id));
  };
  for (const auto& [pipeline, stages] : by_pipeline) {
    const StageSeen* won = nullptr;
    const StageSeen* lost = nullptr;
    for (const auto& st : stages) {
      if ((st.name.find("won") != std::string::npos || st.probability == 100) &&
          (won == nullptr || st.probability > won->probability ||
           (st.probability == won->probability && st.position > won->position)))
        won = &st;
    }
    for (const auto& st : stages) {
      if (&st != won && st.probability == 0 && st.name.find("lost") != std::string::npos &&
          (lost == nullptr || st.position > lost->position))
        lost = &st;
    }
    if (won != nullptr) set_kind(won->id, "won");
    if (lost != nullptr) set_kind(lost->id, "lost");
  }
  island::execute(tx, "UPDATE deals SET closed_at = updated_at WHERE status IN ('won', 'lost')");
}

// Version 15: a keyed audit trail (store/audit.hpp). The head notes from which entry on
// the chain is an HMAC under the audit key (0: not keyed), with a mark only that key makes.
void add_audit_key_columns(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx,
                  "ALTER TABLE audit_head ADD COLUMN keyed_from " + c.id + " NOT NULL DEFAULT 0");
  island::execute(tx,
                  "ALTER TABLE audit_head ADD COLUMN key_mark " + c.text + " NOT NULL DEFAULT ''");
}

// Also version 15: a key that a complete rewrap left sealing nothing is retired, and only
// then may the ring drop it (store/database.cpp).
void add_key_retirement(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx, "ALTER TABLE encryption_keys ADD COLUMN retired_at " + c.time + " NULL");
}

void migrate_to_15(island::Transaction& tx, island::Backend backend) {
  add_audit_key_columns(tx, backend);
  add_key_retirement(tx, backend);
}

// Version 16: the one row Database::probe() writes, so a readiness check learns whether
// the database takes writes (a full disk refuses them) without touching a real table.
void create_health_probe(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx, "CREATE TABLE health_probe (id " + c.id +
                          " NOT NULL PRIMARY KEY, probed_at " + c.time + " NOT NULL)" + c.engine);
  island::execute(tx, "INSERT INTO health_probe (id, probed_at) VALUES (1, 0)");
}

// Version 18: a lead's job title (Lead::title), the first standard field added through
// its descriptor line (banyan/model/fields.hpp).
void add_lead_title(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  island::execute(tx, "ALTER TABLE leads ADD COLUMN title " + c.text + " NULL");
}

// Version 20: contact points. The lookup keys of every record's emails and addresses,
// which the `email`, `city` and `country` filters read (store/contact_points.hpp).
void create_point_keys(island::Transaction& tx, island::Backend backend) {
  const ColumnTypes c(backend);
  const bool sqlite = backend == island::Backend::kSqlite;
  island::execute(tx, "CREATE TABLE record_points (" + c.pk + ", object_type " +
                          (sqlite ? "TEXT" : "VARCHAR(32)") + " NOT NULL, object_id " + c.id +
                          " NOT NULL, kind " + (sqlite ? "TEXT" : "VARCHAR(16)") +
                          " NOT NULL, point_key " + c.text + " NOT NULL)" + c.engine);
  island::execute(
      tx, "CREATE INDEX record_points_lookup_ix ON record_points (object_type, kind, point_key)");
  island::execute(tx,
                  "CREATE INDEX record_points_record_ix ON record_points (object_type, object_id)");
}

// Also version 20: the lists' columns, and the keys of the emails records already have (a
// sealed email's key is its blind index, which email_index holds).
void migrate_to_20(island::Transaction& tx, island::Backend backend) {
  const std::string list = backend == island::Backend::kSqlite ? "TEXT" : "MEDIUMTEXT";
  for (const char* table : {"contacts", "leads", "companies"})
    for (const char* column : {"emails", "phones", "addresses"})
      island::execute(
          tx, std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + list + " NULL");
  create_point_keys(tx, backend);
  for (const auto& [type, table] : {std::pair{"contact", "contacts"}, std::pair{"lead", "leads"}})
    island::execute(tx, std::string("INSERT INTO record_points (object_type, object_id, kind, "
                                    "point_key) SELECT '") +
                            type + "', id, 'email', COALESCE(email_index, email) FROM " + table +
                            " WHERE email IS NOT NULL");
  // Phones are keyed only where they are plain (sealed ones are not filtered on).
  for (const auto& [type, table] : {std::pair{"contact", "contacts"}, std::pair{"lead", "leads"},
                                    std::pair{"company", "companies"}})
    island::execute(tx, std::string("INSERT INTO record_points (object_type, object_id, kind, "
                                    "point_key) SELECT '") +
                            type + "', id, 'phone', phone FROM " + table +
                            " WHERE phone IS NOT NULL AND phone NOT LIKE 'enc1:%'");
}

// The store's own part: the tables beside its ODB objects, and its steps.
SchemaPart store_part() {
  SchemaPart part;
  part.owner = "store";
  part.create = [](island::Transaction& tx, island::Backend backend) {
    create_search_tables(tx, backend);
    create_request_tables(tx, backend);
    create_audit_tables(tx, backend);
    add_audit_key_columns(tx, backend);
    create_encryption_tables(tx, backend);
    add_key_retirement(tx, backend);
    create_health_probe(tx, backend);
    create_point_keys(tx, backend);
  };
  part.migrations = {{2, migrate_to_2},         {3, migrate_to_3},    {4, migrate_to_4},
                     {5, migrate_to_5},         {6, migrate_to_6},    {7, migrate_to_7},
                     {8, migrate_to_8},         {10, migrate_to_10},  {12, migrate_to_12},
                     {13, migrate_to_13},       {14, migrate_to_14},  {15, migrate_to_15},
                     {16, create_health_probe}, {18, add_lead_title}, {20, migrate_to_20}};
  return part;
}

}  // namespace

std::vector<SchemaPart>& schema_parts() {
  static std::vector<SchemaPart> parts = [] {
    std::vector<SchemaPart> all{store_part()};
    for (auto& part : upper_schema_parts()) all.push_back(std::move(part));
    return all;  // checked where it is used, by ensure_schema (tests may add parts)
  }();
  return parts;
}

int current_schema_version() {
  int version = kBaseVersion;
  for (const SchemaPart& part : schema_parts())
    for (const Migration& m : part.migrations) version = std::max(version, m.to);
  return version;
}

void check_schema_parts(const std::vector<SchemaPart>& parts) {
  std::set<int> versions;
  for (const SchemaPart& part : parts) {
    int last = kBaseVersion;
    for (const Migration& m : part.migrations) {
      if (m.to <= last)
        throw std::logic_error("schema part " + part.owner + ": step to version " +
                               std::to_string(m.to) + " does not go forward");
      if (!m.apply)
        throw std::logic_error("schema part " + part.owner + ": step to version " +
                               std::to_string(m.to) + " does nothing");
      last = m.to;
      versions.insert(m.to);
    }
  }
  for (int v = kBaseVersion + 1; !versions.empty() && v <= *versions.rbegin(); ++v)
    if (versions.count(v) == 0)
      throw std::logic_error("no schema part has a step to version " + std::to_string(v));
}

namespace {

int ensure_schema_once(DatabaseState& state, bool migrate) {
  island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadWrite);
  const bool mysql = state.backend == island::Backend::kMysql;
  const std::vector<SchemaPart>& parts = schema_parts();
  check_schema_parts(parts);
  const int target = current_schema_version();
  int version = 0;
  if (!schema_table_exists(*tx, state.backend)) {
    if (!migrate) throw Unavailable("the database has no Banyan schema and migrate is off");
    if (mysql) use_binary_collation(*tx);
    // ODB creates the schema of rows.hxx as it is now: the latest version; the tables ODB
    // does not manage (the full-text index) come next.
    island::create_schema(*tx);
    for (const SchemaPart& part : parts)
      if (part.create) part.create(*tx, state.backend);
    version = target;
    write_version(*tx, version, true);
  } else {
    auto row = island::RowStore<odbrows::SchemaRow>::find(*tx, 1);
    version = row ? static_cast<int>(row->version) : 0;
    if (version > target) {
      throw Unavailable("the database schema is version " + std::to_string(version) +
                        ", newer than this Banyan understands (up to " + std::to_string(target) +
                        "); upgrade Banyan to open it");
    }
    if (version < kBaseVersion) throw Unavailable("the banyan_schema table is damaged");
    if (version < target && !migrate) {
      throw Unavailable("the database schema is version " + std::to_string(version) +
                        " and needs migrating to " + std::to_string(target) +
                        ", but migrate is off");
    }
  }
  const int from = version;
  for (int next = version + 1; next <= target; ++next) {
    for (const SchemaPart& part : parts)
      for (const Migration& m : part.migrations)
        if (m.to == next) m.apply(*tx, state.backend);
    version = next;
    write_version(*tx, version, false);
    state.report(LogEvent(LogLevel::kInfo, "schema_migrated")
                     .with("message", "migrated the schema to version " + std::to_string(version))
                     .with("version", std::int64_t{version}));
  }
  if (from < 5) backfill_match_keys(*tx);  // see migrate_to_5
  island::commit(*tx);
  return version;
}

}  // namespace

int ensure_schema(DatabaseState& state, bool migrate) {
  // SQLite serialises this through its write lock. On MySQL, DDL commits as it goes, so
  // two processes creating one new database can collide (the loser sees "table exists"
  // or a half-made schema): the loser waits for the winner and looks again.
  for (int attempt = 1;; ++attempt) {
    try {
      return ensure_schema_once(state, migrate);
    } catch (const Error& e) {
      const bool retryable =
          state.backend == island::Backend::kMysql && e.code() == ErrorCode::kConflict;
      if (!retryable || attempt >= 10) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }
}

}  // namespace banyan::store::detail
