// Stable names of the domain's enumerations, both ways.
#include <array>
#include <string>
#include <utility>

#include "banyan/errors.hpp"
#include "banyan/model/activity.hpp"
#include "banyan/model/contact_point.hpp"
#include "banyan/model/custom_field.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/patch.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/record.hpp"

namespace banyan {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

template <typename E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) noexcept {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
E parse(const NameTable<E, N>& table, std::string_view name, const char* field) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  std::string allowed;
  for (const auto& entry : table) {
    allowed += allowed.empty() ? "" : ", ";
    allowed += entry.second;
  }
  throw ValidationError("unknown " + std::string(field) + " '" + std::string(name) +
                            "' (expected one of: " + allowed + ")",
                        field);
}

constexpr NameTable<ObjectType, 10> kObjectTypes{{
    {ObjectType::kUser, "user"},
    {ObjectType::kTeam, "team"},
    {ObjectType::kTag, "tag"},
    {ObjectType::kCompany, "company"},
    {ObjectType::kContact, "contact"},
    {ObjectType::kLead, "lead"},
    {ObjectType::kPipeline, "pipeline"},
    {ObjectType::kStage, "stage"},
    {ObjectType::kDeal, "deal"},
    {ObjectType::kActivity, "activity"},
}};

constexpr NameTable<LeadStatus, 5> kLeadStatuses{{
    {LeadStatus::kNew, "new"},
    {LeadStatus::kContacted, "contacted"},
    {LeadStatus::kQualified, "qualified"},
    {LeadStatus::kUnqualified, "unqualified"},
    {LeadStatus::kConverted, "converted"},
}};

constexpr NameTable<DealStatus, 3> kDealStatuses{{
    {DealStatus::kOpen, "open"},
    {DealStatus::kWon, "won"},
    {DealStatus::kLost, "lost"},
}};

constexpr NameTable<StageKind, 3> kStageKinds{{
    {StageKind::kOpen, "open"},
    {StageKind::kWon, "won"},
    {StageKind::kLost, "lost"},
}};

constexpr NameTable<WriteOutcome, 3> kWriteOutcomes{{
    {WriteOutcome::kCreated, "created"},
    {WriteOutcome::kUpdated, "updated"},
    {WriteOutcome::kUnchanged, "unchanged"},
}};

constexpr NameTable<DealRole, 7> kDealRoles{{
    {DealRole::kDecisionMaker, "decision_maker"},
    {DealRole::kChampion, "champion"},
    {DealRole::kInfluencer, "influencer"},
    {DealRole::kEconomicBuyer, "economic_buyer"},
    {DealRole::kTechnicalBuyer, "technical_buyer"},
    {DealRole::kEndUser, "end_user"},
    {DealRole::kOther, "other"},
}};

constexpr NameTable<AddressKind, 4> kAddressKinds{{
    {AddressKind::kBilling, "billing"},
    {AddressKind::kShipping, "shipping"},
    {AddressKind::kMailing, "mailing"},
    {AddressKind::kOther, "other"},
}};

constexpr NameTable<ActivityKind, 5> kActivityKinds{{
    {ActivityKind::kTask, "task"},
    {ActivityKind::kNote, "note"},
    {ActivityKind::kCall, "call"},
    {ActivityKind::kMeeting, "meeting"},
    {ActivityKind::kEmail, "email"},
}};

constexpr NameTable<CustomFieldType, 13> kCustomFieldTypes{{
    {CustomFieldType::kText, "text"},
    {CustomFieldType::kLongText, "long_text"},
    {CustomFieldType::kNumber, "number"},
    {CustomFieldType::kDecimal, "decimal"},
    {CustomFieldType::kDate, "date"},
    {CustomFieldType::kDateTime, "datetime"},
    {CustomFieldType::kBool, "bool"},
    {CustomFieldType::kEnum, "enum"},
    {CustomFieldType::kMultiEnum, "multi_enum"},
    {CustomFieldType::kUrl, "url"},
    {CustomFieldType::kEmail, "email"},
    {CustomFieldType::kPhone, "phone"},
    {CustomFieldType::kCurrency, "currency"},
}};

}  // namespace

std::string_view to_string(CustomFieldType type) noexcept {
  return name_of(kCustomFieldTypes, type);
}
CustomFieldType parse_custom_field_type(std::string_view name) {
  return parse(kCustomFieldTypes, name, "type");
}

std::string_view to_string(AddressKind kind) noexcept { return name_of(kAddressKinds, kind); }
AddressKind parse_address_kind(std::string_view name) { return parse(kAddressKinds, name, "kind"); }
std::string_view to_string(ObjectType type) noexcept { return name_of(kObjectTypes, type); }
ObjectType parse_object_type(std::string_view name) {
  return parse(kObjectTypes, name, "object_type");
}
std::string_view to_string(LeadStatus status) noexcept { return name_of(kLeadStatuses, status); }
LeadStatus parse_lead_status(std::string_view name) { return parse(kLeadStatuses, name, "status"); }
std::string_view to_string(DealStatus status) noexcept { return name_of(kDealStatuses, status); }
DealStatus parse_deal_status(std::string_view name) { return parse(kDealStatuses, name, "status"); }
std::string_view to_string(StageKind kind) noexcept { return name_of(kStageKinds, kind); }
StageKind parse_stage_kind(std::string_view name) { return parse(kStageKinds, name, "kind"); }
std::string_view to_string(WriteOutcome outcome) noexcept {
  return name_of(kWriteOutcomes, outcome);
}
std::string_view to_string(DealRole role) noexcept { return name_of(kDealRoles, role); }
DealRole parse_deal_role(std::string_view name) { return parse(kDealRoles, name, "role"); }
std::string_view to_string(ActivityKind kind) noexcept { return name_of(kActivityKinds, kind); }
ActivityKind parse_activity_kind(std::string_view name) {
  return parse(kActivityKinds, name, "kind");
}

}  // namespace banyan
