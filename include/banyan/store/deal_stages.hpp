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

}  // namespace banyan::store
