// Custom fields: fields each CRM defines at run time, per object type, without a rebuild
// or a schema change. Definitions live in the database (CustomFieldRegistry); values
// travel in Record::custom, keyed by the field's name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

enum class CustomFieldType {
  kText,       // std::string, one line, max_length (default 255) characters
  kLongText,   // std::string, up to 64 KiB
  kNumber,     // std::int64_t
  kDecimal,    // double, rounded to the definition's scale (decimal places)
  kDate,       // Date
  kDateTime,   // Timestamp
  kBool,       // bool
  kEnum,       // std::string, one of the options
  kMultiEnum,  // std::vector<std::string>, each one of the options, no repeats
  kUrl,        // std::string, http:// or https://
  kEmail,      // std::string, an email address
  kPhone,      // std::string, digits with an optional leading +, spaces, dots, dashes, ()
  kCurrency,   // Money
};

BANYAN_EXPORT std::string_view to_string(CustomFieldType type) noexcept;
// Throws ValidationError("type") for an unknown name.
BANYAN_EXPORT CustomFieldType parse_custom_field_type(std::string_view name);

struct BANYAN_EXPORT CustomFieldDefinition {
  Id id = 0;
  std::uint64_t version = 0;  // optimistic, like records
  ObjectType object_type = ObjectType::kContact;
  // Lower-case letters, digits and '_', starting with a letter; unique per object type.
  std::string name;
  std::string label;  // for people; defaults to the name
  CustomFieldType type = CustomFieldType::kText;
  // A write must give a value (after defaults are applied). Not enforced once deprecated.
  bool required = false;
  // Filled in on create when the record gives no value.
  CustomValue default_value;
  std::vector<std::string> options;  // kEnum, kMultiEnum: the allowed values
  std::optional<double> min;         // kNumber, kDecimal, kCurrency (minor units)
  std::optional<double> max;
  std::optional<std::int64_t> max_length;  // text types: characters
  std::int64_t scale = 2;                  // kDecimal: decimal places kept
  // Kept for old records and still readable, but no longer required or defaulted.
  bool deprecated = false;
  // Personal or confidential: masked (left out of the record) for principals without
  // read_sensitive on the record, who may not filter, sort or write on it either.
  bool sensitive = false;

  friend bool operator==(const CustomFieldDefinition&, const CustomFieldDefinition&) = default;
};

}  // namespace banyan
