// Lead conversion: a lead becomes a contact, a company and optionally a deal, at once.
#pragma once

#include <optional>
#include <string>

#include "banyan/export.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

struct BANYAN_EXPORT LeadConversion {
  Id lead_id = 0;
  // The company the contact joins. When empty: the non-archived company whose domain is
  // the lead's email domain (free-mail domains never match), else a new company named
  // after the lead's company_name.
  std::optional<Id> company_id;
  // False: with no company_id, a new company is made without looking for one by domain.
  // (Engine::convert_lead matches by domain itself, among the companies its caller may
  // read, so a conversion never lands a contact in a company its caller cannot see.)
  bool match_company_by_domain = true;

  struct NewDeal {
    Id pipeline_id = 0;
    Id stage_id = 0;    // 0: the pipeline's first stage (ValidationError if it has none)
    std::string title;  // empty: "<company> - <first> <last>"
    Money amount;
    std::optional<Date> expected_close;
    DealRole contact_role = DealRole::kDecisionMaker;
  };
  // Also open a deal for the company, with the new contact in `contact_role`.
  std::optional<NewDeal> deal;
};

struct BANYAN_EXPORT ConversionResult {
  Lead lead;  // now converted, pointing at what it became
  Contact contact;
  Company company;
  bool company_created = false;
  std::optional<Deal> deal;
};

// The company a conversion's contact joins, and whether the conversion made it.
struct BANYAN_EXPORT CompanyChoice {
  Company company;
  bool created = false;
};

// The lower-cased domain of `email` that names a company: none for free-mail domains
// (gmail.com, ...) or an address without one.
BANYAN_EXPORT std::optional<std::string> company_domain(const std::optional<std::string>& email);

}  // namespace banyan::store
