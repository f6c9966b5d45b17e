#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "banyan/model/record.hpp"

namespace banyan {

// A sales process: an ordered list of stages that deals move through.
struct BANYAN_EXPORT Pipeline : Record {
  static constexpr ObjectType kType = ObjectType::kPipeline;
  std::string name;  // required

  friend bool operator==(const Pipeline&, const Pipeline&) = default;
};

// What reaching a stage means for a deal: still open, won, or lost.
enum class StageKind { kOpen, kWon, kLost };

BANYAN_EXPORT std::string_view to_string(StageKind kind) noexcept;
// Throws ValidationError (field "kind") for an unknown name.
BANYAN_EXPORT StageKind parse_stage_kind(std::string_view name);

// One step of a pipeline. Stages are ordered by position (unique within a pipeline)
// and carry the probability that a deal in this stage is won. A pipeline takes deals only
// while it has at least one stage of each kind; a deal moved to a won or lost stage is won
// or lost (see Deal).
struct BANYAN_EXPORT Stage : Record {
  static constexpr ObjectType kType = ObjectType::kStage;
  Id pipeline_id = 0;                // required, must exist
  std::string name;                  // required
  std::int64_t position = 0;         // order within the pipeline, unique there
  std::int64_t win_probability = 0;  // percent, 0..100
  // Changes only while no deal is in the stage, and never so that a pipeline holding
  // deals loses its last stage of a kind.
  StageKind kind = StageKind::kOpen;

  friend bool operator==(const Stage&, const Stage&) = default;
};

}  // namespace banyan
