#include "record_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace banyan::rest {

namespace {

using detail::bad;
using detail::text;

json date_json(Date d) { return format_date(d); }

}  // namespace

[[noreturn]] void detail::bad(const std::string& field, const std::string& what) {
  throw ValidationError(field + ": " + what, field);
}

std::string detail::text(const json& v, const std::string& field) {
  if (!v.is_string()) bad(field, "must be a string");
  return v.get<std::string>();
}

json custom_value_json(const CustomValue& v) {
  return std::visit(
      [](const auto& x) -> json {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>)
          return nullptr;
        else if constexpr (std::is_same_v<X, Date>)
          return date_json(x);
        else if constexpr (std::is_same_v<X, Timestamp>)
          return format_timestamp(x);
        else if constexpr (std::is_same_v<X, Money>)
          return json{{"minor_units", x.minor_units}, {"currency", x.currency}};
        else
          return json(x);
      },
      v);
}

CustomValue custom_value_of(const json& v, const std::string& field) {
  if (v.is_null()) return std::monostate{};
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (v.is_array()) {
    std::vector<std::string> out;
    for (const auto& item : v) out.push_back(text(item, field));
    return out;
  }
  if (v.is_object()) {
    // Money, given whole: a value is replaced whole, so a currency left out would not mean
    // "as it was".
    if (v.size() != 2 || !v.contains("minor_units") || !v.contains("currency") ||
        !v["minor_units"].is_number_integer())
      bad(field, R"(money is {"minor_units": integer, "currency": "EUR"}, both members given)");
    return Money{v["minor_units"].get<std::int64_t>(), text(v["currency"], field + ".currency")};
  }
  bad(field, "is not a custom field value");
}

void append_json_value(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      char digits[24];
      const auto end =
          v.is_number_unsigned()
              ? std::to_chars(digits, digits + sizeof digits, v.get<std::uint64_t>()).ptr
              : std::to_chars(digits, digits + sizeof digits, v.get<std::int64_t>()).ptr;
      out.append(digits, end);
      return;
    }
    case json::value_t::string:
      append_json_string(v.get_ref<const std::string&>(), out);
      return;
    default:
      break;
  }
  out += v.dump(-1, ' ', false, json::error_handler_t::replace);
}

json money_schema() {
  return {
      {"type", "object"},
      {"properties", {{"minor_units", {{"type", "integer"}}}, {"currency", {{"type", "string"}}}}},
      {"required", {"minor_units"}},
      {"additionalProperties", false}};
}

json custom_value_schema() {
  return {{"description",
           "By the field's type: text, long_text, url, email, phone and enum a string; number an "
           "integer; decimal a "
           "number; bool a boolean; date a string YYYY-MM-DD; datetime an RFC 3339 string with any "
           "offset and up to "
           "six fraction digits (answered in UTC, Z); multi_enum a list of options; currency money "
           "(both members). "
           "null is no value"},
          {"anyOf",
           {{{"type", {"string", "number", "boolean", "null"}}},
            {{"type", "string"}, {"format", "date"}},
            {{"type", "string"}, {"format", "date-time"}},
            {{"type", "array"}, {"items", {{"type", "string"}}}},
            {{"type", "object"},
             {"properties",
              {{"minor_units", {{"type", "integer"}}}, {"currency", {{"type", "string"}}}}},
             {"required", {"minor_units", "currency"}},
             {"additionalProperties", false}}}}};
}

json backfill_schema() {
  return {{"type", "object"},
          {"properties",
           {{"state",
             {{"type", "string"}, {"enum", {"queued", "running", "done", "failed", "stopped"}}}},
            {"filled", {{"type", "integer"}, {"minimum", 0}}},
            {"left", {{"type", "integer"}, {"minimum", 0}}},
            {"error", {{"type", "string"}}}}},
          {"required", {"state", "filled", "left"}},
          {"additionalProperties", false}};
}

json custom_field_definition_schema() {
  const json number = {{"type", {"number", "null"}}};
  return {{"type", "object"},
          {"properties",
           {{"id", {{"type", "integer"}, {"minimum", 1}}},
            {"version", {{"type", "integer"}, {"minimum", 1}}},
            {"object_type", enum_schema(ObjectType::kActivity)},
            {"name", {{"type", "string"}}},
            {"label", {{"type", "string"}}},
            {"type", enum_schema(CustomFieldType::kCurrency)},
            {"required", {{"type", "boolean"}}},
            {"default_value", custom_value_schema()},
            {"options", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"min", number},
            {"max", number},
            {"max_length", {{"type", {"integer", "null"}}}},
            {"scale", {{"type", "integer"}}},
            {"deprecated", {{"type", "boolean"}}},
            {"sensitive", {{"type", "boolean"}}},
            {"records_without_value",
             {{"type", "integer"},
              {"minimum", 0},
              {"description",
               "Records of the type the caller may read holding no value (in answers about "
               "one definition; absent for a sensitive field whose values the caller does not "
               "see on every record it reads)"}}},
            {"backfill", {{"$ref", "#/components/schemas/Backfill"}}},
            {"sealed_records",
             {{"type", "integer"},
              {"minimum", 0},
              {"description",
               "Records whose stored values were sealed (in the answer to the change "
               "that marked the field sensitive, with encryption at rest on)"}}}}},
          {"required",
           {"id", "version", "object_type", "name", "label", "type", "required", "default_value",
            "options", "min", "max", "max_length", "scale", "deprecated", "sensitive"}},
          {"additionalProperties", false}};
}

json definition_json(const CustomFieldDefinition& d) {
  auto optional_number = [](const std::optional<double>& v) {
    return v ? json(*v) : json(nullptr);
  };
  return json{{"id", d.id},
              {"version", d.version},
              {"object_type", std::string(to_string(d.object_type))},
              {"name", d.name},
              {"label", d.label},
              {"type", std::string(to_string(d.type))},
              {"required", d.required},
              {"default_value", custom_value_json(d.default_value)},
              {"options", d.options},
              {"min", optional_number(d.min)},
              {"max", optional_number(d.max)},
              {"max_length", d.max_length ? json(*d.max_length) : json(nullptr)},
              {"scale", d.scale},
              {"deprecated", d.deprecated},
              {"sensitive", d.sensitive}};
}

void apply_definition_json(CustomFieldDefinition& d, const json& body, bool creating) {
  if (!body.is_object()) throw ValidationError("the body must be a JSON object");
  auto optional_number = [](const json& v, const std::string& name) -> std::optional<double> {
    if (v.is_null()) return std::nullopt;
    if (!v.is_number()) bad(name, "must be a number");
    return v.get<double>();
  };
  for (const auto& [k, v] : body.items()) {
    if (k == "object_type" || k == "name" || k == "type") {
      if (!creating)
        bad(k, "cannot change in a patch (rename or change the type with their own calls)");
      const std::string t = text(v, k);
      if (k == "object_type")
        d.object_type = parse_object_type(t);
      else if (k == "name")
        d.name = t;
      else
        d.type = parse_custom_field_type(t);
    } else if (k == "label") {
      d.label = text(v, k);
    } else if (k == "required" || k == "deprecated" || k == "sensitive") {
      if (!v.is_boolean()) bad(k, "must be true or false");
      (k == "required"     ? d.required
       : k == "deprecated" ? d.deprecated
                           : d.sensitive) = v.get<bool>();
    } else if (k == "default_value") {
      d.default_value = custom_value_of(v, k);
    } else if (k == "options") {
      if (!v.is_array()) bad(k, "must be a list of strings");
      d.options.clear();
      for (const auto& o : v) d.options.push_back(text(o, k));
    } else if (k == "min") {
      d.min = optional_number(v, k);
    } else if (k == "max") {
      d.max = optional_number(v, k);
    } else if (k == "max_length") {
      if (v.is_null())
        d.max_length = std::nullopt;
      else if (v.is_number_integer())
        d.max_length = v.get<std::int64_t>();
      else
        bad(k, "must be an integer");
    } else if (k == "scale") {
      if (!v.is_number_integer()) bad(k, "must be an integer");
      d.scale = v.get<std::int64_t>();
    } else if (k != "id" && k != "version") {
      bad(k, "no such field");
    } else {
      bad(k, "is set by the server");
    }
  }
}

namespace {
// `parse` (std::stoll, std::stod) over the whole of `text`.
template <typename N, typename Parse>
std::optional<N> parse_whole(const std::string& text, Parse parse) {
  std::size_t used = 0;
  try {
    const N v = parse(text, &used);
    if (used != 0 && used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::int64_t> parse_integer(const std::string& text) {
  return parse_whole<std::int64_t>(
      text, [](const std::string& t, std::size_t* used) { return std::stoll(t, used); });
}

std::optional<double> parse_decimal(const std::string& text) {
  return parse_whole<double>(
      text, [](const std::string& t, std::size_t* used) { return std::stod(t, used); });
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find(separator, at), text.size());
    if (end > at) out.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

template <typename T>
json to_json(const T& record) {
  json out = json::object();
  for (const auto& f : json_fields<T>()) out[f.name] = f.get(record);
  return out;
}

namespace {
bool named(const std::vector<std::string>& fields, std::string_view name) {
  return std::find(fields.begin(), fields.end(), name) != fields.end();
}

// Only the custom values `fields` names as "custom.<name>" (all of them when it names
// "custom"); null when it names none.
template <typename T>
json selected_custom(const T& record, const std::vector<std::string>& fields,
                     const JsonField<T>& custom) {
  if (named(fields, "custom")) return custom.get(record);
  json out;
  for (const auto& field : fields) {
    if (field.rfind("custom.", 0) != 0) continue;
    if (out.is_null()) out = json::object();
    const auto value = record.custom.find(field.substr(7));
    if (value != record.custom.end()) out[value->first] = custom_value_json(value->second);
  }
  return out;
}

// Field f's value when `fields` selects it (every field when empty; id always), else
// nullopt.
template <typename T>
std::optional<json> selected(const T& record, const std::vector<std::string>& fields,
                             const JsonField<T>& f) {
  if (fields.empty() || f.name == "id" || named(fields, f.name)) return f.get(record);
  if (f.name != "custom") return std::nullopt;
  json custom = selected_custom(record, fields, f);
  if (custom.is_null()) return std::nullopt;
  return custom;
}
}  // namespace

template <typename T>
json to_json(const T& record, const std::vector<std::string>& fields) {
  json out = json::object();
  for (const auto& f : json_fields<T>())
    if (auto value = selected(record, fields, f)) out[f.name] = std::move(*value);
  return out;
}

template <typename T>
void append_json_text(const T& record, const std::vector<std::string>& fields, std::string& out) {
  // Field names are plain identifiers, so only the values need escaping; no object (a
  // map of string keys) is built on the way.
  out += '{';
  bool first = true;
  for (const auto& f : json_fields<T>()) {
    const auto value = selected(record, fields, f);
    if (!value) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += f.name;
    out += "\":";
    append_json_value(*value, out);
  }
  out += '}';
}

namespace {
template <typename T>
const JsonField<T>& writable_json_field(const std::string& name) {
  const JsonField<T>* f = json_field<T>(name);
  if (f == nullptr) bad(name, "no such field");
  if (!f->writable) bad(name, "is set by the server");
  return *f;
}
}  // namespace

template <typename T>
void apply_json(T& record, const json& body) {
  if (!body.is_object()) throw ValidationError("the body must be a JSON object");
  for (const auto& item : body.items())
    writable_json_field<T>(item.key()).set(record, item.value());
}

template <typename T>
Patch<T> patch_of(const json& body) {
  if (!body.is_object()) throw ValidationError("the body must be a JSON object");
  Patch<T> patch;
  for (const auto& item : body.items()) {
    const std::string& name = item.key();
    const json& v = item.value();
    if (name == "custom") {
      if (v.is_null()) {
        patch.fields.push_back("custom");  // every custom value cleared (values.custom is empty)
        continue;
      }
      if (!v.is_object()) bad("custom", "must be an object of field name to value");
      for (const auto& [field, value] : v.items())
        patch.custom[field] = custom_value_of(value, "custom." + field);
      continue;
    }
    const JsonField<T>& f = writable_json_field<T>(name);
    f.set(patch.values, v);
    if (!f.parts.empty() && v.is_object()) {
      for (const auto& [part, ignored] : v.items()) patch.fields.push_back(name + '.' += part);
    } else {
      patch.fields.push_back(name);
    }
  }
  return patch;
}

// T is a template argument, not an expression.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BANYAN_RECORD_JSON(T)                                                                 \
  template json to_json<T>(const T&);                                                         \
  template json to_json<T>(const T&, const std::vector<std::string>&);                        \
  template void append_json_text<T>(const T&, const std::vector<std::string>&, std::string&); \
  template void apply_json<T>(T&, const json&);                                               \
  template Patch<T> patch_of<T>(const json&);
BANYAN_RECORD_JSON(User)
BANYAN_RECORD_JSON(Team)
BANYAN_RECORD_JSON(Tag)
BANYAN_RECORD_JSON(Company)
BANYAN_RECORD_JSON(Contact)
BANYAN_RECORD_JSON(Lead)
BANYAN_RECORD_JSON(Pipeline)
BANYAN_RECORD_JSON(Stage)
BANYAN_RECORD_JSON(Deal)
BANYAN_RECORD_JSON(Activity)
#undef BANYAN_RECORD_JSON
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace banyan::rest
