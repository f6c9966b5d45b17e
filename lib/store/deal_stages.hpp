// DealStages: stage history, reopening and pipeline summaries, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/deal_stages.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::deal_stages(); valid while the Database lives.
class DealStages {
 public:
  explicit DealStages(detail::DatabaseState* db) noexcept : db_(db) {}

  // Oldest first. NotFound if there is no such deal.
  std::vector<StageChange> history(UnitOfWork& uow, Id deal_id) const;
  // Reopens a won or lost deal: open again, its close time cleared, in `stage_id` (an
  // open stage of its pipeline, else ValidationError "stage_id") or, when none is given,
  // in the open stage it left when it closed (else its pipeline's last open stage). The
  // change is the event deal.reopened (and deal.stage_changed) and the audit action
  // "reopened". NotFound; Conflict("status") for an open deal; Conflict("version") when
  // `expected_version` is given and stale.
  Deal reopen(UnitOfWork& uow, Id deal_id, std::optional<Id> stage_id = std::nullopt,
              std::optional<std::uint64_t> expected_version = std::nullopt) const;
  // Non-archived deals of the pipeline, optionally only those with `status`, of those
  // `counted`. NotFound if there is no such pipeline.
  PipelineSummary summary(UnitOfWork& uow, Id pipeline_id,
                          std::optional<DealStatus> status = std::nullopt,
                          const CountedDeals& counted = {}) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
