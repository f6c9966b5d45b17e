// The sagas that ship with Banyan: "deal_won" and "lead_conversion". Their steps act
// through the Engine as the system principal (lib/service/builtin_sagas.cpp), so they live
// above the saga framework (banyan/saga/saga.hpp) with the Engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "banyan/export.hpp"
#include "banyan/messaging/retry_policy.hpp"
#include "banyan/model/record.hpp"
#include "banyan/saga/saga.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::saga {

struct BANYAN_EXPORT DealWonOptions {
  // The billing system's customer endpoint: POST creates (Idempotency-Key header),
  // DELETE <url>/<key> removes. "http://host:port/path" (plain HTTP).
  std::string billing_url{};
  std::chrono::milliseconds billing_timeout{std::chrono::seconds(5)};
  messaging::RetryPolicy retry{};
  // How long a worker may hold a step before another takes it over (> billing_timeout).
  std::chrono::milliseconds lease{std::chrono::seconds(60)};
};
// "deal_won": when a deal is won, tag it "onboarding", provision the customer in billing,
// then create an onboarding task linked to the deal. If billing fails for good, the tag
// is replaced by "billing-failed" (the deal stays flagged) and the failure is in the DLQ.
BANYAN_EXPORT SagaDefinition deal_won_saga(const DealWonOptions& options);

// "lead_conversion": converts a lead across messages, each step one step of
// store::LeadConverter::convert() (so it makes what a direct conversion makes): the
// company (matched by the email domain or new), the contact (with the custom values
// contacts share), the deal, then the lead itself. A step is undone if a later one fails
// for good (a matched company is left alone). Start it with start_lead_conversion().
BANYAN_EXPORT SagaDefinition lead_conversion_saga(messaging::RetryPolicy retry = {});
struct BANYAN_EXPORT LeadConversionRequest {
  Id lead_id = 0;
  // A deal is opened when set, in this pipeline's first stage, named as a direct
  // conversion names it ("<company> - <first> <last>").
  std::optional<Id> pipeline_id{};
  std::optional<Money> amount{};
};
BANYAN_EXPORT std::uint64_t start_lead_conversion(store::UnitOfWork& uow,
                                                  const LeadConversionRequest& request);

}  // namespace banyan::saga
