#pragma once

#include <optional>
#include <string>

#include "banyan/model/contact_point.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

// A person at a customer or prospect. Linked to companies many-to-many with one
// primary (Database::link_company()).
struct BANYAN_EXPORT Contact : Record {
  static constexpr ObjectType kType = ObjectType::kContact;
  std::string first_name;  // at least one of first and last name is required
  std::string last_name;
  std::optional<std::string> email;  // a valid address when present
  std::optional<std::string> phone;
  std::optional<std::string> title;
  // Every email and phone (the primary ones are `email` and `phone`) and the addresses.
  ContactPoints emails;
  ContactPoints phones;
  Addresses addresses;

  // Set when this record was merged into another (it is then archived); set by
  // Duplicates::merge(), ignored on create and update.
  std::optional<Id> merged_into;

  friend bool operator==(const Contact&, const Contact&) = default;
};

}  // namespace banyan
