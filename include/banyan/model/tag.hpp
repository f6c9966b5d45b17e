#pragma once

#include <optional>
#include <string>

#include "banyan/model/record.hpp"

namespace banyan {

// A label that can be attached to any record (many-to-many, see Database::tag()).
struct BANYAN_EXPORT Tag : Record {
  static constexpr ObjectType kType = ObjectType::kTag;
  std::string name;                  // required, unique
  std::optional<std::string> color;  // "#rrggbb"

  friend bool operator==(const Tag&, const Tag&) = default;
};

}  // namespace banyan
