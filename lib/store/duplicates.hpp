// Duplicates: detection and merging of contacts, companies and leads, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/duplicates.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::duplicates(); valid while the Database lives. Non-archived
// records only; the match keys are kept in step with every write.
class Duplicates {
 public:
  explicit Duplicates(detail::DatabaseState* db) noexcept : db_(db) {}

  // The likely duplicates of one record, most rules matched first, then by id.
  // ValidationError("type") for a type without duplicate detection; NotFound.
  std::vector<DuplicateMatch> of(UnitOfWork& uow, ObjectRef record) const;
  // Every group of two or more records of `type` that share a key, by rule then key,
  // from the `skip`th group on.
  std::vector<DuplicateGroup> scan(UnitOfWork& uow, ObjectType type, std::size_t max_groups = 1000,
                                   std::size_t skip = 0) const;
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
