#include "banyan/security/access_policy.hpp"

#include <algorithm>

#include "banyan/errors.hpp"
#include "banyan/model/fields.hpp"

namespace banyan::security {

Principal Principal::system() { return Principal{Kind::kSystem, std::nullopt, "system", {}, {}}; }

std::span<const std::string> sensitive_fields(ObjectType type) {
  return standard_field_names(type, kSensitive);
}

namespace {

bool reaches(Scope scope, const Principal& who, const RecordScope& record) {
  const bool own = who.user_id && record.owner_id == who.user_id;
  switch (scope) {
    case Scope::kAll:
      return true;
    case Scope::kTeam:
      return own || (record.team_id && std::find(who.team_ids.begin(), who.team_ids.end(),
                                                 *record.team_id) != who.team_ids.end());
    case Scope::kOwn:
      return own;
    case Scope::kNone:
      return false;
  }
  return false;
}

std::string who_text(const Principal& who) {
  return who.name.empty() ? "this principal" : who.name;
}

}  // namespace

AccessPolicy::AccessPolicy(std::vector<Role> custom) {
  roles_ = built_in_roles();
  for (auto& role : custom) {
    validate(role);
    role.built_in = false;
    roles_.push_back(std::move(role));
  }
  for (std::size_t i = 0; i < roles_.size(); ++i) {
    if (!by_name_.emplace(roles_[i].name, i).second)
      throw ValidationError("name: there is already a role named '" + roles_[i].name + "'", "name");
  }
}

const Role* AccessPolicy::role(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &roles_[it->second];
}

Scope AccessPolicy::scope(const Principal& who, Action action, ObjectType type) const {
  if (who.kind == Principal::Kind::kSystem) return Scope::kAll;
  Scope widest = Scope::kNone;
  for (const auto& name : who.roles) {
    const Role* r = role(name);
    if (r == nullptr) continue;
    for (const Grant& g : r->grants)
      if (g.type == type && g.action == action) widest = std::max(widest, g.scope);
  }
  // Administration (roles, keys, custom fields, dead letters, the audit trail) is not
  // scoped to records: only a grant of scope all means anything. A stored role from before
  // validate() refused the others grants nothing by them.
  if (action == Action::kAdmin && widest != Scope::kAll) return Scope::kNone;
  return widest;
}

bool AccessPolicy::allows(const Principal& who, Action action, ObjectType type,
                          const RecordScope& record) const {
  return reaches(scope(who, action, type), who, record);
}

void AccessPolicy::require(const Principal& who, Action action, ObjectType type,
                           const RecordScope& record) const {
  if (!allows(who, action, type, record)) {
    throw PermissionDenied(who_text(who) + " may not " + std::string(to_string(action)) + " this " +
                           std::string(banyan::to_string(type)));
  }
}

ListScope AccessPolicy::list_scope(const Principal& who, Action action, ObjectType type) const {
  switch (scope(who, action, type)) {
    case Scope::kAll:
      return {true, std::nullopt, {}};
    case Scope::kTeam:
      return {false, who.user_id, who.team_ids};
    case Scope::kOwn:
      return {false, who.user_id, {}};
    case Scope::kNone:
      break;
  }
  throw PermissionDenied(who_text(who) + " may not " + std::string(to_string(action)) + " " +
                         std::string(banyan::to_string(type)) + " records");
}

}  // namespace banyan::security
