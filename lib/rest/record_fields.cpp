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

// --- contact points: emails, phones, addresses ----------------------------------------
json nullable_text(const std::string& v) { return v.empty() ? json(nullptr) : json(v); }
json nullable_text(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

// The entries of a list, each an object of the keys in `known` (others are refused).
template <typename F>
void each_entry(const json& v, const std::string& name, std::initializer_list<const char*> known,
                F&& read) {
  if (v.is_null()) return;
  if (!v.is_array()) bad(name, "must be an array");
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = name + "[" + std::to_string(i) + "]";
    const json& e = v[i];
    if (!e.is_object()) bad(at, "must be an object");
    for (const auto& member : e.items()) {
      const std::string& key = member.key();
      if (std::find_if(known.begin(), known.end(), [&](const char* k) { return key == k; }) !=
          known.end())
        continue;
      std::string field = at;
      field.append(".").append(key);
      bad(field, "no such field");
    }
    read(e, at);
  }
}
std::string label_of(const json& e, const std::string& at) {
  const auto it = e.find("label");
  return it == e.end() || it->is_null() ? std::string() : text(*it, at + ".label");
}
bool primary_of(const json& e, const std::string& at) {
  const auto it = e.find("primary");
  if (it == e.end() || it->is_null()) return false;
  if (!it->is_boolean()) bad(at + ".primary", "must be true or false");
  return it->get<bool>();
}

json points_json(const ContactPoints& points) {
  json out = json::array();
  for (const auto& p : points)
    out.push_back({{"value", p.value}, {"label", nullable_text(p.label)}, {"primary", p.primary}});
  return out;
}
ContactPoints points_from(const json& v, const std::string& name) {
  ContactPoints out;
  each_entry(v, name, {"value", "label", "primary"}, [&](const json& e, const std::string& at) {
    const auto value = e.find("value");
    if (value == e.end()) bad(at + ".value", "is required");
    out.push_back({text(*value, at + ".value"), label_of(e, at), primary_of(e, at)});
  });
  return out;
}
json points_schema(const char* what) {
  return {{"type", "array"},
          {"maxItems", 20},
          {"items",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", {"value"}},
            {"properties",
             {{"value", {{"type", "string"}, {"description", what}}},
              {"label", text_schema(true)},
              {"primary", {{"type", "boolean"}}}}}}}};
}

constexpr const char* kAddressParts[] = {"street", "city", "region", "postal_code", "country"};
std::optional<std::string> Address::*address_part(std::string_view part) {
  if (part == "street") return &Address::street;
  if (part == "city") return &Address::city;
  if (part == "region") return &Address::region;
  if (part == "postal_code") return &Address::postal_code;
  return &Address::country;
}

json addresses_json(const Addresses& addresses) {
  json out = json::array();
  for (const auto& a : addresses) {
    json e = {{"kind", std::string(to_string(a.kind))},
              {"label", nullable_text(a.label)},
              {"primary", a.primary}};
    for (const char* part : kAddressParts) e[part] = nullable_text(a.*address_part(part));
    out.push_back(std::move(e));
  }
  return out;
}
Addresses addresses_from(const json& v, const std::string& name) {
  Addresses out;
  each_entry(v, name,
             {"kind", "label", "primary", "street", "city", "region", "postal_code", "country"},
             [&](const json& e, const std::string& at) {
               Address a;
               if (const auto kind = e.find("kind"); kind != e.end() && !kind->is_null()) {
                 const std::string k = text(*kind, at + ".kind");
                 try {
                   a.kind = parse_address_kind(k);
                 } catch (const ValidationError&) {
                   bad(at + ".kind", "'" + k + "' is not one of billing, shipping, mailing, other");
                 }
               }
               a.label = label_of(e, at);
               a.primary = primary_of(e, at);
               for (const char* part : kAddressParts) {
                 const auto it = e.find(part);
                 if (it != e.end() && !it->is_null())
                   a.*address_part(part) = text(*it, at + "." + part);
               }
               out.push_back(std::move(a));
             });
  return out;
}
json addresses_schema() {
  json properties = {
      {"kind", {{"type", "string"}, {"enum", {"billing", "shipping", "mailing", "other"}}}},
      {"label", text_schema(true)},
      {"primary", {{"type", "boolean"}}}};
  for (const char* part : kAddressParts) properties[part] = text_schema(true);
  properties["country"]["description"] = "ISO 3166-1 alpha-2, e.g. DE (stored in upper case)";
  return {
      {"type", "array"},
      {"maxItems", 10},
      {"items", {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}}}};
}

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
  } else if constexpr (std::is_same_v<V, ContactPoints>) {
    f.kind = FieldKind::kOther;
    f.get = [member](const T& r) { return points_json(r.*member); };
    f.set = [member, name](T& r, const json& v) { r.*member = points_from(v, name); };
    f.schema = points_schema(name == "emails" ? "an email address" : "a phone number");
    f.schema["description"] =
        name == "emails"
            ? "Every email address; the primary one is also `email` where the type has one"
            : "Every phone number; the primary one is also `phone`";
  } else if constexpr (std::is_same_v<V, Addresses>) {
    f.kind = FieldKind::kOther;
    f.get = [member](const T& r) { return addresses_json(r.*member); };
    f.set = [member, name](T& r, const json& v) { r.*member = addresses_from(v, name); };
    f.schema = addresses_schema();
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
