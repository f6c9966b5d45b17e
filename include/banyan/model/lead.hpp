#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "banyan/model/contact_point.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

enum class LeadStatus { kNew, kContacted, kQualified, kUnqualified, kConverted };

BANYAN_EXPORT std::string_view to_string(LeadStatus status) noexcept;
// Throws ValidationError (field "status") for an unknown name.
BANYAN_EXPORT LeadStatus parse_lead_status(std::string_view name);

// A prospect not yet qualified into a contact, company and deal.
struct BANYAN_EXPORT Lead : Record {
  static constexpr ObjectType kType = ObjectType::kLead;
  std::string first_name;  // at least one of first and last name is required
  std::string last_name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> company_name;
  std::optional<std::string> source;  // "web", "referral", ...
  std::optional<std::string> title;   // job title; conversion gives it to the contact
  // Every email and phone (the primary ones are `email` and `phone`) and the addresses;
  // conversion gives them to the contact.
  ContactPoints emails;
  ContactPoints phones;
  Addresses addresses;
  // kConverted only through LeadConverter::convert(); create and update refuse it.
  LeadStatus status = LeadStatus::kNew;

  // What the lead became: set by LeadConverter::convert(), ignored on create and update.
  std::optional<Timestamp> converted_at;
  std::optional<Id> converted_contact_id;
  std::optional<Id> converted_company_id;
  std::optional<Id> converted_deal_id;

  bool converted() const noexcept { return converted_at.has_value(); }
  // Set when this record was merged into another (it is then archived); set by
  // Duplicates::merge(), ignored on create and update.
  std::optional<Id> merged_into;

  friend bool operator==(const Lead&, const Lead&) = default;
};

}  // namespace banyan
