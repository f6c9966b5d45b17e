#include "model/writable_fields.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"

namespace banyan::detail {
namespace {

template <typename V>
bool is_blank(const V& v) {
  if constexpr (std::is_same_v<V, std::string>) {
    return v.empty();
  } else if constexpr (requires { v.has_value(); }) {
    return !v.has_value();
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
                         [member](const T& r) { return is_blank(r.*member); }, f.has(kMergeable)});
          using V = std::remove_cvref_t<decltype(std::declval<T&>().*member)>;
          if constexpr (std::is_same_v<V, Money>) {
            const std::string whole(f.name);
            out.push_back({whole + ".minor_units",
                           [member](T& into, const T& from) {
                             (into.*member).minor_units = (from.*member).minor_units;
                           },
                           [](const T&) { return false; }, f.has(kMergeable)});
            out.push_back({whole + ".currency",
                           [member](T& into, const T& from) {
                             (into.*member).currency = (from.*member).currency;
                           },
                           [](const T&) { return false; }, f.has(kMergeable)});
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
