// Each record type's JSON fields: the table that writes, reads, patches, filters and
// documents it (record_json.hpp).
#include "record_json.hpp"

#include <algorithm>

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

json date_json(Date d) { return format_date(d); }

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
             bad("amount", R"(must be {"minor_units": integer, "currency": "USD"})");
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

}  // namespace banyan::rest
