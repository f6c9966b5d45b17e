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

namespace detail {
struct DatabaseState;
}

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

// Obtain from Database::lead_converter(); valid while the Database lives.
// The lower-cased domain of `email` that names a company: none for free-mail domains
// (gmail.com, ...) or an address without one.
BANYAN_EXPORT std::optional<std::string> company_domain(const std::optional<std::string>& email);

class BANYAN_EXPORT LeadConverter {
 public:
  explicit LeadConverter(detail::DatabaseState* db) noexcept : db_(db) {}

  // Converts in the caller's unit of work: creates the contact (names, email, phone,
  // owner and team from the lead, and the lead's custom values for which contacts have a
  // field of the same name and type) linked to the company as its primary, the company if
  // needed, the optional deal; moves the lead's activity links and tags to the contact;
  // marks the lead converted with pointers to all of it. Throws NotFound (no such lead or
  // company), Conflict("status") when the lead was already converted, ValidationError
  // when a company cannot be found or named ("company_name") or the deal is invalid.
  // On any error nothing is changed once the unit of work is rolled back.
  ConversionResult convert(UnitOfWork& uow, const LeadConversion& request) const;

  // The steps of convert(), one at a time, for callers that run them apart (the lead
  // conversion saga runs each in a message of its own). Each makes exactly what convert()
  // makes, so the two ways to convert a lead cannot disagree.
  //
  // The company the contact joins: request.company_id, else (match_company_by_domain) the
  // company whose domain is the lead's email domain, else a new one named after the
  // lead's company_name or its email domain (ValidationError("company_name") with
  // neither). `created` says whether it is new.
  struct CompanyChoice {
    Company company;
    bool created = false;
  };
  CompanyChoice choose_company(UnitOfWork& uow, const Lead& lead,
                               const LeadConversion& request) const;
  // The contact the lead becomes, made and linked to `company_id` as its primary company.
  Contact create_contact(UnitOfWork& uow, const Lead& lead, Id company_id) const;
  // The deal for `company`, with the contact in spec.contact_role.
  Deal open_deal(UnitOfWork& uow, const Lead& lead, const Company& company, Id contact_id,
                 const LeadConversion::NewDeal& spec) const;
  // Moves the lead's activity links and tags to the contact and marks the lead converted,
  // pointing at what it became. Throws NotFound for no such lead, Conflict("status") when
  // already converted.
  Lead mark_converted(UnitOfWork& uow, Id lead_id, Id contact_id, std::optional<Id> company_id,
                      std::optional<Id> deal_id, bool company_created) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
