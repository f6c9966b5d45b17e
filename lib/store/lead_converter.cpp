#include "store/lead_converter.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "banyan/errors.hpp"
#include "store/audit.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/object_links.hpp"
#include "store/outbox_writer.hpp"
#include "store/relations.hpp"
#include "store/repository.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {
namespace {

// Addresses at these domains say nothing about the company a person works for.
constexpr std::array<std::string_view, 22> kFreeMailDomains = {
    "gmail.com",      "googlemail.com", "yahoo.com",  "yahoo.co.uk", "hotmail.com", "outlook.com",
    "live.com",       "msn.com",        "icloud.com", "me.com",      "aol.com",     "proton.me",
    "protonmail.com", "gmx.com",        "gmx.de",     "gmx.net",     "web.de",      "mail.com",
    "yandex.ru",      "qq.com",         "163.com",    "fastmail.com"};

}  // namespace

std::optional<std::string> company_domain(const std::optional<std::string>& email) {
  if (!email) return std::nullopt;
  const auto at = email->rfind('@');
  if (at == std::string::npos) return std::nullopt;
  std::string domain = email->substr(at + 1);
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (domain.empty()) return std::nullopt;
  for (std::string_view free : kFreeMailDomains)
    if (domain == free) return std::nullopt;
  return domain;
}

ConversionResult LeadConverter::convert(UnitOfWork& uow, const LeadConversion& request) const {
  const Lead lead = Repository<Lead>(db_).get(uow, request.lead_id);
  if (lead.converted()) {
    throw Conflict("lead " + std::to_string(lead.id) + " was already converted (into contact " +
                       std::to_string(lead.converted_contact_id.value_or(0)) + ")",
                   "status");
  }
  ConversionResult out;
  CompanyChoice company = choose_company(uow, lead, request);
  out.company = std::move(company.company);
  out.company_created = company.created;
  out.contact = create_contact(uow, lead, out.company.id);
  if (request.deal) out.deal = open_deal(uow, lead, out.company, out.contact.id, *request.deal);
  out.lead = mark_converted(uow, lead.id, out.contact.id, out.company.id,
                            out.deal ? std::optional<Id>(out.deal->id) : std::nullopt,
                            out.company_created);
  return out;
}

LeadConverter::CompanyChoice LeadConverter::choose_company(UnitOfWork& uow, const Lead& lead,
                                                           const LeadConversion& request) const {
  Repository<Company> companies(db_);
  if (request.company_id) return {companies.get(uow, *request.company_id), false};
  const std::optional<std::string> domain = company_domain(lead.email);
  if (domain && request.match_company_by_domain) {
    PageRequest by_domain;
    by_domain.filter = Filter::eq("domain", *domain);
    by_domain.limit = 1;
    auto page = companies.query(uow, by_domain);
    if (!page.items.empty()) return {std::move(page.items.front()), false};
  }
  Company company;
  if (lead.company_name && lead.company_name->find_first_not_of(" \t") != std::string::npos) {
    company.name = *lead.company_name;
  } else if (domain) {
    company.name = *domain;
  } else {
    throw ValidationError(
        "company_name: the lead has no company name and no company email domain; choose a "
        "company_id",
        "company_name");
  }
  company.domain = domain;
  company.owner_id = lead.owner_id;
  company.team_id = lead.team_id;
  return {companies.create(uow, company), true};
}

Contact LeadConverter::create_contact(UnitOfWork& uow, const Lead& lead, Id company_id) const {
  Contact contact;
  contact.first_name = lead.first_name;
  contact.last_name = lead.last_name;
  contact.email = lead.email;
  contact.phone = lead.phone;
  contact.title = lead.title;
  contact.emails = lead.emails;
  contact.phones = lead.phones;
  contact.addresses = lead.addresses;
  contact.owner_id = lead.owner_id;
  contact.team_id = lead.team_id;
  // Custom values carry over where contacts have a field of the same name and type.
  const auto lead_fields = Session(uow).custom_fields(ObjectType::kLead);
  const auto contact_fields = Session(uow).custom_fields(ObjectType::kContact);
  for (const auto& [name, value] : lead.custom) {
    const CustomFieldDefinition* from = lead_fields->by_name(name);
    const CustomFieldDefinition* to = contact_fields->by_name(name);
    if (from && to && from->type == to->type) contact.custom[name] = value;
  }
  Contact created = Repository<Contact>(db_).create(uow, contact);
  Relations(db_).link_company(uow, created.id, company_id, /*primary=*/true);
  return created;
}

Deal LeadConverter::open_deal(UnitOfWork& uow, const Lead& lead, const Company& company,
                              Id contact_id, const LeadConversion::NewDeal& spec) const {
  Deal deal;
  deal.title = spec.title.empty()
                   ? company.name + " - " + lead.first_name +
                         (lead.first_name.empty() || lead.last_name.empty() ? "" : " ") +
                         lead.last_name
                   : spec.title;
  deal.pipeline_id = spec.pipeline_id;
  deal.stage_id = spec.stage_id;
  if (deal.stage_id == 0) {
    PageRequest first;
    first.filter = Filter::eq("pipeline_id", static_cast<std::int64_t>(spec.pipeline_id));
    first.sort = {"position", false};
    first.limit = 1;
    auto stages = Repository<Stage>(db_).query(uow, first);
    if (stages.items.empty())
      throw ValidationError(
          "pipeline_id: pipeline " + std::to_string(spec.pipeline_id) + " has no stages",
          "pipeline_id");
    deal.stage_id = stages.items.front().id;
  }
  deal.amount = spec.amount;
  deal.expected_close = spec.expected_close;
  deal.company_id = company.id;
  deal.owner_id = lead.owner_id;
  deal.team_id = lead.team_id;
  Deal created = Repository<Deal>(db_).create(uow, deal);
  Relations(db_).add_deal_contact(uow, created.id, contact_id, spec.contact_role);
  return created;
}

Lead LeadConverter::mark_converted(UnitOfWork& uow, Id lead_id, Id contact_id,
                                   std::optional<Id> company_id, std::optional<Id> deal_id,
                                   bool company_created) const {
  Repository<Lead> leads(db_);
  const Lead lead = leads.get(uow, lead_id);
  if (lead.converted()) {
    throw Conflict("lead " + std::to_string(lead.id) + " was already converted (into contact " +
                       std::to_string(lead.converted_contact_id.value_or(0)) + ")",
                   "status");
  }
  island::Transaction& tx = Session(uow).tx();
  const ObjectRef from{ObjectType::kLead, lead.id};
  const ObjectRef to{ObjectType::kContact, contact_id};
  detail::move_object_links(tx, from, to);

  // Mark the lead: a write no ordinary update may make (Repository<Lead> refuses it).
  auto row = island::RowStore<odbrows::LeadRow>::find(tx, lead.id);
  const auto fields = Session(uow).custom_fields(ObjectType::kLead);
  const nlohmann::json before = detail::row_payload<Lead>(*row, *fields);
  const std::int64_t now = detail::micros(detail::now_micros(*db_));
  row->status = std::string(to_string(LeadStatus::kConverted));
  row->converted_at = std::make_unique<std::int64_t>(now);
  row->converted_contact_id = std::make_unique<std::uint64_t>(contact_id);
  row->converted_company_id = detail::column(company_id);
  row->converted_deal_id = detail::column(deal_id);
  row->updated_at = now;
  row->updated_by = detail::column(uow.actor());
  island::RowStore<odbrows::LeadRow>::update(tx, *row);
  Session(uow).audit("converted", from, before, detail::row_payload<Lead>(*row, *fields), now);
  detail::append_event(uow, "lead.converted", {ObjectType::kLead, lead.id}, row->version,
                       {{"lead_id", lead.id},
                        {"contact_id", contact_id},
                        {"company_id", company_id ? nlohmann::json(*company_id) : nlohmann::json()},
                        {"company_created", company_created},
                        {"deal_id", deal_id ? nlohmann::json(*deal_id) : nlohmann::json()}});
  return leads.get(uow, lead.id);
}

}  // namespace banyan::store
