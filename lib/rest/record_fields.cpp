// Each record type's JSON fields, derived from its standard fields (banyan/model/fields.hpp):
// the table that writes, reads, patches, filters and documents it (record_json.hpp).
#include "record_json.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

#include "banyan/model/fields.hpp"

namespace banyan::rest {

namespace {

using detail::bad;
using detail::text;

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

template <typename V>
constexpr bool kIsEnum = std::is_enum_v<V>;

// How a field holding a V reads and writes as JSON, and its schema.
template <typename T, typename V>
JsonField<T> json_field(const FieldDescriptor<T>& descriptor, V T::*member) {
  const std::string name(descriptor.name);
  JsonField<T> f;
  f.name = name;
  f.writable = descriptor.has(kWritable);
  f.filterable = descriptor.has(kFilterable);
  f.sortable = descriptor.has(kSortable);
  if constexpr (std::is_same_v<V, std::string>) {
    f.kind = FieldKind::kText;
    f.get = [member](const T& r) { return json(r.*member); };
    f.set = [member, name](T& r, const json& v) { r.*member = text(v, name); };
    f.schema = text_schema(false);
  } else if constexpr (std::is_same_v<V, std::optional<std::string>>) {
    f.kind = FieldKind::kText;
    f.get = [member](const T& r) { return optional_json(r.*member); };
    f.set = [member, name](T& r, const json& v) { r.*member = optional_text(v, name); };
    f.schema = text_schema(true);
  } else if constexpr (std::is_same_v<V, Id>) {
    f.kind = FieldKind::kInteger;
    f.get = [member](const T& r) { return json(r.*member); };
    f.set = [member, name](T& r, const json& v) {
      const auto id = optional_id(v, name);
      if (!id) bad(name, "is required");
      r.*member = *id;
    };
    f.schema = id_schema(false);
  } else if constexpr (std::is_same_v<V, std::optional<Id>>) {
    f.kind = FieldKind::kInteger;
    f.get = [member](const T& r) { return optional_json(r.*member); };
    f.set = [member, name](T& r, const json& v) { r.*member = optional_id(v, name); };
    f.schema = id_schema(true);
  } else if constexpr (std::is_same_v<V, std::int64_t>) {
    f.kind = FieldKind::kInteger;
    f.get = [member](const T& r) { return json(r.*member); };
    f.set = [member, name](T& r, const json& v) {
      if (!v.is_number_integer()) bad(name, "must be an integer");
      r.*member = v.get<std::int64_t>();
    };
    f.schema = {{"type", "integer"}};
  } else if constexpr (std::is_same_v<V, std::optional<std::int64_t>>) {
    f.kind = FieldKind::kInteger;
    f.get = [member](const T& r) { return (r.*member) ? json(*(r.*member)) : json(nullptr); };
    f.set = [member, name](T& r, const json& v) {
      if (v.is_null()) {
        r.*member = std::nullopt;
        return;
      }
      if (!v.is_number_integer()) bad(name, "must be an integer");
      r.*member = v.get<std::int64_t>();
    };
    f.schema = {{"type", {"integer", "null"}}};
  } else if constexpr (std::is_same_v<V, bool>) {
    f.kind = FieldKind::kBool;
    f.get = [member](const T& r) { return json(r.*member); };
    f.set = [member, name](T& r, const json& v) {
      if (!v.is_boolean()) bad(name, "must be true or false");
      r.*member = v.get<bool>();
    };
    f.schema = {{"type", "boolean"}};
  } else if constexpr (std::is_same_v<V, Timestamp>) {
    f.kind = FieldKind::kTime;
    f.get = [member](const T& r) { return json(format_timestamp(r.*member)); };
    f.set = [member, name](T& r, const json& v) {
      const auto t = v.is_string() ? parse_timestamp(v.get<std::string>()) : std::nullopt;
      if (!t) bad(name, "must be an RFC 3339 time (e.g. 2026-01-02T10:00:00Z)");
      r.*member = *t;
    };
    f.schema = time_schema(false);
  } else if constexpr (std::is_same_v<V, std::optional<Timestamp>>) {
    f.kind = FieldKind::kTime;
    f.get = [member](const T& r) { return optional_json(r.*member); };
    f.set = [member, name](T& r, const json& v) {
      if (v.is_null()) {
        r.*member = std::nullopt;
        return;
      }
      const auto t = v.is_string() ? parse_timestamp(v.get<std::string>()) : std::nullopt;
      if (!t) bad(name, "must be an RFC 3339 time (e.g. 2026-01-02T10:00:00Z)");
      r.*member = *t;
    };
    f.schema = time_schema(true);
  } else if constexpr (std::is_same_v<V, std::optional<Date>>) {
    f.kind = FieldKind::kDate;
    f.get = [member](const T& r) {
      return (r.*member) ? json(format_date(*(r.*member))) : json(nullptr);
    };
    f.set = [member, name](T& r, const json& v) {
      if (v.is_null()) {
        r.*member = std::nullopt;
        return;
      }
      const auto d = v.is_string() ? parse_date(v.get<std::string>()) : std::nullopt;
      if (!d) bad(name, "must be a date (YYYY-MM-DD)");
      r.*member = *d;
    };
    f.schema = {{"type", {"string", "null"}}, {"format", "date"}};
  } else if constexpr (std::is_same_v<V, Money>) {
    f.kind = FieldKind::kOther;
    f.get = [member](const T& r) {
      return json{{"minor_units", (r.*member).minor_units}, {"currency", (r.*member).currency}};
    };
    f.set = [member, name](T& r, const json& v) {
      if (!v.is_object() || v.empty())
        bad(name, R"(must be {"minor_units": integer, "currency": "USD"})");
      for (const auto& [k, x] : v.items()) {
        if (k == "minor_units" || k == "currency") continue;
        std::string part = name;
        part += ".";
        part += k;
        bad(part, "no such field");
      }
      if (v.contains("minor_units")) {
        if (!v["minor_units"].is_number_integer()) bad(name + ".minor_units", "must be an integer");
        (r.*member).minor_units = v["minor_units"].get<std::int64_t>();
      }
      if (v.contains("currency")) (r.*member).currency = text(v["currency"], name + ".currency");
    };
    f.schema = money_schema();
    f.parts = {"minor_units", "currency"};
  } else {
    static_assert(kIsEnum<V>, "a standard field's member type without a JSON form");
    // An enumeration by its stable name ("open", "won", ...).
    f.kind = FieldKind::kText;
    f.get = [member](const T& r) { return json(std::string(to_string(r.*member))); };
    f.set = [member, name](T& r, const json& v) {
      const std::string t = text(v, name);
      const auto names = enum_names<V>();
      const auto it = std::find(names.begin(), names.end(), t);
      if (it == names.end()) bad(name, "'" + t + "' is not one of its values");
      r.*member = static_cast<V>(it - names.begin());
    };
    json choices = json::array();
    for (const auto n : enum_names<V>()) choices.push_back(std::string(n));
    f.schema = {{"type", "string"}, {"enum", choices}};
  }
  return f;
}

// Custom values, kept by name in every record.
template <typename T>
JsonField<T> custom_field() {
  JsonField<T> f;
  f.name = "custom";
  f.kind = FieldKind::kOther;
  f.filterable = false;
  f.sortable = false;
  f.get = [](const T& r) {
    json out = json::object();
    for (const auto& [name, value] : r.custom) out[name] = custom_value_json(value);
    return out;
  };
  f.set = [](T& r, const json& v) {
    if (!v.is_object()) bad("custom", "must be an object of field name to value");
    r.custom.clear();
    for (const auto& [name, value] : v.items())
      r.custom[name] = custom_value_of(value, "custom." + name);
  };
  f.schema = {{"type", "object"}, {"additionalProperties", custom_value_schema()}};
  return f;
}

// T's standard fields, with "custom" after the fields every record has.
template <typename T>
std::vector<JsonField<T>> derived() {
  std::vector<JsonField<T>> out;
  for (const auto& d : standard_fields<T>()) {
    out.push_back(std::visit([&](auto member) { return json_field(d, member); }, d.member));
    if (d.name == "archived_at") out.push_back(custom_field<T>());
  }
  return out;
}

}  // namespace

// A type as a template argument needs no parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BANYAN_JSON_FIELDS(T)                         \
  template <>                                         \
  const std::vector<JsonField<T>>& json_fields<T>() { \
    static const auto fields = derived<T>();          \
    return fields;                                    \
  }
// NOLINTEND(bugprone-macro-parentheses)
BANYAN_JSON_FIELDS(User)
BANYAN_JSON_FIELDS(Team)
BANYAN_JSON_FIELDS(Tag)
BANYAN_JSON_FIELDS(Company)
BANYAN_JSON_FIELDS(Contact)
BANYAN_JSON_FIELDS(Lead)
BANYAN_JSON_FIELDS(Pipeline)
BANYAN_JSON_FIELDS(Stage)
BANYAN_JSON_FIELDS(Deal)
BANYAN_JSON_FIELDS(Activity)
#undef BANYAN_JSON_FIELDS

}  // namespace banyan::rest
