#include "store/match_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

#include "store/contact_points.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store::detail {
namespace {

// U+00C0..U+00FF folded to ASCII (0 where there is no sensible letter).
constexpr std::array<char, 64> kLatin1Fold = {
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   's',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y'};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void add(std::vector<MatchKey>& keys, DuplicateRule rule, std::string key) {
  if (!key.empty()) keys.push_back({rule, std::move(key)});
}

std::string person_name_key(const std::string& first, const std::string& last) {
  const std::string f = soundex(first), l = soundex(last);
  if (f.empty() || l.empty()) return "";  // one name alone is too weak a signal
  return f + " " + l;
}

std::string phone_key(std::string_view phone) {
  std::string digits = phone_digits(phone);
  return digits.size() >= 7 ? digits : "";
}

// Every email and phone of the row's lists (a row from before them: its email and phone).
template <typename Row>
void point_match_keys(std::vector<MatchKey>& keys, const Row& r) {
  ContactPoints emails;
  if constexpr (requires { r.email; }) {
    emails = points_of(r.emails, r.email);
  } else {
    emails = points_of(r.emails);
  }
  for (const auto& e : emails) add(keys, DuplicateRule::kEmail, lower(e.value));
  for (const auto& p : points_of(r.phones, r.phone))
    add(keys, DuplicateRule::kPhone, phone_key(p.value));
}

// One row per rule and key: two phones with the same digits are one key.
void dedupe(std::vector<MatchKey>& keys) {
  std::vector<MatchKey> out;
  for (auto& k : keys) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const MatchKey& o) {
      return o.rule == k.rule && o.key == k.key;
    });
    if (!seen) out.push_back(std::move(k));
  }
  keys = std::move(out);
}

}  // namespace

std::string fold_to_ascii_lower(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if ((c == 0xC3) && i + 1 < s.size()) {
      // U+00C0..U+00FF are C3 80..C3 BF.
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0xBF) {
        if (char folded = kLatin1Fold[next - 0x80]) out += folded;
        ++i;
      }
    }
    // Other non-ASCII characters carry no Soundex information: skipped.
  }
  return out;
}

std::string soundex(std::string_view word) {
  static constexpr char kCodes[] = "01230120022455012623010202";  // a..z
  std::string letters;
  for (char c : fold_to_ascii_lower(word))
    if (c >= 'a' && c <= 'z') letters += c;
  if (letters.empty()) return "";
  std::string out(1, static_cast<char>(std::toupper(static_cast<unsigned char>(letters[0]))));
  char last = kCodes[letters[0] - 'a'];
  for (std::size_t i = 1; i < letters.size() && out.size() < 4; ++i) {
    const char c = letters[i];
    const char code = kCodes[c - 'a'];
    if (code != '0' && code != last) out += code;
    // 'h' and 'w' do not separate equal codes; vowels do.
    if (c != 'h' && c != 'w') last = code;
  }
  out.resize(4, '0');
  return out;
}

std::string phone_digits(std::string_view phone) {
  std::string digits;
  for (char c : phone)
    if (c >= '0' && c <= '9') digits += c;
  if (digits.starts_with("00")) digits.erase(0, 2);  // 0044... is +44...
  return digits;
}

std::string company_name_key(std::string_view name) {
  static const std::array<std::string_view, 16> suffixes = {
      "inc", "incorporated", "ltd", "limited", "llc", "gmbh", "corp", "corporation",
      "co",  "company",      "sa",  "ag",      "plc", "bv",   "srl",  "oy"};
  std::istringstream words(fold_to_ascii_lower(name));
  std::vector<std::string> kept;
  std::string raw;
  while (words >> raw) {
    std::string w;
    for (char c : raw)
      if (std::isalnum(static_cast<unsigned char>(c))) w += c;
    if (!w.empty()) kept.push_back(w);
  }
  while (kept.size() > 1 &&
         std::find(suffixes.begin(), suffixes.end(), kept.back()) != suffixes.end())
    kept.pop_back();
  std::string key;
  for (const auto& w : kept) key += (key.empty() ? "" : " ") + w;
  return key;
}

namespace {
// Contacts and leads: people.
template <typename Row>
std::vector<MatchKey> person_keys(const Row& r) {
  std::vector<MatchKey> keys;
  point_match_keys(keys, r);
  add(keys, DuplicateRule::kName, person_name_key(r.first_name, r.last_name));
  dedupe(keys);
  return keys;
}
}  // namespace

std::vector<MatchKey> match_keys(const odbrows::ContactRow& r) { return person_keys(r); }
std::vector<MatchKey> match_keys(const odbrows::LeadRow& r) { return person_keys(r); }

std::vector<MatchKey> match_keys(const odbrows::CompanyRow& r) {
  std::vector<MatchKey> keys;
  if (r.domain) {
    std::string d = lower(*r.domain);
    if (d.starts_with("www.")) d.erase(0, 4);
    add(keys, DuplicateRule::kDomain, d);
  }
  point_match_keys(keys, r);
  add(keys, DuplicateRule::kName, company_name_key(r.name));
  dedupe(keys);
  return keys;
}

void store_match_keys(island::Transaction& tx, ObjectRef record, const std::vector<MatchKey>& keys,
                      bool fresh) {
  std::vector<std::pair<std::string, std::string>> rows;
  // Keys are compared whole; long ones are cut to fit the indexed column.
  for (const auto& k : keys)
    rows.emplace_back(std::string(to_string(k.rule)), k.key.substr(0, 200));
  replace_record_keys(tx, "match_keys", "rule", "match_key", record, rows, fresh);
}

namespace {
template <typename Row>
void backfill(island::Transaction& tx, ObjectType type, const std::string& table) {
  const std::string live = table + ".archived_at IS NULL";
  std::int64_t after = 0;
  for (;;) {
    auto rows = island::RowStore<Row>::select(tx, batch_after(table, live, after));
    if (rows.empty()) return;
    for (const Row& row : rows) {
      after = static_cast<std::int64_t>(row.id);
      store_match_keys(tx, {type, row.id}, match_keys(row));
    }
  }
}
}  // namespace

void backfill_match_keys(island::Transaction& tx) {
  backfill<odbrows::ContactRow>(tx, ObjectType::kContact, "contacts");
  backfill<odbrows::CompanyRow>(tx, ObjectType::kCompany, "companies");
  backfill<odbrows::LeadRow>(tx, ObjectType::kLead, "leads");
}

}  // namespace banyan::store::detail
