#pragma once

#include <cstdint>
#include <string>

#include "banyan/model/record.hpp"

namespace banyan {

// A sales process: an ordered list of stages that deals move through.
struct BANYAN_EXPORT Pipeline : Record {
  static constexpr ObjectType kType = ObjectType::kPipeline;
  std::string name;  // required

  friend bool operator==(const Pipeline&, const Pipeline&) = default;
};

// One step of a pipeline. Stages are ordered by position (unique within a pipeline)
// and carry the probability that a deal in this stage is won.
struct BANYAN_EXPORT Stage : Record {
  static constexpr ObjectType kType = ObjectType::kStage;
  Id pipeline_id = 0;                // required, must exist
  std::string name;                  // required
  std::int64_t position = 0;         // order within the pipeline, unique there
  std::int64_t win_probability = 0;  // percent, 0..100

  friend bool operator==(const Stage&, const Stage&) = default;
};

}  // namespace banyan
