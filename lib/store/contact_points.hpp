// Contact points (banyan/model/contact_point.hpp) in the store: their checks, the rule
// that keeps a record's `email` and `phone` in step with its lists, their stored form (a
// JSON text column each) and the keys that contact point filters look up.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/model/contact_point.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/query.hpp"
#include "store/entity.hpp"

namespace banyan::store::detail {

class FieldCipher;  // store/field_cipher.hpp

// The types that have emails, phones and addresses.
template <typename T>
inline constexpr bool kHasContactPoints =
    T::kType == ObjectType::kContact || T::kType == ObjectType::kLead ||
    T::kType == ObjectType::kCompany;

// Throws ValidationError naming the entry ("emails[1].value") unless every entry is
// well-formed: a valid email (or a non-blank phone), a label of at most 64 characters, at
// most one primary, no value twice (emails compared without case), at most 20 entries;
// for addresses a known country code, at least one part, at most 10.
void check_emails(std::string_view field, const ContactPoints& emails);
void check_phones(std::string_view field, const ContactPoints& phones);
void check_addresses(std::string_view field, const Addresses& addresses);

// Keeps a primary value (`email`, null for a company's emails) and its list in step, for
// a write of `next` over `stored` (null on create) naming `named` (null for a whole
// record): the list's primary entry is the value. A write that touches the list sets the
// value from it (its first entry is primary when none is flagged); one that touches only
// the value changes the primary entry's value, or adds the entry. ValidationError when
// both are written and disagree, when more than one entry is primary, or when the value
// is cleared while the list holds other entries.
struct PointPair {
  std::string_view value_name;        // "email"
  std::string_view list_name;         // "emails"
  std::optional<std::string>* value;  // null: the type has no primary value
  const std::optional<std::string>* stored_value;
  ContactPoints* list;
  const ContactPoints* stored_list;
  bool email = false;  // compare values without case
};
void reconcile_points(const PointPair& pair, const Named* named);

// Makes `value` the primary entry of `list`: the entry that has it, or a new first one; the
// old primary stays as a secondary entry. For a merge that takes `email` from a loser.
void promote_primary(ContactPoints& list, const std::string& value, bool email);

// The stored form (null for an empty list) and back. A list read from a row where the
// column is null but the primary value is set (a row from before schema 20) is that value
// alone, as primary. Countries are stored in upper case.
std::unique_ptr<std::string> points_column(const ContactPoints& points);
std::unique_ptr<std::string> addresses_column(const Addresses& addresses);
ContactPoints points_of(const std::unique_ptr<std::string>& column,
                        const std::unique_ptr<std::string>& primary = nullptr);
Addresses addresses_of(const std::unique_ptr<std::string>& column);

// A country code in its stored form: upper case ("de" -> "DE"). Filters compare in it.
std::string country_code(std::string_view given);

// The filters on contact points: `email` and `phone` (any of the record's), `city` and
// `country` (of any address). The kind they look up in record_points, or null.
const char* point_filter_kind(std::string_view field);

// One lookup key of a record: its kind ("email", "phone", "city", "country") and key (an
// email as given, or its blind index when emails are sealed; a phone as given, and none
// when phones are sealed, since sealed phones are not filtered on; a city as given; a
// country code).
struct PointKey {
  std::string kind;
  std::string key;
};
// The keys of a record's plain lists; `blind` (non-null when emails and phones are
// sealed) turns an email into its key.
std::vector<PointKey> point_keys(const ContactPoints& emails, const ContactPoints& phones,
                                 const Addresses& addresses, const FieldCipher* blind);
// Replaces the record's keys in record_points. `fresh`: it has none yet.
void store_point_keys(island::Transaction& tx, ObjectRef record, const std::vector<PointKey>& keys,
                      bool fresh);

}  // namespace banyan::store::detail
