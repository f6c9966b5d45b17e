// Rows in their stored form: sensitive values sealed (store/field_cipher.hpp) when the
// database has keys. Repositories seal a row right before writing it and open it right
// after; everything built from the stored row (event payloads, audit diffs) carries the
// sealed values, and everything built for use (records, match keys, search entries) the
// plain ones.
#pragma once

#include <algorithm>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"

namespace banyan::store::detail {

// A column whose values are sensitive: sealed at rest when encryption is on.
template <typename Row>
struct SealedColumn {
  std::string_view field;  // "email"
  std::unique_ptr<std::string> Row::*member;
};

// Which types have sealed columns: those with sensitive standard fields (kSensitive in
// banyan/model/fields.hpp). A test holds the two to each other.
constexpr bool has_sealed_columns(ObjectType type) {
  return type == ObjectType::kContact || type == ObjectType::kLead;
}

template <typename T>
inline constexpr bool kHasSealedColumns = has_sealed_columns(T::kType);

// The sealed columns of each type (none for most): the row members of its sensitive
// fields, in the descriptor's order.
template <typename T>
std::span<const SealedColumn<typename Entity<T>::Row>> sealed_columns() {
  using Row = typename Entity<T>::Row;
  if constexpr (kHasSealedColumns<T>) {
    static const SealedColumn<Row> kColumns[] = {{"email", &Row::email},
                                                 {"phone", &Row::phone},
                                                 {"emails", &Row::emails},
                                                 {"phones", &Row::phones}};
    return kColumns;
  } else {
    return {};
  }
}

// Where a value lives, the associated data of its sealed form: "contact.email".
inline std::string sealed_place(ObjectType type, std::string_view field) {
  return std::string(to_string(type)) + "." + std::string(field);
}

// Whether a field's values (as the audit trail names them: "email", "custom.<name>") may
// be sealed.
inline bool may_be_sealed(ObjectType type, std::string_view field) {
  if (field.starts_with("custom.")) return true;
  const auto sealed = standard_field_names(type, kSensitive);
  return std::find(sealed.begin(), sealed.end(), field) != sealed.end();
}

// Custom values of sensitive fields are stored as {"enc": "<sealed JSON of the value>"}.
// Seals the sensitive values in `json` (a record's custom_fields), keeping the sealed
// values of `stored` (the row as stored now) where the value did not change.
std::unique_ptr<std::string> seal_custom(const FieldCipher& cipher, ObjectType type,
                                         const FieldSet& fields,
                                         const std::unique_ptr<std::string>& json,
                                         const std::unique_ptr<std::string>* stored);
// A custom value in its sealed form.
nlohmann::json seal_json(const FieldCipher& cipher, std::string_view place,
                         const nlohmann::json& value);
// Opens sealed custom values in place. Unavailable if there is one and no cipher.
void open_custom(const FieldCipher* cipher, ObjectType type, std::unique_ptr<std::string>& json);
// Opens one value as the audit trail stores it (a sealed string, or {"enc": ...}); any
// other value is returned as it is.
nlohmann::json open_json(const FieldCipher* cipher, std::string_view place,
                         const nlohmann::json& value);

// A stored value made plain (as it is when not sealed). Unavailable when it is sealed and
// there is no cipher.
std::string opened(const FieldCipher* cipher, std::string_view place, std::string stored);

// Seals the plain row `row` in place (a no-op without a cipher): sensitive columns, the
// email's blind index, sensitive custom values. Where `stored` (the row as stored now)
// holds the same value sealed with the current key, that sealed value is kept, so an
// unchanged value neither churns nor shows as changed in the audit trail.
template <typename T>
void seal_row(DatabaseState& db, const FieldSet& fields, typename Entity<T>::Row& row,
              const typename Entity<T>::Row* stored) {
  const FieldCipher* cipher = db.cipher.get();
  if (cipher == nullptr) return;
  if constexpr (kHasSealedColumns<T>) {
    row.email_index =
        row.email ? std::make_unique<std::string>(cipher->blind_index(normalized_email(*row.email)))
                  : nullptr;
    for (const auto& c : sealed_columns<T>()) {
      auto& value = row.*c.member;
      if (!value || FieldCipher::is_sealed(*value)) continue;
      const std::string place = sealed_place(T::kType, c.field);
      const auto* kept = stored != nullptr ? (stored->*c.member).get() : nullptr;
      if (kept != nullptr && cipher->is_current(*kept) && cipher->open(*kept, place) == *value) {
        *value = *kept;
      } else {
        *value = cipher->seal(*value, place);
      }
    }
  }
  row.custom_fields = seal_custom(*cipher, T::kType, fields, row.custom_fields,
                                  stored != nullptr ? &stored->custom_fields : nullptr);
}

// Opens a stored row in place: its sensitive values plain (plain values stay as they are).
template <typename T>
void open_row(DatabaseState& db, typename Entity<T>::Row& row) {
  if constexpr (kHasSealedColumns<T>) {
    for (const auto& c : sealed_columns<T>()) {
      auto& value = row.*c.member;  // the place is named only for a sealed value
      if (value && FieldCipher::is_sealed(*value))
        *value = opened(db.cipher.get(), sealed_place(T::kType, c.field), std::move(*value));
    }
  }
  open_custom(db.cipher.get(), T::kType, row.custom_fields);
}

// One batch of Database::rewrap_encrypted for one type: the records after `after`, each
// resealed with the current key where it is not yet. Moves `after` on; sets `done` after
// the last batch. Instantiated for every record type (repository.cpp).
template <typename T>
std::size_t rewrap_rows(UnitOfWork& uow, Id& after, std::size_t batch, bool& done);

}  // namespace banyan::store::detail
