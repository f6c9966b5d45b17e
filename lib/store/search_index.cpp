#include "store/search_index.hpp"

#include <string>

#include "store/sql_builder.hpp"

namespace banyan::store::detail {
namespace {

// One id per document: the record's id and its type in the low four bits.
std::int64_t doc_id(ObjectRef r) {
  return static_cast<std::int64_t>(r.id) * 16 + static_cast<std::int64_t>(r.type);
}

struct Source {
  ObjectType type;
  const char* table;
  const char* sqlite_title;
  const char* sqlite_body;
  const char* mysql_title;
  const char* mysql_body;
  const char* where;
};

// What each searchable type puts in its document; mirrors Entity<T>::search_document().
constexpr Source kSources[] = {
    {ObjectType::kContact, "contacts", "first_name || ' ' || last_name", "COALESCE(email, '')",
     "CONCAT_WS(' ', first_name, last_name)", "COALESCE(email, '')", ""},
    {ObjectType::kLead, "leads", "first_name || ' ' || last_name",
     "COALESCE(email, '') || ' ' || COALESCE(company_name, '')",
     "CONCAT_WS(' ', first_name, last_name)", "CONCAT_WS(' ', email, company_name)", ""},
    {ObjectType::kCompany, "companies", "name", "COALESCE(domain, '')", "name",
     "COALESCE(domain, '')", ""},
    {ObjectType::kDeal, "deals", "title", "''", "title", "''", ""},
    {ObjectType::kActivity, "activities", "subject", "COALESCE(body, '')", "subject",
     "COALESCE(body, '')", " AND kind = 'note'"},
};

}  // namespace

void create_search_tables(island::Transaction& tx, island::Backend backend) {
  if (backend == island::Backend::kSqlite) {
    island::execute(
        tx,
        "CREATE VIRTUAL TABLE search_index USING fts5(object_type UNINDEXED, "
        "object_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')");
  } else {
    island::execute(tx,
                    // Searching ignores case: unlike the rest of Banyan's text, this table
                    // uses a case-insensitive collation (a binary one would make FULLTEXT
                    // case-sensitive).
                    "CREATE TABLE search_documents (doc_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, "
                    "object_type VARCHAR(32) NOT NULL, object_id BIGINT UNSIGNED NOT NULL, "
                    "title VARCHAR(600) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL, "
                    "body MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL, "
                    "FULLTEXT KEY search_documents_title_ft (title), "
                    "FULLTEXT KEY search_documents_all_ft (title, body)) ENGINE=InnoDB");
  }
}

namespace {

// The statement that indexes every live record of one source.
std::string backfill_statement(const Source& s, bool sqlite) {
  const std::string type = std::to_string(static_cast<int>(s.type));
  const std::string name(to_string(s.type));
  return std::string(sqlite ? "INSERT INTO search_index (rowid, object_type, object_id, "
                              "title, body) "
                            : "INSERT INTO search_documents (doc_id, object_type, "
                              "object_id, title, body) ") +
         "SELECT id * 16 + " + type + ", '" + name + "', id, " +
         (sqlite ? s.sqlite_title : s.mysql_title) + ", " +
         (sqlite ? s.sqlite_body : s.mysql_body) + " FROM " + s.table +
         " WHERE archived_at IS NULL" + s.where;
}

}  // namespace

void backfill_search_index(island::Transaction& tx, island::Backend backend) {
  const bool sqlite = backend == island::Backend::kSqlite;
  for (const Source& s : kSources) island::execute(tx, backfill_statement(s, sqlite));
}

void index_record(island::Transaction& tx, island::Backend backend, ObjectRef record,
                  const std::optional<SearchDocument>& doc, bool fresh) {
  // Values are parameters, so each statement's text repeats and its prepared form is reused.
  const bool sqlite = backend == island::Backend::kSqlite;
  const auto id = static_cast<std::int64_t>(doc_id(record));
  if (!fresh) {
    island::SqlFragment del;
    del.text(sqlite ? "DELETE FROM search_index WHERE rowid = "
                    : "DELETE FROM search_documents WHERE doc_id = ");
    del.param(int_param(id));
    island::execute(tx, del);
  }
  if (!doc) return;
  island::SqlFragment insert;
  insert.text(sqlite ? "INSERT INTO search_index (rowid, object_type, object_id, title, body) "
                     : "INSERT INTO search_documents (doc_id, object_type, object_id, title, "
                       "body) ");
  insert.text("VALUES (");
  insert.param(int_param(id));
  insert.text(", ");
  insert.param(text_param(std::string(to_string(record.type))));
  insert.text(", ");
  insert.param(int_param(static_cast<std::int64_t>(record.id)));
  insert.text(", ");
  insert.param(text_param(doc->title));
  insert.text(", ");
  insert.param(text_param(doc->body));
  insert.text(")");
  island::execute(tx, insert);
}

}  // namespace banyan::store::detail
