#include "store/custom_fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/model/time.hpp"
#include "store/entity.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store::detail {
namespace {

using nlohmann::json;

constexpr std::size_t kLongTextMax = std::size_t{64} * 1024;

std::string field_of(const CustomFieldDefinition& def) { return "custom." + def.name; }

[[noreturn]] void invalid(const CustomFieldDefinition& def, const std::string& why) {
  throw ValidationError(field_of(def) + ": " + why, field_of(def));
}

template <typename V>
const V& expect(const CustomFieldDefinition& def, const CustomValue& value, const char* what) {
  if (const V* v = std::get_if<V>(&value)) return *v;
  invalid(def, std::string("expects ") + what);
}

void check_limits(const CustomFieldDefinition& def, double v) {
  if (def.min && v < *def.min) invalid(def, "is below the minimum " + std::to_string(*def.min));
  if (def.max && v > *def.max) invalid(def, "is above the maximum " + std::to_string(*def.max));
}

bool valid_url(std::string_view s) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.starts_with(scheme)) {
      std::string_view host = s.substr(scheme.size());
      host = host.substr(0, host.find_first_of("/?#"));
      return !host.empty() && host.find(' ') == std::string_view::npos;
    }
  }
  return false;
}

bool valid_phone(std::string_view s) {
  int digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' ||
                 (c == '+' && i == 0))) {
      return false;
    }
  }
  return digits >= 3 && digits <= 20 && s.size() <= 32;
}

bool in_options(const CustomFieldDefinition& def, const std::string& v) {
  return std::find(def.options.begin(), def.options.end(), v) != def.options.end();
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_real(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

json encode_value(const CustomFieldDefinition& def, const CustomValue& v) {
  switch (def.type) {
    case CustomFieldType::kNumber:
      return std::get<std::int64_t>(v);
    case CustomFieldType::kDecimal:
      return std::get<double>(v);
    case CustomFieldType::kBool:
      return std::get<bool>(v) ? 1 : 0;
    case CustomFieldType::kDate:
      return days(std::get<Date>(v));
    case CustomFieldType::kDateTime:
      return micros(std::get<Timestamp>(v));
    case CustomFieldType::kMultiEnum:
      return std::get<std::vector<std::string>>(v);
    case CustomFieldType::kCurrency: {
      const auto& m = std::get<Money>(v);
      return json{{"minor", m.minor_units}, {"currency", m.currency}};
    }
    default:
      return std::get<std::string>(v);
  }
}

// Tolerant: a stored value that does not fit the definition reads as no value.
CustomValue decode_value(const CustomFieldDefinition& def, const json& j) {
  switch (def.type) {
    case CustomFieldType::kNumber:
      if (j.is_number_integer()) return j.get<std::int64_t>();
      break;
    case CustomFieldType::kDecimal:
      if (j.is_number()) return j.get<double>();
      break;
    case CustomFieldType::kBool:
      if (j.is_number_integer()) return j.get<std::int64_t>() != 0;
      break;
    case CustomFieldType::kDate:
      if (j.is_number_integer()) return date(j.get<std::int64_t>());
      break;
    case CustomFieldType::kDateTime:
      if (j.is_number_integer()) return timestamp(j.get<std::int64_t>());
      break;
    case CustomFieldType::kMultiEnum:
      if (j.is_array()) {
        std::vector<std::string> out;
        for (const auto& e : j)
          if (e.is_string()) out.push_back(e.get<std::string>());
        return out;
      }
      break;
    case CustomFieldType::kCurrency:
      if (j.is_object() && j.contains("minor") && j.contains("currency") &&
          j["minor"].is_number_integer() && j["currency"].is_string())
        return Money{j["minor"].get<std::int64_t>(), j["currency"].get<std::string>()};
      break;
    default:
      if (j.is_string()) return j.get<std::string>();
      break;
  }
  return std::monostate{};
}

json parse_json(const std::unique_ptr<std::string>& text) {
  if (!text || text->empty()) return json::object();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

}  // namespace

nlohmann::json value_json(const CustomFieldDefinition& def, const CustomValue& value) {
  return encode_value(def, value);
}

CustomValue value_of_json(const CustomFieldDefinition& def, const nlohmann::json& stored) {
  return decode_value(def, stored);
}

std::string json_key(Id definition_id) { return "f" + std::to_string(definition_id); }

FieldSet FieldSet::load(island::Transaction& tx, ObjectType type) {
  island::SqlFragment clause;
  clause.text("object_type = ");
  clause.param(text_param(std::string(to_string(type))));
  clause.text(" ORDER BY name");
  FieldSet out;
  for (const auto& row : island::RowStore<odbrows::CustomFieldDefinitionRow>::select(tx, clause)) {
    CustomFieldDefinition d;
    d.id = row.id;
    d.version = row.version;
    d.object_type = parse_object_type(row.object_type);
    d.name = row.name;
    d.label = row.label;
    d.type = parse_custom_field_type(row.type);
    d.required = row.required;
    if (row.options_json) {
      json o = json::parse(*row.options_json, nullptr, false);
      if (o.is_array())
        for (const auto& e : o)
          if (e.is_string()) d.options.push_back(e.get<std::string>());
    }
    if (row.default_json) {
      json v = json::parse(*row.default_json, nullptr, false);
      if (!v.is_discarded()) d.default_value = decode_value(d, v);
    }
    d.min = value(row.min_value);
    d.max = value(row.max_value);
    d.max_length = value(row.max_length);
    d.scale = row.scale;
    d.deprecated = row.deprecated;
    d.sensitive = row.is_sensitive;
    out.defs_.push_back(std::move(d));
  }
  return out;
}

const CustomFieldDefinition* FieldSet::by_name(std::string_view name) const {
  for (const auto& d : defs_)
    if (d.name == name) return &d;
  return nullptr;
}

void check_value(const CustomFieldDefinition& def, CustomValue& value) {
  if (std::holds_alternative<std::monostate>(value)) return;
  switch (def.type) {
    case CustomFieldType::kText: {
      const auto& s = expect<std::string>(def, value, "text");
      check_text(field_of(def), s, static_cast<std::size_t>(def.max_length.value_or(255)));
      return;
    }
    case CustomFieldType::kLongText: {
      const auto& s = expect<std::string>(def, value, "text");
      check_text(field_of(def), s, kLongTextMaxBytes);
      const auto cap = static_cast<std::size_t>(def.max_length.value_or(kLongTextMax));
      if (s.size() > std::min(cap, kLongTextMax))
        invalid(def, "is longer than " + std::to_string(std::min(cap, kLongTextMax)) + " bytes");
      return;
    }
    case CustomFieldType::kNumber:
      // 12.0 is the integer 12 (JSON does not tell them apart); 12.5 is not an integer.
      if (const auto* d = std::get_if<double>(&value);
          d != nullptr && std::trunc(*d) == *d && std::abs(*d) < 9.0e18)
        value = static_cast<std::int64_t>(*d);
      check_limits(def, static_cast<double>(expect<std::int64_t>(def, value, "an integer")));
      return;
    case CustomFieldType::kDecimal: {
      double d = 0;
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        d = static_cast<double>(*i);
      } else {
        d = expect<double>(def, value, "a number");
      }
      if (!std::isfinite(d)) invalid(def, "must be a finite number");
      const double scale = std::pow(10.0, static_cast<double>(def.scale));
      d = std::round(d * scale) / scale;
      check_limits(def, d);
      value = d;
      return;
    }
    case CustomFieldType::kDate:
      // Text is the natural form at every edge (JSON, Python): read it here, once.
      if (const auto* s = std::get_if<std::string>(&value)) {
        const auto d = parse_date(*s);
        if (!d) invalid(def, "expects a date (YYYY-MM-DD), not '" + s->substr(0, 64) + "'");
        value = *d;
      }
      expect<Date>(def, value, "a date (YYYY-MM-DD)");
      return;
    case CustomFieldType::kDateTime:
      if (const auto* s = std::get_if<std::string>(&value)) {
        const auto t = parse_timestamp(*s);
        if (!t)
          invalid(
              def,
              "expects an RFC 3339 date and time (e.g. 2019-02-11T10:00:00Z, at most six fraction "
              "digits), not '" +
                  s->substr(0, 64) + "'");
        value = *t;
      }
      expect<Timestamp>(def, value, "an RFC 3339 date and time (e.g. 2019-02-11T10:00:00Z)");
      return;
    case CustomFieldType::kBool:
      expect<bool>(def, value, "true or false");
      return;
    case CustomFieldType::kEnum: {
      const auto& s = expect<std::string>(def, value, "one of its options");
      if (!in_options(def, s)) invalid(def, "'" + s + "' is not one of its options");
      return;
    }
    case CustomFieldType::kMultiEnum: {
      const auto& list = expect<std::vector<std::string>>(def, value, "a list of its options");
      std::set<std::string> seen;
      for (const auto& s : list) {
        if (!in_options(def, s)) invalid(def, "'" + s + "' is not one of its options");
        if (!seen.insert(s).second) invalid(def, "'" + s + "' is listed twice");
      }
      return;
    }
    case CustomFieldType::kUrl: {
      const auto& s = expect<std::string>(def, value, "a URL");
      check_text(field_of(def), s, 2048);
      if (!valid_url(s)) invalid(def, "is not an http(s) URL");
      return;
    }
    case CustomFieldType::kEmail:
      check_email(field_of(def), std::string_view(expect<std::string>(def, value, "an email")));
      return;
    case CustomFieldType::kPhone: {
      const auto& s = expect<std::string>(def, value, "a phone number");
      if (!valid_phone(s)) invalid(def, "is not a phone number");
      return;
    }
    case CustomFieldType::kCurrency: {
      const auto& m = expect<Money>(def, value, "an amount of money");
      check_currency(field_of(def), m.currency);
      check_limits(def, static_cast<double>(m.minor_units));
      return;
    }
  }
}

std::unique_ptr<std::string> encode_custom(const FieldSet& fields, const CustomFields& values,
                                           bool creating, const CustomTouch& touch) {
  json out = json::object();
  auto unknown = [&](const std::string& name) {
    if (fields.by_name(name) == nullptr)
      throw ValidationError("custom." + name + ": no such custom field", "custom." + name);
  };
  for (const auto& entry : values) unknown(entry.first);
  if (touch.named != nullptr)
    for (const auto& name : *touch.named) unknown(name);
  auto touched = [&](const std::string& name) {
    if (creating || touch.all_named) return true;
    if (touch.named != nullptr && touch.named->count(name) > 0) return true;
    // An update that empties a field changes it when it had a value.
    return touch.stored == nullptr || touch.stored->count(name) > 0;
  };
  for (const CustomFieldDefinition& def : fields.all()) {
    auto it = values.find(def.name);
    CustomValue v = it != values.end() ? it->second : CustomValue{};
    if (creating && !def.deprecated && std::holds_alternative<std::monostate>(v))
      v = def.default_value;
    check_value(def, v);
    if (std::holds_alternative<std::monostate>(v)) {
      if (def.required && !def.deprecated && touched(def.name)) invalid(def, "is required");
      continue;
    }
    out[json_key(def.id)] = encode_value(def, v);
  }
  if (out.empty()) return nullptr;
  return std::make_unique<std::string>(out.dump());
}

CustomFields decode_custom(const FieldSet& fields, const std::unique_ptr<std::string>& text) {
  CustomFields out;
  if (!text) return out;
  const json j = parse_json(text);
  for (const CustomFieldDefinition& def : fields.all()) {
    auto it = j.find(json_key(def.id));
    if (it == j.end()) continue;
    CustomValue v = decode_value(def, *it);
    if (!std::holds_alternative<std::monostate>(v)) out.emplace(def.name, std::move(v));
  }
  return out;
}

nlohmann::json custom_json(const FieldSet& fields, const std::unique_ptr<std::string>& text) {
  json out = json::object();
  if (!text) return out;
  const json j = parse_json(text);
  for (const CustomFieldDefinition& def : fields.all()) {
    auto it = j.find(json_key(def.id));
    if (it != j.end()) out[def.name] = *it;
  }
  return out;
}

std::string value_to_text(const CustomFieldDefinition& def, const CustomValue& value) {
  struct Visitor {
    const CustomFieldDefinition& def;
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(def.scale), d);
      return buf;
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(Date d) const { return format_date(d); }
    std::string operator()(Timestamp t) const { return format_timestamp(t); }
    std::string operator()(const std::vector<std::string>& list) const {
      std::string out;
      for (const auto& s : list) out += (out.empty() ? "" : ",") + s;
      return out;
    }
    std::string operator()(const Money& m) const {
      return std::to_string(m.minor_units) + " " + m.currency;
    }
  };
  return std::visit(Visitor{def}, value);
}

std::optional<CustomValue> value_from_text(const CustomFieldDefinition& def,
                                           const std::string& raw) {
  const std::string text = trim(raw);
  CustomValue v;
  switch (def.type) {
    case CustomFieldType::kNumber: {
      auto i = parse_int(text);
      if (!i) {
        // "12.0" is a whole number too.
        auto d = parse_real(text);
        if (!d || std::trunc(*d) != *d || std::abs(*d) > 9.0e18) return std::nullopt;
        i = static_cast<std::int64_t>(*d);
      }
      v = *i;
      break;
    }
    case CustomFieldType::kDecimal: {
      auto d = parse_real(text);
      if (!d) return std::nullopt;
      v = *d;
      break;
    }
    case CustomFieldType::kBool:
      if (text == "true" || text == "yes" || text == "1") {
        v = true;
      } else if (text == "false" || text == "no" || text == "0") {
        v = false;
      } else {
        return std::nullopt;
      }
      break;
    case CustomFieldType::kDate: {
      auto d = parse_date(text);
      if (!d) return std::nullopt;
      v = *d;
      break;
    }
    case CustomFieldType::kDateTime: {
      if (auto t = parse_timestamp(text)) {
        v = *t;
      } else if (auto i = parse_int(text)) {
        v = timestamp(*i);  // microseconds since the epoch, as older versions wrote them
      } else if (auto d = parse_date(text)) {
        v = Timestamp(std::chrono::sys_days(*d));
      } else {
        return std::nullopt;
      }
      break;
    }
    case CustomFieldType::kMultiEnum: {
      std::vector<std::string> list;
      std::size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        const auto comma = text.find(',', start);
        list.push_back(trim(
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      v = std::move(list);
      break;
    }
    case CustomFieldType::kCurrency: {
      const auto space = text.rfind(' ');
      if (space == std::string::npos) return std::nullopt;
      auto minor = parse_int(trim(text.substr(0, space)));
      if (!minor) return std::nullopt;
      v = Money{*minor, text.substr(space + 1)};
      break;
    }
    default:
      v = raw;  // text-like types keep the text as it is
      break;
  }
  try {
    check_value(def, v);
  } catch (const ValidationError&) {
    return std::nullopt;
  }
  return v;
}

std::string custom_value_sql(island::Backend backend, std::string_view table,
                             const CustomFieldDefinition& def) {
  std::string path = "'$." + json_key(def.id);
  if (def.type == CustomFieldType::kCurrency) path += ".minor";
  path += "'";
  const std::string column = std::string(table) + ".custom_fields";
  if (backend == island::Backend::kSqlite) return "json_extract(" + column + ", " + path + ")";
  // JSON_VALUE reads scalars only; a multi-enum's array is only ever tested for NULL.
  if (def.type == CustomFieldType::kMultiEnum) return "JSON_EXTRACT(" + column + ", " + path + ")";
  std::string v = "JSON_VALUE(" + column + ", " + path + ")";
  switch (def.type) {
    case CustomFieldType::kNumber:
    case CustomFieldType::kDate:
    case CustomFieldType::kDateTime:
    case CustomFieldType::kBool:
    case CustomFieldType::kCurrency:
      return "CAST(" + v + " AS SIGNED)";
    case CustomFieldType::kDecimal:
      return "CAST(" + v + " AS DOUBLE)";
    default:
      return v;
  }
}

void custom_contains_sql(island::SqlFragment& out, island::Backend backend, std::string_view table,
                         const CustomFieldDefinition& def, const std::string& option) {
  const std::string column = std::string(table) + ".custom_fields";
  const std::string path = "'$." + json_key(def.id) + "'";
  if (backend == island::Backend::kSqlite) {
    out.text("(EXISTS (SELECT 1 FROM json_each(" + column + ", " + path +
             ") AS option WHERE option.value = ");
    out.param(text_param(option));
    out.text("))");
  } else {
    out.text("(JSON_CONTAINS(" + column + ", JSON_QUOTE(");
    out.param(text_param(option));
    out.text("), " + path + ") = 1)");
  }
}

CustomCell custom_cell(const CustomFieldDefinition& def, const std::unique_ptr<std::string>& text) {
  CustomCell c;
  const json j = parse_json(text);
  auto it = j.find(json_key(def.id));
  if (it == j.end()) return c;
  const json& v = def.type == CustomFieldType::kCurrency && it->is_object() && it->contains("minor")
                      ? (*it)["minor"]
                      : *it;
  if (v.is_number_integer()) {
    c.kind = CustomCell::Kind::kInt;
    c.i = v.get<std::int64_t>();
  } else if (v.is_number()) {
    c.kind = CustomCell::Kind::kReal;
    c.d = v.get<double>();
  } else if (v.is_string()) {
    c.kind = CustomCell::Kind::kText;
    c.s = v.get<std::string>();
  }
  return c;
}

}  // namespace banyan::store::detail
