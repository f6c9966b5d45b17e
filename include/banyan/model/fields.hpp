// Each record type's standard fields, described once: a line per field naming it, the
// member that holds it and what it may do. The JSON form and the OpenAPI schemas, patches
// and merges, masks and sealing, filters and sorts, and the store's text checks are all
// read from these tables (lib/model/fields.cpp), so adding a standard field is its member,
// its line there, its column and a migration.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "banyan/export.hpp"
#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/record.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"

namespace banyan {

// What a standard field may do; a field's flags are a bitwise or of these.
enum FieldFlag : unsigned {
  kWritable = 1U << 0,    // a caller sets it; otherwise only the store does
  kRequired = 1U << 1,    // a text that may not be empty or blank
  kSensitive = 1U << 2,   // personal: masked for principals without read_sensitive, sealed
                          // at rest when encryption is on; an optional text or a list
  kMergeable = 1U << 3,   // a merge may take it from a duplicate
  kFilterable = 1U << 4,  // a list may filter on it
  kSortable = 1U << 5,    // a list may sort by it
  kLongText = 1U << 6,    // a text of up to 1 MiB rather than 255 characters
};

// Flags shared by most fields: a caller writes it, merges take it, lists filter and sort
// on it; a field only the store writes, which lists filter and sort on; and a list
// (emails, phones, addresses), which lists filter on by its parts (`email`, `city`,
// `country`: the store's contact point filters) and never sort on.
inline constexpr unsigned kCallerField = kWritable | kMergeable | kFilterable | kSortable;
inline constexpr unsigned kStoreField = kFilterable | kSortable;
inline constexpr unsigned kListField = kWritable | kMergeable;

// The member that holds a field: what it holds decides how it reads and writes (a text,
// an id, an integer, a flag, a time, a date, money, an enumeration by its names, or a list
// of contact points or addresses).
template <typename T>
using FieldMember =
    std::variant<std::string T::*, std::optional<std::string> T::*, Id T::*, std::optional<Id> T::*,
                 std::int64_t T::*, std::optional<std::int64_t> T::*, bool T::*, Timestamp T::*,
                 std::optional<Timestamp> T::*, std::optional<Date> T::*, Money T::*,
                 LeadStatus T::*, DealStatus T::*, StageKind T::*, ActivityKind T::*,
                 ContactPoints T::*, Addresses T::*>;

template <typename T>
struct FieldDescriptor {
  std::string_view name;  // the public name: JSON, filters, patches, merges, history
  FieldMember<T> member;
  unsigned flags = 0;

  bool has(FieldFlag flag) const noexcept { return (flags & flag) != 0; }
};

// The standard fields of T in their public order: the fields every record has (id,
// version, owner_id, team_id, external_id, created_at, created_by, updated_at,
// updated_by, archived_at), then T's own. Custom values are not standard fields.
template <typename T>
std::span<const FieldDescriptor<T>> standard_fields();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<User>> standard_fields<User>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Team>> standard_fields<Team>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Tag>> standard_fields<Tag>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Company>> standard_fields<Company>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Contact>> standard_fields<Contact>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Lead>> standard_fields<Lead>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Pipeline>> standard_fields<Pipeline>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Stage>> standard_fields<Stage>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Deal>> standard_fields<Deal>();
template <>
BANYAN_EXPORT std::span<const FieldDescriptor<Activity>> standard_fields<Activity>();

// The field of T named `name`, or nullptr.
template <typename T>
const FieldDescriptor<T>* standard_field(std::string_view name) {
  for (const auto& f : standard_fields<T>())
    if (f.name == name) return &f;
  return nullptr;
}

// The names of an enumeration's values, in the order of the values (index == value).
template <typename E>
std::span<const std::string_view> enum_names();
template <>
BANYAN_EXPORT std::span<const std::string_view> enum_names<LeadStatus>();
template <>
BANYAN_EXPORT std::span<const std::string_view> enum_names<DealStatus>();
template <>
BANYAN_EXPORT std::span<const std::string_view> enum_names<StageKind>();
template <>
BANYAN_EXPORT std::span<const std::string_view> enum_names<ActivityKind>();

// The names of the standard fields of `type` that carry `flag`, in their order (e.g.
// kSensitive: what masks hide and encryption seals).
BANYAN_EXPORT std::span<const std::string> standard_field_names(ObjectType type, FieldFlag flag);

}  // namespace banyan
