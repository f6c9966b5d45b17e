// Many-to-many relations between records: contacts and companies, deals and contacts,
// activities and the records they concern, tags and any record.
#pragma once

#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

struct BANYAN_EXPORT ContactCompanyLink {
  Id contact_id = 0;
  Id company_id = 0;
  bool primary = false;
  friend bool operator==(const ContactCompanyLink&, const ContactCompanyLink&) = default;
};

struct BANYAN_EXPORT DealContactLink {
  Id deal_id = 0;
  Id contact_id = 0;
  DealRole role = DealRole::kOther;
  friend bool operator==(const DealContactLink&, const DealContactLink&) = default;
};

}  // namespace banyan::store
