// Deal stage history and pipeline summaries.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// One entry of a deal's stage history. Written by Repository<Deal> in the same unit of
// work as the change: on create (no from_stage_id) and on every update that moves the
// deal to another stage.
struct BANYAN_EXPORT StageChange {
  Id deal_id = 0;
  std::optional<Id> from_stage_id;
  Id to_stage_id = 0;
  Timestamp changed_at{};
  std::optional<Id> changed_by;
  // How long the deal sat in from_stage_id; empty for the first entry.
  std::optional<std::chrono::microseconds> time_in_previous_stage;

  friend bool operator==(const StageChange&, const StageChange&) = default;
};

// Deals in one stage. Amounts are per currency (one Money per currency present, in
// currency order); weighted amounts are amount x the stage's win probability / 100,
// rounded toward zero.
struct BANYAN_EXPORT StageSummary {
  Stage stage;
  std::uint64_t deals = 0;
  std::vector<Money> amount;
  std::vector<Money> weighted_amount;
};

struct BANYAN_EXPORT PipelineSummary {
  Pipeline pipeline;
  std::vector<StageSummary> stages;  // in stage position order, empty stages included
  std::uint64_t deals = 0;
  std::vector<Money> amount;
  std::vector<Money> weighted_amount;
};

// Which deals a summary counts: every one, or those owned by `owner_id` or assigned to one
// of `team_ids` (neither: none). The service layer passes the caller's read scope.
struct BANYAN_EXPORT CountedDeals {
  bool all = true;
  std::optional<Id> owner_id;
  std::vector<Id> team_ids;
};

// Obtain from Database::deal_stages(); valid while the Database lives.
class BANYAN_EXPORT DealStages {
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
