// What every Entity<T> specialisation is written with (entity.cpp, entity_pipeline.cpp):
// the field-definition macros (a column by its name and type) and the checks every record
// shares. Internal to those two files: the macro names are short on purpose.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "banyan/errors.hpp"
#include "store/contact_points.hpp"
#include "store/entity.hpp"
#include "store/validation.hpp"

namespace banyan::store::detail {

#define TEXT(name)                                                                                \
  {                                                                                               \
#name, FieldType::kText, false,                                                               \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define OPT_TEXT(name)                                                                            \
  {                                                                                               \
#name, FieldType::kText, true,                                                                \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define INT(name)                                                                                 \
  {                                                                                               \
#name, FieldType::kInt, false,                                                                \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define OPT_INT(name)                                                                             \
  {                                                                                               \
#name, FieldType::kInt, true,                                                                 \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define ID(name)                                                                                  \
  {                                                                                               \
#name, FieldType::kId, false,                                                                 \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define OPT_ID(name)                                                                              \
  {                                                                                               \
#name, FieldType::kId, true,                                                                  \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define BOOL(name)                                                                                \
  {                                                                                               \
#name, FieldType::kBool, false,                                                               \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define OPT_TIME(name)                                                                            \
  {                                                                                               \
#name, FieldType::kTime, true,                                                                \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define OPT_DATE(name)                                                                            \
  {                                                                                               \
#name, FieldType::kDate, true,                                                                \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
// A list of contact points or addresses, stored as a JSON array (store/contact_points.hpp).
#define LIST(name)                                                                                \
  {                                                                                               \
#name, FieldType::kJson, true,                                                                \
        [](const Row& r) { return cell(r.name); }, nullptr,                                       \
                                                [](Row & r, const Cell& c) { assign(r.name, c); } \
  }
#define ENUM(name, parser)                                                         \
  {                                                                                \
#name, FieldType::kText, false, [](const Row& r) { return cell(r.name); },       \
   [](std::string_view v) { (void)parser(v); }, [](Row& r, const Cell& c) { assign(r.name, c); } \
  }

// Tables whose rows carry owner_id and team_id.
inline constexpr std::string_view kRecordTables[] = {
    "users", "teams",     "tags",   "companies", "contacts",
    "leads", "pipelines", "stages", "deals",     "activities"};

template <std::size_t... I>
constexpr auto columns_in_all(std::string_view column, std::index_sequence<I...>) {
  return std::array<Referrer, sizeof...(I)>{Referrer{kRecordTables[I], column}...};
}
inline constexpr auto kOwnerReferrers = columns_in_all("owner_id", std::make_index_sequence<10>());
inline constexpr auto kTeamReferrers = columns_in_all("team_id", std::make_index_sequence<10>());

inline void check_owner_and_team(island::Transaction& tx, const Record& r) {
  if (r.owner_id) require_exists(tx, "users", *r.owner_id, "owner_id");
  if (r.team_id) require_exists(tx, "teams", *r.team_id, "team_id");
}

inline void validate_record(const Record& r) {
  if (r.external_id) {
    check_text("external_id", *r.external_id);
    if (r.external_id->empty()) check_required("external_id", *r.external_id);
  }
}

inline void validate_names(const std::string& first, const std::string& last) {
  check_text("first_name", first);
  check_text("last_name", last);
  if (first.find_first_not_of(" \t\r\n") == std::string::npos &&
      last.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ValidationError("last_name: a first or last name is required", "last_name");
}

// The lists of a contact, lead or company, both ways, checked, and kept in step with its
// primary email and phone.
template <typename T, typename Row>
void points_to_row(const T& in, Row& out) {
  out.emails = points_column(in.emails);
  out.phones = points_column(in.phones);
  out.addresses = addresses_column(in.addresses);
}
template <typename Row, typename T>
void points_from_row(const Row& in, T& out) {
  out.emails = points_of(in.emails, in.email);
  out.phones = points_of(in.phones, in.phone);
  out.addresses = addresses_of(in.addresses);
}
template <typename T>
void check_points_of(const T& in) {
  check_emails("emails", in.emails);
  check_phones("phones", in.phones);
  check_addresses("addresses", in.addresses);
}
template <typename T>
void reconcile_phones(const T* stored, T& next, const Named* named) {
  reconcile_points({"phone", "phones", &next.phone, stored != nullptr ? &stored->phone : nullptr,
                    &next.phones, stored != nullptr ? &stored->phones : nullptr, false},
                   named);
}
template <typename T>
void reconcile_person_points(const T* stored, T& next, const Named* named) {
  reconcile_points({"email", "emails", &next.email, stored != nullptr ? &stored->email : nullptr,
                    &next.emails, stored != nullptr ? &stored->emails : nullptr, true},
                   named);
  reconcile_phones(stored, next, named);
}

}  // namespace banyan::store::detail
