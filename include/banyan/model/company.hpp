#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "banyan/model/contact_point.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

// An organisation: a customer, prospect or partner.
struct BANYAN_EXPORT Company : Record {
  static constexpr ObjectType kType = ObjectType::kCompany;
  std::string name;                   // required
  std::optional<std::string> domain;  // "example.com", lower case
  std::optional<std::string> industry;
  std::optional<std::string> phone;
  std::optional<std::string> website;
  std::optional<std::int64_t> employee_count;  // >= 0
  // Its email addresses (a company has no single `email`), every phone (the primary one
  // is `phone`) and its addresses.
  ContactPoints emails;
  ContactPoints phones;
  Addresses addresses;

  // Set when this record was merged into another (it is then archived); set by
  // Duplicates::merge(), ignored on create and update.
  std::optional<Id> merged_into;

  friend bool operator==(const Company&, const Company&) = default;
};

}  // namespace banyan
