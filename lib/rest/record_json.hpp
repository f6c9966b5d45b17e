// Records as JSON: each record type is a list of fields (name, how to read it into JSON,
// how to set it from JSON), so one piece of code writes, reads and patches them all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "banyan/banyan.hpp"
#include "util/encoding.hpp"

namespace banyan::rest {

using nlohmann::json;

namespace detail {
// Throws ValidationError naming the field: "<field>: <what>".
[[noreturn]] void bad(const std::string& field, const std::string& what);
// The value as a string, or ValidationError naming the field.
std::string text(const json& v, const std::string& field);
}  // namespace detail

// What a field holds, for reading its filter values from a query string.
enum class FieldKind { kText, kInteger, kDecimal, kTime, kDate, kBool, kOther };

template <typename T>
struct JsonField {
  std::string name;
  bool writable = true;  // false: set by the store (id, version, timestamps)
  FieldKind kind = FieldKind::kOther;
  bool filterable = true;  // a list may filter on it (custom fields: by their type)
  bool sortable = true;
  std::function<json(const T&)> get;
  std::function<void(T&, const json&)> set;  // ValidationError(name) on a bad value
  json schema;                               // the value's JSON Schema, for the OpenAPI document
  // The members of a composite value (amount: minor_units, currency): a patch may name
  // them one by one, as JSON Merge Patch merges objects member by member.
  std::vector<std::string> parts{};
};

// One table per record type, derived from its standard fields (record_fields.cpp).
template <typename T>
const std::vector<JsonField<T>>& json_fields();
template <>
const std::vector<JsonField<User>>& json_fields<User>();
template <>
const std::vector<JsonField<Team>>& json_fields<Team>();
template <>
const std::vector<JsonField<Tag>>& json_fields<Tag>();
template <>
const std::vector<JsonField<Company>>& json_fields<Company>();
template <>
const std::vector<JsonField<Contact>>& json_fields<Contact>();
template <>
const std::vector<JsonField<Lead>>& json_fields<Lead>();
template <>
const std::vector<JsonField<Pipeline>>& json_fields<Pipeline>();
template <>
const std::vector<JsonField<Stage>>& json_fields<Stage>();
template <>
const std::vector<JsonField<Deal>>& json_fields<Deal>();
template <>
const std::vector<JsonField<Activity>>& json_fields<Activity>();

// The field of T named `name`, or nullptr.
template <typename T>
const JsonField<T>* json_field(std::string_view name) {
  for (const auto& f : json_fields<T>())
    if (f.name == name) return &f;
  return nullptr;
}

// Every field, by name.
template <typename T>
json to_json(const T& record);
// Only the fields named in `fields` (and id), or every field when it is empty.
template <typename T>
json to_json(const T& record, const std::vector<std::string>& fields);
// The same as to_json(record, fields).dump(), appended to `out`, without building the
// JSON object. Keys come in the field table's order.
template <typename T>
void append_json_text(const T& record, const std::vector<std::string>& fields, std::string& out);
// Sets the writable fields present in `body` (a JSON object) on `record`: a whole body
// for a create. Unknown or read-only fields are refused with ValidationError naming them.
template <typename T>
void apply_json(T& record, const json& body);
// A JSON Merge Patch (RFC 7396) body as a patch: each member names a field and gives its
// value (null clears it); an object given for a composite field names the members it
// has ("amount": {"currency": "EUR"} names amount.currency); "custom" names each custom
// field it holds (null clears one), and a null "custom" clears them all. Refused like
// apply_json.
template <typename T>
Patch<T> patch_of(const json& body);

// JSON Schemas shared by the fields and the OpenAPI document.
json money_schema();
// {"type": "string", "enum": [every name]} of an enumeration whose last value is `last`.
template <typename E>
json enum_schema(E last) {
  json names = json::array();
  for (int i = 0; i <= static_cast<int>(last); ++i)
    names.push_back(std::string(to_string(static_cast<E>(i))));
  return {{"type", "string"}, {"enum", names}};
}
json custom_value_schema();
// A custom value in its JSON form (dates "YYYY-MM-DD", times RFC 3339 in UTC, money
// {"minor_units", "currency"}), and one from JSON by its JSON type (texts stay texts: the
// library reads a date or time field's text by the definition; null is no value).
json custom_value_json(const CustomValue& v);
CustomValue custom_value_of(const json& v, const std::string& field);
json custom_field_definition_schema();
// The progress of a custom field's backfill.
json backfill_schema();

// A custom field definition, and the writable parts of one from a JSON object (unknown
// keys refused by name; name, type and object_type only where `creating`).
json definition_json(const CustomFieldDefinition& d);
void apply_definition_json(CustomFieldDefinition& d, const json& body, bool creating);

// Appends `v` as JSON text, as v.dump() would with invalid UTF-8 replaced, but without a
// serializer for the common values (null, booleans, integers, plain ASCII strings).
void append_json_value(const json& v, std::string& out);
using util::append_json_string;
// The whole of `text` as an integer or a number (std::stoll / std::stod); nullopt when
// any of it is not.
std::optional<std::int64_t> parse_integer(const std::string& text);
std::optional<double> parse_decimal(const std::string& text);
// The non-empty pieces of `text` between `separator`s: "a,,b" -> a, b; "/v1/x" -> v1, x.
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace banyan::rest
