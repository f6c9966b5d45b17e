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
//
// Status and stage agree: a deal in an open stage is open, one in a won (lost) stage won
// (lost). A write that changes the stage sets the status from the stage's kind; one that
// changes only the status moves the deal to the pipeline's first stage of that kind; one
// that changes both must make them agree (else ValidationError "status"). Winning or
// losing sets closed_at and emits deal.won or deal.lost beside deal.updated. A won or lost
// deal changes stage or status only by being reopened (DealStages::reopen), which
// emits deal.reopened. A deal is created or moved only in a pipeline that has a stage of
// each kind (else ValidationError "pipeline_id"). On create, status kOpen means "as the
// stage says".
struct BANYAN_EXPORT Deal : Record {
  static constexpr ObjectType kType = ObjectType::kDeal;
  std::string title;   // required
  Id pipeline_id = 0;  // required, must exist
  Id stage_id = 0;     // required, must be a stage of pipeline_id
  Money amount;        // minor units >= 0, currency three upper-case letters
  std::optional<Date> expected_close;
  std::optional<Id> company_id;  // must exist when set
  DealStatus status = DealStatus::kOpen;
  // When the deal was won or lost: set then (to the time given, for imported history, or
  // now), cleared when it is reopened; an open deal has none.
  std::optional<Timestamp> closed_at;

  friend bool operator==(const Deal&, const Deal&) = default;
};

// The part a contact plays in a deal.
enum class DealRole {
  kDecisionMaker,
  kChampion,
  kInfluencer,
  kEconomicBuyer,
  kTechnicalBuyer,
  kEndUser,
  kOther
};

BANYAN_EXPORT std::string_view to_string(DealRole role) noexcept;
// Throws ValidationError (field "role") for an unknown name.
BANYAN_EXPORT DealRole parse_deal_role(std::string_view name);

}  // namespace banyan
