// Engine::search: the store's full-text search, narrowed to what the principal may see.
#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <vector>

#include "banyan/engine.hpp"
#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"
#include "model/record_types.hpp"
#include "store/stores.hpp"

namespace banyan {
namespace {

using security::Action;

constexpr ObjectType kSearchable[] = {ObjectType::kCompany, ObjectType::kContact, ObjectType::kLead,
                                      ObjectType::kDeal, ObjectType::kActivity};

// The words of `text` as the search index cuts them, in ASCII lower case.
std::vector<std::string> folded_words(const std::string& text) {
  std::vector<std::string> out = store::search_words(text);
  for (auto& word : out)
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Every word of `query` begins a word of the record's fields `who` sees (its sensitive
// ones left out).
template <typename T>
bool found_in_open_fields(const T& record, const std::vector<std::string>& query) {
  std::vector<std::string> seen;
  auto add = [&](const std::string& text) {
    for (auto& w : folded_words(text)) seen.push_back(std::move(w));
  };
  for (const auto& f : standard_fields<T>()) {
    if (f.has(kSensitive)) continue;
    std::visit(
        [&](auto member) {
          using M = std::remove_cvref_t<decltype(record.*member)>;
          if constexpr (std::is_same_v<M, std::string>) {
            add(record.*member);
          } else if constexpr (std::is_same_v<M, std::optional<std::string>>) {
            if (record.*member) add(*(record.*member));
          } else if constexpr (std::is_same_v<M, ContactPoints>) {
            for (const auto& p : record.*member) add(p.value);
          }
        },
        f.member);
  }
  return std::all_of(query.begin(), query.end(), [&](const std::string& q) {
    return std::any_of(seen.begin(), seen.end(),
                       [&](const std::string& w) { return w.starts_with(q); });
  });
}

}  // namespace

std::vector<store::SearchHit> Engine::search(store::UnitOfWork& uow, const security::Principal& who,
                                             const store::SearchRequest& request) {
  if (request.limit < 1 || request.limit > 200)
    throw ValidationError("limit: must be between 1 and 200", "limit");
  const auto in_force = policy();
  const auto reads = [&](ObjectType t) {
    return in_force->scope(who, Action::kRead, t) != security::Scope::kNone;
  };
  store::SearchRequest wide = request;
  wide.types.clear();
  for (ObjectType t : request.types) {
    if (std::find(std::begin(kSearchable), std::end(kSearchable), t) == std::end(kSearchable))
      throw ValidationError("types: " + std::string(to_string(t)) + " records are not searchable",
                            "types");
    if (!reads(t))
      throw PermissionDenied(
          "types: " + who.name + " may not read " + std::string(to_string(t)) + " records",
          "types");
    wide.types.push_back(t);
  }
  if (request.types.empty())
    std::copy_if(std::begin(kSearchable), std::end(kSearchable), std::back_inserter(wide.types),
                 reads);
  if (wide.types.empty())
    throw PermissionDenied("types: " + who.name + " may read no searchable records", "types");
  wide.limit = std::min<std::size_t>(200, request.limit * 4);

  const auto query = folded_words(request.query);
  std::vector<store::SearchHit> out;
  for (auto& hit : store::stores(database()).search().search(uow, wide)) {
    bool visible = false;
    detail::with_record_type(hit.record.type, [&]<typename T>() {
      const auto record = store::stores(database()).records<T>().find(uow, hit.record.id);
      if (!record) return;
      const auto place = security::RecordScope::of(*record);
      if (!in_force->allows(who, Action::kRead, T::kType, place)) return;
      visible = in_force->allows(who, Action::kReadSensitive, T::kType, place) ||
                found_in_open_fields(*record, query);
    });
    if (!visible) continue;
    out.push_back(std::move(hit));
    if (out.size() == request.limit) break;
  }
  return out;
}

}  // namespace banyan
