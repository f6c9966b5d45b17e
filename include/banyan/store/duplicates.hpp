// Duplicate detection and merging of contacts, companies and leads.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

// Why two records look like the same person or organisation.
enum class DuplicateRule {
  kEmail,   // the same email address, ignoring case (contacts, leads)
  kPhone,   // the same phone number once reduced to its digits (all three types)
  kDomain,  // the same web domain, ignoring case and a leading "www." (companies)
  kName,    // names that sound alike: Soundex of first and last name (contacts, leads), or
            // the company name without case, punctuation and legal suffixes (Inc, Ltd, ...)
};
BANYAN_EXPORT std::string_view to_string(DuplicateRule rule) noexcept;

struct BANYAN_EXPORT DuplicateMatch {
  Id id = 0;
  std::vector<DuplicateRule> rules;  // every rule that matched, in enum order
};

struct BANYAN_EXPORT DuplicateGroup {
  DuplicateRule rule;
  std::vector<Id> ids;  // two or more records, ascending
};

struct BANYAN_EXPORT MergeRequest {
  ObjectType type = ObjectType::kContact;  // contact, company or lead
  Id survivor = 0;
  std::vector<Id> losers;  // one or more; neither the survivor nor repeated
  // Per field, the record (survivor or a loser) whose value the survivor keeps: standard
  // fields by name ("email", "phone", "owner_id", ...), custom fields as "custom.<name>".
  // A field not named keeps the survivor's value, or, where the survivor has none, the
  // first loser's that has one; lists (emails, phones, addresses) also gather the losers'
  // entries the survivor lacks, as secondary ones.
  std::map<std::string, Id> winners;
  // Per loser, fields (as in `winners`) the survivor may not take from it, blank or not:
  // Engine::merge lists there what its caller cannot see, so a merge never copies a
  // hidden value into a record where the caller could read it.
  std::map<Id, std::vector<std::string>> withheld;
};

struct BANYAN_EXPORT MergeResult {
  Id survivor = 0;
  std::vector<Id> merged;  // the losers, now archived with merged_into = survivor
};

}  // namespace banyan::store
