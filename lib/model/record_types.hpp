// Calling code written once for every record type, chosen at run time by its ObjectType.
#pragma once

#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"

namespace banyan::detail {

// Calls f.template operator()<T>() with the record type of `type`:
//   with_record_type(type, [&]<typename T>() { ... Repository<T> ... });
template <typename F>
void with_record_type(ObjectType type, F&& f) {
  switch (type) {
    case ObjectType::kUser:
      f.template operator()<User>();
      return;
    case ObjectType::kTeam:
      f.template operator()<Team>();
      return;
    case ObjectType::kTag:
      f.template operator()<Tag>();
      return;
    case ObjectType::kCompany:
      f.template operator()<Company>();
      return;
    case ObjectType::kContact:
      f.template operator()<Contact>();
      return;
    case ObjectType::kLead:
      f.template operator()<Lead>();
      return;
    case ObjectType::kPipeline:
      f.template operator()<Pipeline>();
      return;
    case ObjectType::kStage:
      f.template operator()<Stage>();
      return;
    case ObjectType::kDeal:
      f.template operator()<Deal>();
      return;
    case ObjectType::kActivity:
      f.template operator()<Activity>();
      return;
  }
}

}  // namespace banyan::detail
