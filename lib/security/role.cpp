#include "banyan/security/role.hpp"

#include <algorithm>
#include <array>

#include "banyan/errors.hpp"

namespace banyan::security {
namespace {

constexpr std::array<std::pair<Action, std::string_view>, 8> kActionNames{{
    {Action::kRead, "read"},
    {Action::kCreate, "create"},
    {Action::kUpdate, "update"},
    {Action::kDelete, "delete"},
    {Action::kExport, "export"},
    {Action::kReadSensitive, "read_sensitive"},
    {Action::kAdmin, "admin"},
    {Action::kImport, "import"},
}};
constexpr std::array<std::pair<Scope, std::string_view>, 4> kScopeNames{{
    {Scope::kNone, "none"},
    {Scope::kOwn, "own"},
    {Scope::kTeam, "team"},
    {Scope::kAll, "all"},
}};

template <typename T, std::size_t N>
std::string_view name_of(const std::array<std::pair<T, std::string_view>, N>& names,
                         T value) noexcept {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "unknown";
}

template <typename T, std::size_t N>
T parse(const std::array<std::pair<T, std::string_view>, N>& names, std::string_view text,
        const std::string& field, std::string_view what) {
  for (const auto& [v, name] : names)
    if (name == text) return v;
  std::string known;
  for (const auto& [v, name] : names) known += (known.empty() ? "" : ", ") + std::string(name);
  throw ValidationError(
      field + ": '" + std::string(text) + "' is not " + std::string(what) + " (" + known + ")",
      field);
}

constexpr ObjectType kCrmTypes[] = {ObjectType::kCompany, ObjectType::kContact,  ObjectType::kLead,
                                    ObjectType::kDeal,    ObjectType::kActivity, ObjectType::kTag};
constexpr ObjectType kReferenceTypes[] = {ObjectType::kUser, ObjectType::kTeam,
                                          ObjectType::kPipeline, ObjectType::kStage};

Role make_role(std::string name, std::string description,
               std::initializer_list<std::pair<Action, Scope>> on_crm, Scope reference_read) {
  Role role{std::move(name), std::move(description), {}, true};
  for (ObjectType type : kCrmTypes)
    for (const auto& [action, scope] : on_crm) role.grants.push_back({type, action, scope});
  for (ObjectType type : kReferenceTypes)
    role.grants.push_back({type, Action::kRead, reference_read});
  return role;
}

Role admin_role() {
  Role role{"admin", "Every action on every type of record, all records", {}, true};
  for (ObjectType type : kCrmTypes)
    for (Action action : kAllActions) role.grants.push_back({type, action, Scope::kAll});
  for (ObjectType type : kReferenceTypes)
    for (Action action : kAllActions) role.grants.push_back({type, action, Scope::kAll});
  return role;
}

}  // namespace

std::string_view to_string(Action action) noexcept { return name_of(kActionNames, action); }
std::string_view to_string(Scope scope) noexcept { return name_of(kScopeNames, scope); }
Action parse_action(std::string_view name, const std::string& field) {
  return parse(kActionNames, name, field, "an action");
}
Scope parse_scope(std::string_view name, const std::string& field) {
  return parse(kScopeNames, name, field, "a scope");
}

const std::vector<Role>& built_in_roles() {
  static const std::vector<Role> roles = [] {
    using enum Action;
    return std::vector<Role>{
        admin_role(),
        make_role("manager", "Their teams' CRM records: every action but administration and import",
                  {{kRead, Scope::kTeam},
                   {kCreate, Scope::kTeam},
                   {kUpdate, Scope::kTeam},
                   {kDelete, Scope::kTeam},
                   {kExport, Scope::kTeam},
                   {kReadSensitive, Scope::kTeam}},
                  Scope::kAll),
        make_role("sales_rep",
                  "Reads their teams' CRM records; creates, changes and deletes their own",
                  {{kRead, Scope::kTeam},
                   {kCreate, Scope::kOwn},
                   {kUpdate, Scope::kOwn},
                   {kDelete, Scope::kOwn},
                   {kReadSensitive, Scope::kOwn}},
                  Scope::kAll),
        make_role("read_only", "Reads every CRM record, sensitive fields masked",
                  {{kRead, Scope::kAll}}, Scope::kAll),
        make_role("integration",
                  "Reads, creates, updates, exports and imports every CRM record; deletes "
                  "nothing",
                  {{kRead, Scope::kAll},
                   {kCreate, Scope::kAll},
                   {kUpdate, Scope::kAll},
                   {kExport, Scope::kAll},
                   {kReadSensitive, Scope::kAll},
                   {kImport, Scope::kAll}},
                  Scope::kAll),
    };
  }();
  return roles;
}

std::optional<Role> find_built_in_role(std::string_view name) {
  for (const auto& role : built_in_roles())
    if (role.name == name) return role;
  return std::nullopt;
}

void validate(const Role& role) {
  const bool name_ok =
      !role.name.empty() && role.name.size() <= 64 &&
      std::all_of(role.name.begin(), role.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
  if (!name_ok)
    throw ValidationError("name: a role name is 1 to 64 characters of a-z 0-9 _ -", "name");
  if (role.description.size() > 1000)
    throw ValidationError("description: at most 1000 characters", "description");
  for (std::size_t i = 0; i < role.grants.size(); ++i) {
    const Grant& g = role.grants[i];
    if (g.scope == Scope::kNone)
      throw ValidationError("grants: a grant of scope none grants nothing; leave it out", "grants");
    if (g.action == Action::kAdmin && g.scope != Scope::kAll)
      throw ValidationError("grants: admin on " + std::string(banyan::to_string(g.type)) +
                                " is not scoped to records; its scope must be all",
                            "grants");
    for (std::size_t j = 0; j < i; ++j) {
      if (role.grants[j].type == g.type && role.grants[j].action == g.action) {
        throw ValidationError("grants: " + std::string(to_string(g.action)) + " on " +
                                  std::string(banyan::to_string(g.type)) + " is granted twice",
                              "grants");
      }
    }
  }
}

}  // namespace banyan::security
