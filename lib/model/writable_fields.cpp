#include "model/writable_fields.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"

namespace banyan::detail {
namespace {

bool same_entry(const ContactPoint& a, const ContactPoint& b) {
  return a.value.size() == b.value.size() &&
         std::equal(a.value.begin(), a.value.end(), b.value.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
bool same_entry(const Address& a, const Address& b) {
  Address x = a, y = b;
  x.primary = y.primary = false;
  return x == y;
}

// Adds the entries of `from` that `into` lacks, as secondary ones, up to `limit`.
template <typename List>
void gather_entries(List& into, const List& from, std::size_t limit) {
  for (const auto& entry : from) {
    if (into.size() >= limit) return;
    const bool known =
        std::any_of(into.begin(), into.end(), [&](const auto& e) { return same_entry(e, entry); });
    if (known) continue;
    into.push_back(entry);
    into.back().primary = false;
  }
}

template <typename V>
bool is_blank(const V& v) {
  if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
  } else if constexpr (requires { v.empty(); }) {
    return v.empty();  // a text or a list
  } else {
    return false;
  }
}

// The writable fields of T's descriptor; money also by its parts, which a patch may name
// one by one.
template <typename T>
std::vector<WritableField<T>> derived() {
  std::vector<WritableField<T>> out;
  for (const auto& f : standard_fields<T>()) {
    if (!f.has(kWritable)) continue;
    std::visit(
        [&](auto member) {
          out.push_back({std::string(f.name),
                         [member](T& into, const T& from) { into.*member = from.*member; },
                         [member](const T& r) { return is_blank(r.*member); }, f.has(kMergeable),
                         nullptr});
          using V = std::remove_cvref_t<decltype(std::declval<T&>().*member)>;
          if constexpr (std::is_same_v<V, ContactPoints> || std::is_same_v<V, Addresses>) {
            constexpr std::size_t kLimit =
                std::is_same_v<V, Addresses> ? kMaxAddresses : kMaxContactPoints;
            out.back().gather = [member](T& into, const T& from) {
              gather_entries(into.*member, from.*member, kLimit);
            };
          }
          if constexpr (std::is_same_v<V, Money>) {
            const std::string whole(f.name);
            out.push_back({whole + ".minor_units",
                           [member](T& into, const T& from) {
                             (into.*member).minor_units = (from.*member).minor_units;
                           },
                           [](const T&) { return false; }, f.has(kMergeable), nullptr});
            out.push_back({whole + ".currency",
                           [member](T& into, const T& from) {
                             (into.*member).currency = (from.*member).currency;
                           },
                           [](const T&) { return false; }, f.has(kMergeable), nullptr});
          }
        },
        f.member);
  }
  return out;
}

template <typename T>
bool store_sets(std::string_view name) {
  const auto* f = standard_field<T>(name);
  return f != nullptr && !f->has(kWritable);
}

}  // namespace

// A type as a template argument needs no parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BANYAN_WRITABLE_FIELDS(T)                          \
  template <>                                              \
  std::span<const WritableField<T>> writable_fields<T>() { \
    static const auto fields = derived<T>();               \
    return fields;                                         \
  }
// NOLINTEND(bugprone-macro-parentheses)
BANYAN_WRITABLE_FIELDS(User)
BANYAN_WRITABLE_FIELDS(Team)
BANYAN_WRITABLE_FIELDS(Tag)
BANYAN_WRITABLE_FIELDS(Company)
BANYAN_WRITABLE_FIELDS(Contact)
BANYAN_WRITABLE_FIELDS(Lead)
BANYAN_WRITABLE_FIELDS(Pipeline)
BANYAN_WRITABLE_FIELDS(Stage)
BANYAN_WRITABLE_FIELDS(Deal)
BANYAN_WRITABLE_FIELDS(Activity)
#undef BANYAN_WRITABLE_FIELDS

bool is_store_set(ObjectType type, std::string_view name) {
  switch (type) {
    case ObjectType::kUser:
      return store_sets<User>(name);
    case ObjectType::kTeam:
      return store_sets<Team>(name);
    case ObjectType::kTag:
      return store_sets<Tag>(name);
    case ObjectType::kCompany:
      return store_sets<Company>(name);
    case ObjectType::kContact:
      return store_sets<Contact>(name);
    case ObjectType::kLead:
      return store_sets<Lead>(name);
    case ObjectType::kPipeline:
      return store_sets<Pipeline>(name);
    case ObjectType::kStage:
      return store_sets<Stage>(name);
    case ObjectType::kDeal:
      return store_sets<Deal>(name);
    case ObjectType::kActivity:
      return store_sets<Activity>(name);
  }
  return false;
}

void throw_not_writable(ObjectType type, const std::string& name) {
  if (is_store_set(type, name)) throw ValidationError(name + ": is set by the store", name);
  throw ValidationError(name + ": no such field", name);
}

}  // namespace banyan::detail
