// LeadConverter: the store's part of lead conversion, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/lead_converter.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

class LeadConverter {
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
  using CompanyChoice = store::CompanyChoice;
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
