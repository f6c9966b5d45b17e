#pragma once

#include <string>

#include "banyan/model/record.hpp"

namespace banyan {

// A group of users; records carry a team so access can be scoped to it.
struct BANYAN_EXPORT Team : Record {
  static constexpr ObjectType kType = ObjectType::kTeam;
  std::string name;  // required, unique

  friend bool operator==(const Team&, const Team&) = default;
};

}  // namespace banyan
