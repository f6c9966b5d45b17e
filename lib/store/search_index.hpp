// The full-text index: one document per searchable record, kept in step by the
// repositories inside the writing transaction (SQLite FTS5, MariaDB InnoDB FULLTEXT).
#pragma once

#include <optional>
#include <string>

#include "banyan/model/record.hpp"
#include "store/odb/island.hpp"
#include "store/odb/rows.hxx"

namespace banyan::store::detail {

struct SearchDocument {
  std::string title;
  std::string body;
};

// The documents of searchable records (defined in entity.cpp, beside the mappings; the
// SQL in search_index.cpp's backfill mirrors them).
template <typename T>
inline constexpr bool kSearchable =
    T::kType == ObjectType::kContact || T::kType == ObjectType::kLead ||
    T::kType == ObjectType::kCompany || T::kType == ObjectType::kDeal ||
    T::kType == ObjectType::kActivity;
// `with_sensitive`: whether the email goes in (not when it is encrypted at rest).
std::optional<SearchDocument> search_document(const odbrows::ContactRow& row,
                                              bool with_sensitive = true);
std::optional<SearchDocument> search_document(const odbrows::LeadRow& row,
                                              bool with_sensitive = true);
std::optional<SearchDocument> search_document(const odbrows::CompanyRow& row);
std::optional<SearchDocument> search_document(const odbrows::DealRow& row);
std::optional<SearchDocument> search_document(const odbrows::ActivityRow& row);

// Creates the index tables (new databases and the migration to version 4).
void create_search_tables(island::Transaction& tx, island::Backend backend);
// Indexes every non-archived searchable record (the migration to version 4).
void backfill_search_index(island::Transaction& tx, island::Backend backend);

// Replaces the record's document, or removes it when `doc` is empty. `fresh`: the record
// was just created, so there is no old document to remove.
void index_record(island::Transaction& tx, island::Backend backend, ObjectRef record,
                  const std::optional<SearchDocument>& doc, bool fresh = false);

}  // namespace banyan::store::detail
