#include <gtest/gtest.h>

#include "banyan/errors.hpp"
#include "banyan/model/activity.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"

namespace banyan {
namespace {

TEST(DomainNames, RoundTripEveryEnumerator) {
  for (auto t : {ObjectType::kUser, ObjectType::kTeam, ObjectType::kTag, ObjectType::kCompany,
                 ObjectType::kContact, ObjectType::kLead, ObjectType::kPipeline, ObjectType::kStage,
                 ObjectType::kDeal, ObjectType::kActivity})
    EXPECT_EQ(parse_object_type(to_string(t)), t);
  for (auto r :
       {DealRole::kDecisionMaker, DealRole::kChampion, DealRole::kInfluencer,
        DealRole::kEconomicBuyer, DealRole::kTechnicalBuyer, DealRole::kEndUser, DealRole::kOther})
    EXPECT_EQ(parse_deal_role(to_string(r)), r);
  for (auto k : {ActivityKind::kTask, ActivityKind::kNote, ActivityKind::kCall,
                 ActivityKind::kMeeting, ActivityKind::kEmail})
    EXPECT_EQ(parse_activity_kind(to_string(k)), k);
  EXPECT_EQ(parse_lead_status("converted"), LeadStatus::kConverted);
  EXPECT_EQ(parse_deal_status("won"), DealStatus::kWon);
}

TEST(DomainNames, UnknownNamesAreValidationErrorsThatListTheChoices) {
  try {
    parse_deal_role("boss");
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "role");
    EXPECT_NE(std::string(e.what()).find("champion"), std::string::npos);
  }
}

TEST(ErrorCodes, HaveStableMachineNames) {
  EXPECT_STREQ(to_string(ErrorCode::kNotFound), "not_found");
  EXPECT_STREQ(to_string(ErrorCode::kPoolExhausted), "pool_exhausted");
  Conflict c("stale", "version");
  EXPECT_EQ(c.code(), ErrorCode::kConflict);
  EXPECT_EQ(c.field(), "version");
}

}  // namespace
}  // namespace banyan
