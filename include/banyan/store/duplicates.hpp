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

namespace detail {
struct DatabaseState;
}

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
  // first loser's that has one.
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

// Obtain from Database::duplicates(); valid while the Database lives. Non-archived
// records only; the match keys are kept in step with every write.
class BANYAN_EXPORT Duplicates {
 public:
  explicit Duplicates(detail::DatabaseState* db) noexcept : db_(db) {}

  // The likely duplicates of one record, most rules matched first, then by id.
  // ValidationError("type") for a type without duplicate detection; NotFound.
  std::vector<DuplicateMatch> of(UnitOfWork& uow, ObjectRef record) const;
  // Every group of two or more records of `type` that share a key, by rule then key.
  std::vector<DuplicateGroup> scan(UnitOfWork& uow, ObjectType type,
                                   std::size_t max_groups = 1000) const;
  // Merges in the caller's unit of work: relations, activities, tags, deals and custom
  // field values of the losers move to the survivor, which takes the chosen values; the
  // losers are archived with merged_into pointing at the survivor. ValidationError for a
  // bad request (type, self-merge, unknown winner field or record), NotFound for a
  // missing record, Conflict for a loser already merged. On any error roll back the unit
  // of work: nothing will have changed.
  MergeResult merge(UnitOfWork& uow, const MergeRequest& request) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
