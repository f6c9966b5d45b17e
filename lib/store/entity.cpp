#include "store/entity.hpp"

#include <string>

#include "banyan/errors.hpp"
#include "store/contact_points.hpp"
#include "store/database_state.hpp"
#include "store/entity_fields.hpp"
#include "store/outbox_writer.hpp"
#include "store/search_index.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store::detail {

std::string_view table_of(ObjectType type) noexcept {
  switch (type) {
    case ObjectType::kUser:
      return "users";
    case ObjectType::kTeam:
      return "teams";
    case ObjectType::kTag:
      return "tags";
    case ObjectType::kCompany:
      return "companies";
    case ObjectType::kContact:
      return "contacts";
    case ObjectType::kLead:
      return "leads";
    case ObjectType::kPipeline:
      return "pipelines";
    case ObjectType::kStage:
      return "stages";
    case ObjectType::kDeal:
      return "deals";
    case ObjectType::kActivity:
      return "activities";
  }
  return "contacts";
}

bool exists(island::Transaction& tx, std::string_view table, Id id) {
  island::SqlFragment q;
  q.text("SELECT COUNT(*) FROM " + std::string(table) + " WHERE id = ");
  island::SqlParam p;
  p.kind = island::SqlParam::Kind::kUInt;
  p.u = id;
  q.param(p);
  return island::query_int(tx, q) > 0;
}

void require_exists(island::Transaction& tx, std::string_view table, Id id,
                    std::string_view field) {
  if (!exists(tx, table, id)) {
    throw ValidationError(
        std::string(field) + ": no record " + std::to_string(id) + " in " + std::string(table),
        std::string(field));
  }
}

// --- User ------------------------------------------------------------------------------
std::span<const FieldDef<odbrows::UserRow>> Entity<User>::fields() {
  static const FieldDef<Row> own[] = {TEXT(email), TEXT(name), BOOL(active)};
  return own;
}
void Entity<User>::to_row(const User& in, Row& out) {
  record_to_row(in, out);
  out.email = in.email;
  out.name = in.name;
  out.active = in.active;
}
User Entity<User>::from_row(const Row& in) {
  User out;
  row_to_record(in, out);
  out.email = in.email;
  out.name = in.name;
  out.active = in.active;
  return out;
}
void Entity<User>::validate(const User& in) {
  validate_record(in);
  check_email("email", in.email);
}
void Entity<User>::check_references(island::Transaction& tx, const User& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<User>::referrers() { return kOwnerReferrers; }

// --- Team ------------------------------------------------------------------------------
std::span<const FieldDef<odbrows::TeamRow>> Entity<Team>::fields() {
  static const FieldDef<Row> own[] = {TEXT(name)};
  return own;
}
void Entity<Team>::to_row(const Team& in, Row& out) {
  record_to_row(in, out);
  out.name = in.name;
}
Team Entity<Team>::from_row(const Row& in) {
  Team out;
  row_to_record(in, out);
  out.name = in.name;
  return out;
}
void Entity<Team>::validate(const Team& in) { validate_record(in); }
void Entity<Team>::check_references(island::Transaction& tx, const Team& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Team>::referrers() { return kTeamReferrers; }

// --- Tag -------------------------------------------------------------------------------
std::span<const FieldDef<odbrows::TagRow>> Entity<Tag>::fields() {
  static const FieldDef<Row> own[] = {TEXT(name), OPT_TEXT(color)};
  return own;
}
void Entity<Tag>::to_row(const Tag& in, Row& out) {
  record_to_row(in, out);
  out.name = in.name;
  out.color = column(in.color);
}
Tag Entity<Tag>::from_row(const Row& in) {
  Tag out;
  row_to_record(in, out);
  out.name = in.name;
  out.color = value(in.color);
  return out;
}
void Entity<Tag>::validate(const Tag& in) {
  validate_record(in);
  if (in.color) {
    const std::string& c = *in.color;
    const bool ok = c.size() == 7 && c[0] == '#' &&
                    c.find_first_not_of("0123456789abcdefABCDEF", 1) == std::string::npos;
    if (!ok) throw ValidationError("color: must look like #1a2b3c", "color");
  }
}
void Entity<Tag>::check_references(island::Transaction& tx, const Tag& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Tag>::referrers() { return {}; }

// --- Company ---------------------------------------------------------------------------
std::span<const FieldDef<odbrows::CompanyRow>> Entity<Company>::fields() {
  static const FieldDef<Row> own[] = {
      TEXT(name),        OPT_TEXT(domain),        OPT_TEXT(industry), OPT_TEXT(phone),
      OPT_TEXT(website), OPT_INT(employee_count), LIST(emails),       LIST(phones),
      LIST(addresses),   OPT_ID(merged_into_id)};
  return own;
}
void Entity<Company>::to_row(const Company& in, Row& out) {
  record_to_row(in, out);
  out.name = in.name;
  out.domain = column(in.domain);
  out.industry = column(in.industry);
  out.phone = column(in.phone);
  out.website = column(in.website);
  out.employee_count = column(in.employee_count);
  points_to_row(in, out);
}
Company Entity<Company>::from_row(const Row& in) {
  Company out;
  row_to_record(in, out);
  out.name = in.name;
  out.domain = value(in.domain);
  out.industry = value(in.industry);
  out.phone = value(in.phone);
  out.website = value(in.website);
  out.employee_count = value(in.employee_count);
  out.emails = points_of(in.emails);
  out.phones = points_of(in.phones, in.phone);
  out.addresses = addresses_of(in.addresses);
  out.merged_into = value(in.merged_into_id);
  return out;
}
void Entity<Company>::validate(const Company& in) {
  validate_record(in);
  if (in.employee_count && *in.employee_count < 0)
    throw ValidationError("employee_count: must not be negative", "employee_count");
  check_points_of(in);
}
void Entity<Company>::check_references(island::Transaction& tx, const Company& in) {
  check_owner_and_team(tx, in);
}
void Entity<Company>::before_create(Row& row) { row.merged_into_id = nullptr; }
void Entity<Company>::reconcile(Session&, const Company* stored, Company& next,
                                const Named* named) {
  reconcile_points({"email", "emails", nullptr, nullptr, &next.emails,
                    stored != nullptr ? &stored->emails : nullptr, true},
                   named);
  reconcile_phones(stored, next, named);
}
void Entity<Company>::before_update(const Row& stored, Row& next) {
  next.merged_into_id = column(value(stored.merged_into_id));
}
std::span<const Referrer> Entity<Company>::referrers() {
  static constexpr Referrer kReferrers[] = {{"deals", "company_id"}};
  return kReferrers;
}

// --- Contact ---------------------------------------------------------------------------
std::span<const FieldDef<odbrows::ContactRow>> Entity<Contact>::fields() {
  static const FieldDef<Row> own[] = {TEXT(first_name), TEXT(last_name), OPT_TEXT(email),
                                      OPT_TEXT(phone),  OPT_TEXT(title), LIST(emails),
                                      LIST(phones),     LIST(addresses), OPT_ID(merged_into_id)};
  return own;
}
void Entity<Contact>::to_row(const Contact& in, Row& out) {
  record_to_row(in, out);
  out.first_name = in.first_name;
  out.last_name = in.last_name;
  out.email = column(in.email);
  out.phone = column(in.phone);
  out.title = column(in.title);
  points_to_row(in, out);
}
Contact Entity<Contact>::from_row(const Row& in) {
  Contact out;
  row_to_record(in, out);
  out.first_name = in.first_name;
  out.last_name = in.last_name;
  out.email = value(in.email);
  out.phone = value(in.phone);
  out.title = value(in.title);
  points_from_row(in, out);
  out.merged_into = value(in.merged_into_id);
  return out;
}
void Entity<Contact>::validate(const Contact& in) {
  validate_record(in);
  validate_names(in.first_name, in.last_name);
  check_email("email", in.email);
  check_points_of(in);
}
void Entity<Contact>::reconcile(Session&, const Contact* stored, Contact& next,
                                const Named* named) {
  reconcile_person_points(stored, next, named);
}
void Entity<Contact>::check_references(island::Transaction& tx, const Contact& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Contact>::referrers() { return {}; }
void Entity<Contact>::before_create(Row& row) { row.merged_into_id = nullptr; }
void Entity<Contact>::before_update(const Row& stored, Row& next) {
  next.merged_into_id = column(value(stored.merged_into_id));
}

// --- Lead ------------------------------------------------------------------------------
std::span<const FieldDef<odbrows::LeadRow>> Entity<Lead>::fields() {
  static const FieldDef<Row> own[] = {TEXT(first_name),
                                      TEXT(last_name),
                                      OPT_TEXT(email),
                                      OPT_TEXT(phone),
                                      OPT_TEXT(company_name),
                                      OPT_TEXT(source),
                                      OPT_TEXT(title),
                                      LIST(emails),
                                      LIST(phones),
                                      LIST(addresses),
                                      ENUM(status, parse_lead_status),
                                      OPT_TIME(converted_at),
                                      OPT_ID(converted_contact_id),
                                      OPT_ID(converted_company_id),
                                      OPT_ID(converted_deal_id),
                                      OPT_ID(merged_into_id)};
  return own;
}
void Entity<Lead>::to_row(const Lead& in, Row& out) {
  record_to_row(in, out);
  out.first_name = in.first_name;
  out.last_name = in.last_name;
  out.email = column(in.email);
  out.phone = column(in.phone);
  out.company_name = column(in.company_name);
  out.source = column(in.source);
  out.title = column(in.title);
  points_to_row(in, out);
  out.status = std::string(to_string(in.status));
  out.converted_at = column(in.converted_at);
  out.converted_contact_id = column(in.converted_contact_id);
  out.converted_company_id = column(in.converted_company_id);
  out.converted_deal_id = column(in.converted_deal_id);
}
Lead Entity<Lead>::from_row(const Row& in) {
  Lead out;
  row_to_record(in, out);
  out.first_name = in.first_name;
  out.last_name = in.last_name;
  out.email = value(in.email);
  out.phone = value(in.phone);
  out.company_name = value(in.company_name);
  out.source = value(in.source);
  out.title = value(in.title);
  points_from_row(in, out);
  out.status = parse_lead_status(in.status);
  out.converted_at = time_value(in.converted_at);
  out.converted_contact_id = value(in.converted_contact_id);
  out.converted_company_id = value(in.converted_company_id);
  out.converted_deal_id = value(in.converted_deal_id);
  out.merged_into = value(in.merged_into_id);
  return out;
}
void Entity<Lead>::before_create(Row& row) {
  if (row.status == to_string(LeadStatus::kConverted))
    throw ValidationError("status: a lead becomes converted only through conversion", "status");
  row.converted_at = nullptr;
  row.converted_contact_id = nullptr;
  row.converted_company_id = nullptr;
  row.converted_deal_id = nullptr;
  row.merged_into_id = nullptr;
}
void Entity<Lead>::before_update(const Row& stored, Row& next) {
  const std::string converted(to_string(LeadStatus::kConverted));
  if ((stored.status == converted) != (next.status == converted))
    throw ValidationError(
        "status: a lead becomes converted only through conversion, and "
        "stays so",
        "status");
  next.converted_at = column(value(stored.converted_at));
  next.converted_contact_id = column(value(stored.converted_contact_id));
  next.converted_company_id = column(value(stored.converted_company_id));
  next.converted_deal_id = column(value(stored.converted_deal_id));
  next.merged_into_id = column(value(stored.merged_into_id));
}
void Entity<Lead>::validate(const Lead& in) {
  validate_record(in);
  validate_names(in.first_name, in.last_name);
  check_email("email", in.email);
  check_points_of(in);
}
void Entity<Lead>::reconcile(Session&, const Lead* stored, Lead& next, const Named* named) {
  reconcile_person_points(stored, next, named);
}
void Entity<Lead>::check_references(island::Transaction& tx, const Lead& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Lead>::referrers() { return {}; }

// --- Pipeline --------------------------------------------------------------------------
std::span<const FieldDef<odbrows::ActivityRow>> Entity<Activity>::fields() {
  static const FieldDef<Row> own[] = {ENUM(kind, parse_activity_kind), TEXT(subject),
                                      OPT_TEXT(body), OPT_TIME(due_at), OPT_TIME(completed_at)};
  return own;
}
void Entity<Activity>::to_row(const Activity& in, Row& out) {
  record_to_row(in, out);
  out.kind = std::string(to_string(in.kind));
  out.subject = in.subject;
  out.body = column(in.body);
  out.due_at = column(in.due_at);
  out.completed_at = column(in.completed_at);
}
Activity Entity<Activity>::from_row(const Row& in) {
  Activity out;
  row_to_record(in, out);
  out.kind = parse_activity_kind(in.kind);
  out.subject = in.subject;
  out.body = value(in.body);
  out.due_at = time_value(in.due_at);
  out.completed_at = time_value(in.completed_at);
  return out;
}
void Entity<Activity>::validate(const Activity& in) { validate_record(in); }
void Entity<Activity>::check_references(island::Transaction& tx, const Activity& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Activity>::referrers() { return {}; }

// --- search documents (mirrored by the backfill SQL in search_index.cpp) ----------------
namespace {
std::string joined(std::initializer_list<const std::string*> parts) {
  std::string out;
  for (const std::string* p : parts) {
    if (p == nullptr || p->empty()) continue;
    out += (out.empty() ? "" : " ") + *p;
  }
  return out;
}

// The email, then the record's other emails (every email, for a company).
std::string every_email(const std::unique_ptr<std::string>& list,
                        const std::unique_ptr<std::string>& primary) {
  std::string out = primary ? *primary : "";
  for (const auto& e : points_of(list))
    if (!(primary && e.primary)) out += (out.empty() ? "" : " ") + e.value;
  return out;
}
}  // namespace

std::optional<SearchDocument> search_document(const odbrows::ContactRow& r, bool with_sensitive) {
  const std::string emails = with_sensitive ? every_email(r.emails, r.email) : "";
  return SearchDocument{joined({&r.first_name, &r.last_name}), joined({&emails})};
}
std::optional<SearchDocument> search_document(const odbrows::LeadRow& r, bool with_sensitive) {
  const std::string emails = with_sensitive ? every_email(r.emails, r.email) : "";
  return SearchDocument{joined({&r.first_name, &r.last_name}),
                        joined({&emails, r.company_name.get()})};
}
std::optional<SearchDocument> search_document(const odbrows::CompanyRow& r) {
  const std::string emails = every_email(r.emails, nullptr);
  return SearchDocument{r.name, joined({r.domain.get(), &emails})};
}
std::optional<SearchDocument> search_document(const odbrows::DealRow& r) {
  return SearchDocument{r.title, ""};
}
std::optional<SearchDocument> search_document(const odbrows::ActivityRow& r) {
  if (r.kind != to_string(ActivityKind::kNote)) return std::nullopt;
  return SearchDocument{r.subject, joined({r.body.get()})};
}

}  // namespace banyan::store::detail
