// Engine::duplicates and Engine::duplicate_groups: the store's duplicate detection,
// narrowed to what the principal may read and see.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "banyan/engine.hpp"
#include "banyan/errors.hpp"
#include "banyan/security/access_policy.hpp"
#include "model/record_types.hpp"
#include "store/duplicates.hpp"
#include "store/stores.hpp"

namespace banyan {
namespace {

using security::Action;

// The field a rule compares, for the sensitivity check.
std::string_view field_of(store::DuplicateRule rule) {
  switch (rule) {
    case store::DuplicateRule::kEmail:
      return "email";
    case store::DuplicateRule::kPhone:
      return "phone";
    case store::DuplicateRule::kDomain:
      return "domain";
    case store::DuplicateRule::kName:
      return "name";
  }
  return "";
}

// A rule that compares a sensitive field of `type` (a person's email or phone).
bool compares_sensitive(ObjectType type, store::DuplicateRule rule) {
  const auto sensitive = security::sensitive_fields(type);
  return std::find(sensitive.begin(), sensitive.end(), field_of(rule)) != sensitive.end();
}

// What `who` may know of records of one type: whether it reads one, and whether it sees
// its sensitive fields. Each record is looked up once.
class Visibility {
 public:
  Visibility(Engine& engine, store::UnitOfWork& uow, const security::Principal& who,
             ObjectType type)
      : engine_(engine), uow_(uow), who_(who), type_(type), policy_(engine.policy()) {}

  bool reads(Id id) { return of(id).reads; }
  bool sees_sensitive(Id id) { return of(id).sensitive; }

 private:
  struct Seen {
    bool reads = false;
    bool sensitive = false;
  };

  const Seen& of(Id id) {
    if (const auto it = seen_.find(id); it != seen_.end()) return it->second;
    Seen seen;
    detail::with_record_type(type_, [&]<typename T>() {
      const auto record = store::stores(engine_.database()).records<T>().find(uow_, id);
      if (!record) return;
      const auto place = security::RecordScope::of(*record);
      seen.reads = policy_->allows(who_, Action::kRead, type_, place);
      seen.sensitive = seen.reads && policy_->allows(who_, Action::kReadSensitive, type_, place);
    });
    return seen_.emplace(id, seen).first->second;
  }

  Engine& engine_;
  store::UnitOfWork& uow_;
  const security::Principal& who_;
  ObjectType type_;
  std::shared_ptr<const security::AccessPolicy> policy_;
  std::map<Id, Seen> seen_;
};

}  // namespace

std::vector<store::DuplicateMatch> Engine::duplicates(store::UnitOfWork& uow,
                                                      const security::Principal& who,
                                                      ObjectRef record) {
  // NotFound unless `who` may read the record (a refusal noted as any read's is); the
  // store refuses a type without duplicate detection (ValidationError "type").
  if (record.type == ObjectType::kContact) contacts(who).get(uow, record.id);
  if (record.type == ObjectType::kCompany) companies(who).get(uow, record.id);
  if (record.type == ObjectType::kLead) leads(who).get(uow, record.id);
  Visibility visible(*this, uow, who, record.type);
  std::vector<store::DuplicateMatch> out;
  for (auto& match : store::stores(database()).duplicates().of(uow, record)) {
    if (!visible.reads(match.id)) continue;
    const bool both_seen = visible.sees_sensitive(record.id) && visible.sees_sensitive(match.id);
    std::erase_if(match.rules, [&](store::DuplicateRule rule) {
      return !both_seen && compares_sensitive(record.type, rule);
    });
    if (!match.rules.empty()) out.push_back(std::move(match));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const store::DuplicateMatch& a, const store::DuplicateMatch& b) {
                     return a.rules.size() > b.rules.size();
                   });
  return out;
}

std::vector<store::DuplicateGroup> Engine::duplicate_groups(store::UnitOfWork& uow,
                                                            const security::Principal& who,
                                                            ObjectType type,
                                                            std::size_t max_groups) {
  if (max_groups < 1 || max_groups > 1000)
    throw ValidationError("limit: must be between 1 and 1000", "limit");
  require(who, Action::kRead, type);
  Visibility visible(*this, uow, who, type);  // the store's scan refuses other types
  const auto finder = store::stores(database()).duplicates();
  const std::size_t step = std::max<std::size_t>(max_groups * 2, 50);
  std::vector<store::DuplicateGroup> out;
  for (std::size_t skip = 0;; skip += step) {
    const auto groups = finder.scan(uow, type, step, skip);
    for (const auto& group : groups) {
      const bool sensitive = compares_sensitive(type, group.rule);
      store::DuplicateGroup kept{group.rule, {}};
      for (Id id : group.ids)
        if (sensitive ? visible.sees_sensitive(id) : visible.reads(id)) kept.ids.push_back(id);
      if (kept.ids.size() < 2) continue;
      out.push_back(std::move(kept));
      if (out.size() == max_groups) return out;
    }
    if (groups.size() < step) return out;
  }
}

}  // namespace banyan
