#pragma once

#include <string>

#include "banyan/model/record.hpp"

namespace banyan {

// A person who works in the CRM: owns records, belongs to teams, acts on data.
struct BANYAN_EXPORT User : Record {
  static constexpr ObjectType kType = ObjectType::kUser;
  std::string email;  // required, unique, a valid address
  std::string name;   // required
  bool active = true;

  friend bool operator==(const User&, const User&) = default;
};

}  // namespace banyan
