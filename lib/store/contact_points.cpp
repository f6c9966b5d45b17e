#include "store/contact_points.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "store/field_cipher.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store::detail {
namespace {

using nlohmann::json;

// ISO 3166-1 alpha-2: the officially assigned codes.
constexpr std::string_view kCountries =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW";

constexpr std::size_t kMaxLabel = 64;

// Emails compare in the normal form of their blind index; phones as given.
bool same_value(std::string_view a, std::string_view b, bool email) {
  return email ? normalized_email(a) == normalized_email(b) : a == b;
}

std::string entry(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

[[noreturn]] void invalid(const std::string& field, const std::string& why) {
  throw ValidationError(field + ": " + why, field);
}

template <typename List>
void check_one_primary(std::string_view field, const List& list) {
  std::size_t first = list.size();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].primary) continue;
    if (first != list.size())
      invalid(entry(field, i) + ".primary",
              "only one entry may be primary (" + entry(field, first) + " is)");
    first = i;
  }
}

void check_points(std::string_view field, const ContactPoints& points, bool email) {
  if (points.size() > kMaxContactPoints)
    invalid(std::string(field), "at most " + std::to_string(kMaxContactPoints) + " entries");
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string at = entry(field, i);
    if (email) {
      check_email(at + ".value", points[i].value);
    } else {
      check_required(at + ".value", points[i].value);
    }
    check_text(at + ".label", points[i].label, kMaxLabel);
    for (std::size_t j = 0; j < i; ++j)
      if (same_value(points[j].value, points[i].value, email))
        invalid(at + ".value", "repeats " + entry(field, j));
  }
  check_one_primary(field, points);
}

const ContactPoint* primary_of(const ContactPoints& list) {
  for (const auto& p : list)
    if (p.primary) return &p;
  return nullptr;
}

// Flags the entry equal to `value` as primary, or adds it first.
void make_primary(ContactPoints& list, const std::string& value, bool email) {
  for (auto& p : list) {
    if (same_value(p.value, value, email)) {
      p.primary = true;
      return;
    }
  }
  list.insert(list.begin(), ContactPoint{value, "", true});
}

bool touched(const PointPair& pair, const Named* named, std::string_view name, bool changed) {
  return pair.stored_list == nullptr ? changed : touches(named, name, changed);
}

}  // namespace

void check_emails(std::string_view field, const ContactPoints& emails) {
  check_points(field, emails, /*email=*/true);
}

void check_phones(std::string_view field, const ContactPoints& phones) {
  check_points(field, phones, /*email=*/false);
}

void check_addresses(std::string_view field, const Addresses& addresses) {
  if (addresses.size() > kMaxAddresses)
    invalid(std::string(field), "at most " + std::to_string(kMaxAddresses) + " entries");
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const Address& a = addresses[i];
    const std::string at = entry(field, i);
    check_text(at + ".label", a.label, kMaxLabel);
    check_text(at + ".street", a.street, 1000);
    check_text(at + ".city", a.city);
    check_text(at + ".region", a.region);
    check_text(at + ".postal_code", a.postal_code, 32);
    bool any = false;
    for (const auto* part : {&a.street, &a.city, &a.region, &a.postal_code, &a.country})
      any = any || (*part && part->value().find_first_not_of(" \t\r\n") != std::string::npos);
    if (!any) invalid(at, "an address needs a street, city, region, postal code or country");
    if (a.country) {
      const std::string code = country_code(*a.country);
      const bool known =
          code.size() == 2 &&
          code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos &&
          kCountries.find(code) != std::string_view::npos;
      if (!known)
        invalid(at + ".country", "'" + *a.country + "' is not an ISO 3166-1 alpha-2 code");
    }
  }
  check_one_primary(field, addresses);
}

void reconcile_points(const PointPair& pair, const Named* named) {
  ContactPoints& list = *pair.list;
  const bool list_touched =
      touched(pair, named, pair.list_name,
              pair.stored_list == nullptr ? !list.empty() : list != *pair.stored_list);
  // What the caller wrote is checked first, so an error names it rather than its copy.
  if (list_touched) check_points(pair.list_name, list, pair.email);
  if (pair.value == nullptr) {  // no primary value: the first entry is primary
    if (list_touched && !list.empty() && primary_of(list) == nullptr) list.front().primary = true;
    return;
  }
  std::optional<std::string>& value = *pair.value;
  const bool value_touched =
      touched(pair, named, pair.value_name,
              pair.stored_value == nullptr ? value.has_value() : value != *pair.stored_value);
  if (value_touched && value && pair.email) check_email(pair.value_name, *value);
  if (list_touched) {
    // A whole record that empties the list but keeps its value keeps that one entry.
    const bool keep = value_touched || (named == nullptr && list.empty());
    if (value && keep) {
      if (const ContactPoint* primary = primary_of(list)) {
        if (!same_value(primary->value, *value, pair.email))
          invalid(std::string(pair.value_name), "differs from the primary entry of " +
                                                    std::string(pair.list_name) +
                                                    "; write one of them, or both alike");
      } else {
        make_primary(list, *value, pair.email);
      }
    }
    if (!list.empty() && primary_of(list) == nullptr) list.front().primary = true;
    const ContactPoint* primary = primary_of(list);
    value = primary != nullptr ? std::optional<std::string>(primary->value) : std::nullopt;
    return;
  }
  if (value_touched) {
    auto primary = std::find_if(list.begin(), list.end(), [](const auto& p) { return p.primary; });
    if (value) {
      const auto other = std::find_if(list.begin(), list.end(), [&](const auto& p) {
        return !p.primary && same_value(p.value, *value, pair.email);
      });
      if (other != list.end()) {
        // Another entry's value: that entry becomes primary, the old one stays.
        if (primary != list.end()) primary->primary = false;
        other->primary = true;
      } else if (primary == list.end()) {
        make_primary(list, *value, pair.email);
      } else {
        primary->value = *value;
      }
      return;
    }
    if (primary != list.end()) list.erase(primary);
    if (!list.empty())
      invalid(std::string(pair.value_name),
              "cannot be cleared while " + std::string(pair.list_name) +
                  " holds other entries; write " + std::string(pair.list_name) + " instead");
    return;
  }
  // Neither written: a record from before the lists holds its value alone.
  if (value && list.empty()) list.push_back(ContactPoint{*value, "", true});
}

void promote_primary(ContactPoints& list, const std::string& value, bool email) {
  for (auto& p : list) p.primary = false;
  make_primary(list, value, email);
}

std::unique_ptr<std::string> points_column(const ContactPoints& points) {
  if (points.empty()) return nullptr;
  json out = json::array();
  for (const auto& p : points) {
    json e = {{"value", p.value}};
    if (!p.label.empty()) e["label"] = p.label;
    if (p.primary) e["primary"] = true;
    out.push_back(std::move(e));
  }
  return std::make_unique<std::string>(out.dump());
}

std::unique_ptr<std::string> addresses_column(const Addresses& addresses) {
  if (addresses.empty()) return nullptr;
  json out = json::array();
  for (const auto& a : addresses) {
    json e = {{"kind", std::string(to_string(a.kind))}};
    if (!a.label.empty()) e["label"] = a.label;
    if (a.primary) e["primary"] = true;
    if (a.street) e["street"] = *a.street;
    if (a.city) e["city"] = *a.city;
    if (a.region) e["region"] = *a.region;
    if (a.postal_code) e["postal_code"] = *a.postal_code;
    if (a.country) e["country"] = country_code(*a.country);
    out.push_back(std::move(e));
  }
  return std::make_unique<std::string>(out.dump());
}

namespace {

std::string text_of(const json& e, const char* key) {
  const auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::optional<std::string> optional_of(const json& e, const char* key) {
  const auto it = e.find(key);
  return it != e.end() && it->is_string() ? std::optional<std::string>(it->get<std::string>())
                                          : std::nullopt;
}
bool flag_of(const json& e, const char* key) {
  const auto it = e.find(key);
  return it != e.end() && it->is_boolean() && it->get<bool>();
}
json parsed_list(const std::unique_ptr<std::string>& column) {
  if (!column) return json::array();
  json list = json::parse(*column, nullptr, false);
  if (!list.is_array()) throw Unavailable("a stored list of contact points is not a JSON array");
  return list;
}

}  // namespace

ContactPoints points_of(const std::unique_ptr<std::string>& column,
                        const std::unique_ptr<std::string>& primary) {
  ContactPoints out;
  for (const auto& e : parsed_list(column))
    out.push_back({text_of(e, "value"), text_of(e, "label"), flag_of(e, "primary")});
  if (!column && primary) out.push_back({*primary, "", true});
  return out;
}

Addresses addresses_of(const std::unique_ptr<std::string>& column) {
  Addresses out;
  for (const auto& e : parsed_list(column)) {
    Address a;
    const std::string kind = text_of(e, "kind");
    a.kind = kind.empty() ? AddressKind::kOther : parse_address_kind(kind);
    a.label = text_of(e, "label");
    a.primary = flag_of(e, "primary");
    a.street = optional_of(e, "street");
    a.city = optional_of(e, "city");
    a.region = optional_of(e, "region");
    a.postal_code = optional_of(e, "postal_code");
    a.country = optional_of(e, "country");
    out.push_back(std::move(a));
  }
  return out;
}

std::string country_code(std::string_view given) {
  std::string out(given);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

const char* point_filter_kind(std::string_view field) {
  if (field == "email") return "email";
  if (field == "phone") return "phone";
  if (field == "city") return "city";
  if (field == "country") return "country";
  return nullptr;
}

std::vector<PointKey> point_keys(const ContactPoints& emails, const ContactPoints& phones,
                                 const Addresses& addresses, const FieldCipher* blind) {
  std::vector<PointKey> keys;
  for (const auto& e : emails)
    keys.push_back(
        {"email", blind != nullptr ? blind->blind_index(normalized_email(e.value)) : e.value});
  if (blind == nullptr)
    for (const auto& p : phones) keys.push_back({"phone", p.value});
  for (const auto& a : addresses) {
    if (a.city) keys.push_back({"city", *a.city});
    if (a.country) keys.push_back({"country", country_code(*a.country)});
  }
  return keys;
}

void store_point_keys(island::Transaction& tx, ObjectRef record, const std::vector<PointKey>& keys,
                      bool fresh) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& k : keys) rows.emplace_back(k.kind, k.key);
  replace_record_keys(tx, "record_points", "kind", "point_key", record, rows, fresh);
}

}  // namespace banyan::store::detail
