#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "banyan/model/record.hpp"

namespace banyan {

enum class DealStatus { kOpen, kWon, kLost };

BANYAN_EXPORT std::string_view to_string(DealStatus status) noexcept;
// Throws ValidationError (field "status") for an unknown name.
BANYAN_EXPORT DealStatus parse_deal_status(std::string_view name);

// A sales opportunity in a pipeline stage. Linked to contacts with a role
// (Database::add_deal_contact()).
struct BANYAN_EXPORT Deal : Record {
  static constexpr ObjectType kType = ObjectType::kDeal;
  std::string title;   // required
  Id pipeline_id = 0;  // required, must exist
  Id stage_id = 0;     // required, must be a stage of pipeline_id
  Money amount;        // minor units >= 0, currency three upper-case letters
  std::optional<Date> expected_close;
  std::optional<Id> company_id;  // must exist when set
  DealStatus status = DealStatus::kOpen;

  friend bool operator==(const Deal&, const Deal&) = default;
};

// The part a contact plays in a deal.
enum class DealRole { kDecisionMaker, kChampion, kInfluencer, kEconomicBuyer, kTechnicalBuyer,
                      kEndUser, kOther };

BANYAN_EXPORT std::string_view to_string(DealRole role) noexcept;
// Throws ValidationError (field "role") for an unknown name.
BANYAN_EXPORT DealRole parse_deal_role(std::string_view name);

}  // namespace banyan
