// Custom field values inside the store: validation, JSON encoding, SQL expressions.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "banyan/model/custom_field.hpp"
#include "store/odb/island.hpp"

namespace banyan::store::detail {

// The definitions of one object type, read in the current transaction.
class FieldSet {
 public:
  static FieldSet load(island::Transaction& tx, ObjectType type);

  const CustomFieldDefinition* by_name(std::string_view name) const;
  const std::vector<CustomFieldDefinition>& all() const { return defs_; }

 private:
  std::vector<CustomFieldDefinition> defs_;
};

// "f<id>": the JSON key of a definition's values.
std::string json_key(Id definition_id);

// Which custom fields an update touches: the ones it names or changes. A required field
// must have a value on create, and after an update that touches it; a record that lacked
// one before the field became required can still be edited otherwise.
struct CustomTouch {
  const CustomFields* stored = nullptr;          // the values before the update
  const std::set<std::string>* named = nullptr;  // the fields the update names
  bool all_named = false;                        // every one (the map was replaced whole)
};

// Checks `values` against the definitions and returns the JSON to store (nullptr for no
// values). Applies defaults when `creating`. ValidationError("custom.<name>") for an
// unknown field (in `values` or named), a value of the wrong type or outside the limits,
// or a missing required value on a create or a touched field.
std::unique_ptr<std::string> encode_custom(const FieldSet& fields, const CustomFields& values,
                                           bool creating, const CustomTouch& touch = {});
// Values of known definitions; values of deleted definitions are left out.
CustomFields decode_custom(const FieldSet& fields, const std::unique_ptr<std::string>& json);
// The same values as a JSON object keyed by field name, each as stored (dates as days
// and datetimes as microseconds since the epoch, booleans as 0/1, money as
// {"minor", "currency"}): for event payloads.
nlohmann::json custom_json(const FieldSet& fields, const std::unique_ptr<std::string>& json);

// One value in its stored JSON form, and back (a stored value that does not fit the
// definition reads as no value). `value` must have passed check_value().
nlohmann::json value_json(const CustomFieldDefinition& def, const CustomValue& value);
CustomValue value_of_json(const CustomFieldDefinition& def, const nlohmann::json& stored);

// Checks and normalises one value for a definition (decimal rounding). Throws
// ValidationError("custom.<name>").
void check_value(const CustomFieldDefinition& def, CustomValue& value);

// A value's text form, and back: the path of type changes.
std::string value_to_text(const CustomFieldDefinition& def, const CustomValue& value);
// std::nullopt when `text` is no valid value of `def`.
std::optional<CustomValue> value_from_text(const CustomFieldDefinition& def,
                                           const std::string& text);

// The SQL expression of a custom field's scalar value in `table`, comparable with bound
// parameters of the field's type, per backend. For kCurrency, the minor units; for
// kMultiEnum, the array (good for IS NULL only).
std::string custom_value_sql(island::Backend backend, std::string_view table,
                             const CustomFieldDefinition& def);
// "(<table>'s multi-enum value contains ?)" with the option bound.
void custom_contains_sql(island::SqlFragment& out, island::Backend backend, std::string_view table,
                         const CustomFieldDefinition& def, const std::string& option);

// The row's stored value of a field as a keyset cursor sees it (int64, double, string or
// null), read from the raw JSON.
struct CustomCell {
  enum class Kind { kNull, kInt, kReal, kText } kind = Kind::kNull;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
};
CustomCell custom_cell(const CustomFieldDefinition& def, const std::unique_ptr<std::string>& json);

}  // namespace banyan::store::detail
