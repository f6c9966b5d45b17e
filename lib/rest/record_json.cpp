#include "record_json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace banyan::rest {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw ValidationError(field + ": " + what, field);
}

std::string text(const json& v, const std::string& field) {
  if (!v.is_string()) bad(field, "must be a string");
  return v.get<std::string>();
}

std::optional<std::string> optional_text(const json& v, const std::string& field) {
  if (v.is_null()) return std::nullopt;
  return text(v, field);
}

std::optional<Id> optional_id(const json& v, const std::string& field) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0)
    bad(field, "must be a record id (a positive integer)");
  return v.get<std::uint64_t>();
}

json optional_json(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json optional_json(const std::optional<Id>& v) { return v ? json(*v) : json(nullptr); }
json optional_json(const std::optional<Timestamp>& v) {
  return v ? json(format_timestamp(*v)) : json(nullptr);
}

json id_schema(bool nullable) {
  return {{"type", nullable ? json{"integer", "null"} : json("integer")}, {"minimum", 1}};
}
json text_schema(bool nullable) {
  return {{"type", nullable ? json{"string", "null"} : json("string")}};
}
json time_schema(bool nullable) {
  return {{"type", nullable ? json{"string", "null"} : json("string")}, {"format", "date-time"}};
}

json date_json(Date d) { return format_date(d); }

}  // namespace

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
      bad(field, "money is {\"minor_units\": integer, \"currency\": \"EUR\"}, both members given");
    return Money{v["minor_units"].get<std::int64_t>(), text(v["currency"], field + ".currency")};
  }
  bad(field, "is not a custom field value");
}

namespace {

// The fields every record has.
template <typename T>
std::vector<JsonField<T>> record_fields() {
  std::vector<JsonField<T>> f;
  f.push_back({"id",
               false,
               FieldKind::kInteger,
               [](const T& r) { return json(r.id); },
               {},
               id_schema(false)});
  f.push_back({"version",
               false,
               FieldKind::kInteger,
               [](const T& r) { return json(r.version); },
               {},
               {{"type", "integer"}, {"minimum", 1}}});
  f.push_back(
      {"owner_id", true, FieldKind::kInteger, [](const T& r) { return optional_json(r.owner_id); },
       [](T& r, const json& v) { r.owner_id = optional_id(v, "owner_id"); }, id_schema(true)});
  f.push_back(
      {"team_id", true, FieldKind::kInteger, [](const T& r) { return optional_json(r.team_id); },
       [](T& r, const json& v) { r.team_id = optional_id(v, "team_id"); }, id_schema(true)});
  f.push_back({"external_id", true, FieldKind::kText,
               [](const T& r) { return optional_json(r.external_id); },
               [](T& r, const json& v) { r.external_id = optional_text(v, "external_id"); },
               text_schema(true)});
  f.push_back({"created_at",
               false,
               FieldKind::kTime,
               [](const T& r) { return json(format_timestamp(r.created_at)); },
               {},
               time_schema(false)});
  f.push_back({"created_by",
               false,
               FieldKind::kInteger,
               [](const T& r) { return optional_json(r.created_by); },
               {},
               id_schema(true)});
  f.push_back({"updated_at",
               false,
               FieldKind::kTime,
               [](const T& r) { return json(format_timestamp(r.updated_at)); },
               {},
               time_schema(false)});
  f.push_back({"updated_by",
               false,
               FieldKind::kInteger,
               [](const T& r) { return optional_json(r.updated_by); },
               {},
               id_schema(true)});
  f.push_back({"archived_at",
               false,
               FieldKind::kTime,
               [](const T& r) { return optional_json(r.archived_at); },
               {},
               time_schema(true)});
  f.push_back({"custom",
               true,
               FieldKind::kOther,
               [](const T& r) {
                 json out = json::object();
                 for (const auto& [name, value] : r.custom) out[name] = custom_value_json(value);
                 return out;
               },
               [](T& r, const json& v) {
                 if (!v.is_object()) bad("custom", "must be an object of field name to value");
                 r.custom.clear();
                 for (const auto& [name, value] : v.items())
                   r.custom[name] = custom_value_of(value, "custom." + name);
               },
               {{"type", "object"}, {"additionalProperties", custom_value_schema()}}});
  return f;
}

template <typename T, typename M>
JsonField<T> text_field(const char* name, M T::*member) {
  return {name,
          true,
          FieldKind::kText,
          [member](const T& r) { return json(r.*member); },
          [member, name](T& r, const json& v) { r.*member = text(v, name); },
          text_schema(false)};
}
template <typename T, typename M>
JsonField<T> optional_text_field(const char* name, M T::*member) {
  return {name,
          true,
          FieldKind::kText,
          [member](const T& r) { return optional_json(r.*member); },
          [member, name](T& r, const json& v) { r.*member = optional_text(v, name); },
          text_schema(true)};
}

template <typename T, typename M>
JsonField<T> optional_id_field(const char* name, M T::*member, bool writable = true) {
  return {name,
          writable,
          FieldKind::kInteger,
          [member](const T& r) { return optional_json(r.*member); },
          [member, name](T& r, const json& v) { r.*member = optional_id(v, name); },
          id_schema(true)};
}
template <typename T>
JsonField<T> id_field(const char* name, Id T::*member) {
  return {name,
          true,
          FieldKind::kInteger,
          [member](const T& r) { return json(r.*member); },
          [member, name](T& r, const json& v) {
            const auto id = optional_id(v, name);
            if (!id) bad(name, "is required");
            r.*member = *id;
          },
          id_schema(false)};
}
template <typename T>
JsonField<T> integer_field(const char* name, std::int64_t T::*member) {
  return {name,
          true,
          FieldKind::kInteger,
          [member](const T& r) { return json(r.*member); },
          [member, name](T& r, const json& v) {
            if (!v.is_number_integer()) bad(name, "must be an integer");
            r.*member = v.get<std::int64_t>();
          },
          {{"type", "integer"}}};
}
template <typename T>
JsonField<T> optional_integer_field(const char* name, std::optional<std::int64_t> T::*member) {
  return {name,
          true,
          FieldKind::kInteger,
          [member](const T& r) { return (r.*member) ? json(*(r.*member)) : json(nullptr); },
          [member, name](T& r, const json& v) {
            if (v.is_null()) {
              r.*member = std::nullopt;
              return;
            }
            if (!v.is_number_integer()) bad(name, "must be an integer");
            r.*member = v.get<std::int64_t>();
          },
          {{"type", {"integer", "null"}}}};
}
template <typename T>
JsonField<T> bool_field(const char* name, bool T::*member) {
  return {name,
          true,
          FieldKind::kBool,
          [member](const T& r) { return json(r.*member); },
          [member, name](T& r, const json& v) {
            if (!v.is_boolean()) bad(name, "must be true or false");
            r.*member = v.get<bool>();
          },
          {{"type", "boolean"}}};
}
// An enumeration by its stable name ("open", "won", ...); `last` is its last value.
template <typename T, typename E>
JsonField<T> enum_field(const char* name, E T::*member, E (*parse)(std::string_view), E last) {
  return {name,
          true,
          FieldKind::kText,
          [member](const T& r) { return json(std::string(to_string(r.*member))); },
          [member, name, parse](T& r, const json& v) {
            const std::string t = text(v, name);
            try {
              r.*member = parse(t);
            } catch (const ValidationError&) {
              bad(name, "'" + t + "' is not one of its values");
            }
          },
          enum_schema(last)};
}
template <typename T>
JsonField<T> optional_time_field(const char* name, std::optional<Timestamp> T::*member,
                                 bool writable = true) {
  return {name,
          writable,
          FieldKind::kTime,
          [member](const T& r) { return optional_json(r.*member); },
          [member, name](T& r, const json& v) {
            if (v.is_null()) {
              r.*member = std::nullopt;
              return;
            }
            const auto t = v.is_string() ? parse_timestamp(v.get<std::string>()) : std::nullopt;
            if (!t) bad(name, "must be an RFC 3339 time (e.g. 2026-01-02T10:00:00Z)");
            r.*member = *t;
          },
          time_schema(true)};
}

}  // namespace

void append_json_string(const std::string& text, std::string& out) {
  // Printable ASCII without a quote or backslash is its own JSON text; anything else
  // (escapes, UTF-8, invalid bytes to replace) goes through nlohmann.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
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

template <>
const std::vector<JsonField<Contact>>& json_fields<Contact>() {
  static const auto fields = [] {
    auto f = record_fields<Contact>();
    f.push_back(text_field("first_name", &Contact::first_name));
    f.push_back(text_field("last_name", &Contact::last_name));
    f.push_back(optional_text_field("email", &Contact::email));
    f.push_back(optional_text_field("phone", &Contact::phone));
    f.push_back(optional_text_field("title", &Contact::title));
    f.push_back({"merged_into",
                 false,
                 FieldKind::kInteger,
                 [](const Contact& r) { return optional_json(r.merged_into); },
                 {},
                 id_schema(true)});
    return f;
  }();
  return fields;
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
               "Records of the type holding no value (in answers about one definition)"}}},
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

template <>
const std::vector<JsonField<Company>>& json_fields<Company>() {
  static const auto fields = [] {
    auto f = record_fields<Company>();
    f.push_back(text_field("name", &Company::name));
    f.push_back(optional_text_field("domain", &Company::domain));
    f.push_back(optional_text_field("industry", &Company::industry));
    f.push_back(optional_text_field("phone", &Company::phone));
    f.push_back(optional_text_field("website", &Company::website));
    f.push_back(optional_integer_field("employee_count", &Company::employee_count));
    f.push_back(optional_id_field("merged_into", &Company::merged_into, false));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Lead>>& json_fields<Lead>() {
  static const auto fields = [] {
    auto f = record_fields<Lead>();
    f.push_back(text_field("first_name", &Lead::first_name));
    f.push_back(text_field("last_name", &Lead::last_name));
    f.push_back(optional_text_field("email", &Lead::email));
    f.push_back(optional_text_field("phone", &Lead::phone));
    f.push_back(optional_text_field("company_name", &Lead::company_name));
    f.push_back(optional_text_field("source", &Lead::source));
    f.push_back(enum_field("status", &Lead::status, &parse_lead_status, LeadStatus::kConverted));
    f.push_back(optional_time_field("converted_at", &Lead::converted_at, false));
    f.push_back(optional_id_field("converted_contact_id", &Lead::converted_contact_id, false));
    f.push_back(optional_id_field("converted_company_id", &Lead::converted_company_id, false));
    f.push_back(optional_id_field("converted_deal_id", &Lead::converted_deal_id, false));
    f.push_back(optional_id_field("merged_into", &Lead::merged_into, false));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Deal>>& json_fields<Deal>() {
  static const auto fields = [] {
    auto f = record_fields<Deal>();
    f.push_back(text_field("title", &Deal::title));
    f.push_back(id_field("pipeline_id", &Deal::pipeline_id));
    f.push_back(id_field("stage_id", &Deal::stage_id));
    f.push_back(
        {"amount",
         true,
         FieldKind::kOther,
         [](const Deal& r) {
           return json{{"minor_units", r.amount.minor_units}, {"currency", r.amount.currency}};
         },
         [](Deal& r, const json& v) {
           if (!v.is_object() || v.empty())
             bad("amount", "must be {\"minor_units\": integer, \"currency\": \"USD\"}");
           for (const auto& [k, x] : v.items())
             if (k != "minor_units" && k != "currency") bad("amount." + k, "no such field");
           if (v.contains("minor_units")) {
             if (!v["minor_units"].is_number_integer())
               bad("amount.minor_units", "must be an integer");
             r.amount.minor_units = v["minor_units"].get<std::int64_t>();
           }
           if (v.contains("currency")) r.amount.currency = text(v["currency"], "amount.currency");
         },
         money_schema(),
         {"minor_units", "currency"}});
    f.push_back({"expected_close",
                 true,
                 FieldKind::kDate,
                 [](const Deal& r) {
                   return r.expected_close ? date_json(*r.expected_close) : json(nullptr);
                 },
                 [](Deal& r, const json& v) {
                   if (v.is_null()) {
                     r.expected_close = std::nullopt;
                     return;
                   }
                   const auto d = v.is_string() ? parse_date(v.get<std::string>()) : std::nullopt;
                   if (!d) bad("expected_close", "must be a date (YYYY-MM-DD)");
                   r.expected_close = *d;
                 },
                 {{"type", {"string", "null"}}, {"format", "date"}}});
    f.push_back(optional_id_field("company_id", &Deal::company_id));
    f.push_back(enum_field("status", &Deal::status, &parse_deal_status, DealStatus::kLost));
    f.push_back(optional_time_field("closed_at", &Deal::closed_at));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Activity>>& json_fields<Activity>() {
  static const auto fields = [] {
    auto f = record_fields<Activity>();
    f.push_back(enum_field("kind", &Activity::kind, &parse_activity_kind, ActivityKind::kEmail));
    f.push_back(text_field("subject", &Activity::subject));
    f.push_back(optional_text_field("body", &Activity::body));
    f.push_back(optional_time_field("due_at", &Activity::due_at));
    f.push_back(optional_time_field("completed_at", &Activity::completed_at));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<User>>& json_fields<User>() {
  static const auto fields = [] {
    auto f = record_fields<User>();
    f.push_back(text_field("email", &User::email));
    f.push_back(text_field("name", &User::name));
    f.push_back(bool_field("active", &User::active));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Team>>& json_fields<Team>() {
  static const auto fields = [] {
    auto f = record_fields<Team>();
    f.push_back(text_field("name", &Team::name));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Tag>>& json_fields<Tag>() {
  static const auto fields = [] {
    auto f = record_fields<Tag>();
    f.push_back(text_field("name", &Tag::name));
    f.push_back(optional_text_field("color", &Tag::color));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Pipeline>>& json_fields<Pipeline>() {
  static const auto fields = [] {
    auto f = record_fields<Pipeline>();
    f.push_back(text_field("name", &Pipeline::name));
    return f;
  }();
  return fields;
}

template <>
const std::vector<JsonField<Stage>>& json_fields<Stage>() {
  static const auto fields = [] {
    auto f = record_fields<Stage>();
    f.push_back(id_field("pipeline_id", &Stage::pipeline_id));
    f.push_back(text_field("name", &Stage::name));
    f.push_back(integer_field("position", &Stage::position));
    f.push_back(integer_field("win_probability", &Stage::win_probability));
    f.push_back(enum_field("kind", &Stage::kind, &parse_stage_kind, StageKind::kLost));
    return f;
  }();
  return fields;
}

template <typename T>
json to_json(const T& record) {
  json out = json::object();
  for (const auto& f : json_fields<T>()) out[f.name] = f.get(record);
  return out;
}

template <typename T>
json to_json(const T& record, const std::vector<std::string>& fields) {
  if (fields.empty()) return to_json(record);
  json out = json::object();
  out["id"] = record.id;
  for (const auto& f : json_fields<T>())
    if (std::find(fields.begin(), fields.end(), f.name) != fields.end())
      out[f.name] = f.get(record);
  return out;
}

template <typename T>
void append_json_text(const T& record, const std::vector<std::string>& fields, std::string& out) {
  // Field names are plain identifiers, so only the values need escaping; no object (a
  // map of string keys) is built on the way.
  out += '{';
  bool first = true;
  for (const auto& f : json_fields<T>()) {
    if (!fields.empty() && f.name != "id" &&
        std::find(fields.begin(), fields.end(), f.name) == fields.end())
      continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += f.name;
    out += "\":";
    append_json_value(f.get(record), out);
  }
  out += '}';
}

namespace {
template <typename T>
const JsonField<T>& writable_json_field(const std::string& name) {
  const auto& fields = json_fields<T>();
  auto f = std::find_if(fields.begin(), fields.end(),
                        [&](const JsonField<T>& x) { return x.name == name; });
  if (f == fields.end()) bad(name, "no such field");
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
      for (const auto& [part, ignored] : v.items()) patch.fields.push_back(name + "." + part);
    } else {
      patch.fields.push_back(name);
    }
  }
  return patch;
}

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

}  // namespace banyan::rest
