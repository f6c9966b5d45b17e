// Match keys for duplicate detection, kept in the match_keys table in step with writes.
#pragma once

#include <string>
#include <vector>

#include "banyan/model/record.hpp"
#include "store/duplicates.hpp"
#include "store/odb/island.hpp"
#include "store/odb/rows.hxx"

namespace banyan::store::detail {

template <typename T>
inline constexpr bool kDeduplicated =
    T::kType == ObjectType::kContact || T::kType == ObjectType::kCompany ||
    T::kType == ObjectType::kLead;

struct MatchKey {
  DuplicateRule rule;
  std::string key;
};

std::vector<MatchKey> match_keys(const odbrows::ContactRow& row);
std::vector<MatchKey> match_keys(const odbrows::LeadRow& row);
std::vector<MatchKey> match_keys(const odbrows::CompanyRow& row);

// Replaces a record's keys (none for an archived record). `fresh`: the record was just
// created, so it has no keys yet.
void store_match_keys(island::Transaction& tx, ObjectRef record, const std::vector<MatchKey>& keys,
                      bool fresh = false);
// Computes the keys of every non-archived contact, company and lead (migration to 5).
void backfill_match_keys(island::Transaction& tx);

// The building blocks, exposed for unit tests.
std::string fold_to_ascii_lower(std::string_view utf8);
std::string soundex(std::string_view word);
std::string phone_digits(std::string_view phone);
std::string company_name_key(std::string_view name);

}  // namespace banyan::store::detail
