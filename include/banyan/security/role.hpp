// Roles: named sets of grants, each an action on an object type within a scope.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::security {

// What a principal does to records of a type.
enum class Action {
  kRead,
  kCreate,
  kUpdate,
  kDelete,
  kExport,
  // See the sensitive fields (email, phone, custom fields marked sensitive) of records
  // one may read; without it they are masked.
  kReadSensitive,
  // Manage the type itself: custom field definitions; for users, their roles and API
  // keys; for teams, their members.
  kAdmin,
  // Create records with the history another system gave them: created_at and created_by
  // as supplied (data migrated from a legacy CRM). The audit entry says they were.
  kImport,
};
inline constexpr Action kAllActions[] = {Action::kRead,   Action::kCreate, Action::kUpdate,
                                         Action::kDelete, Action::kExport, Action::kReadSensitive,
                                         Action::kAdmin,  Action::kImport};

// Which records of the type a grant reaches, each wider than the one before: none, those
// the principal owns, those owned by or assigned to one of the principal's teams, all.
// A record with neither owner nor team is reached only by kAll.
enum class Scope { kNone, kOwn, kTeam, kAll };

BANYAN_EXPORT std::string_view to_string(Action action) noexcept;
BANYAN_EXPORT std::string_view to_string(Scope scope) noexcept;
// Throw ValidationError naming `field` for an unknown name.
BANYAN_EXPORT Action parse_action(std::string_view name, const std::string& field = "action");
BANYAN_EXPORT Scope parse_scope(std::string_view name, const std::string& field = "scope");

struct BANYAN_EXPORT Grant {
  ObjectType type = ObjectType::kContact;
  Action action = Action::kRead;
  Scope scope = Scope::kNone;

  friend bool operator==(const Grant&, const Grant&) = default;
};

struct BANYAN_EXPORT Role {
  // 1 to 64 characters of a-z 0-9 _ -; built-in names are taken.
  std::string name;
  std::string description;
  std::vector<Grant> grants;
  bool built_in = false;

  friend bool operator==(const Role&, const Role&) = default;
};

// The roles every database has, which cannot be changed or deleted:
//   admin        every action on every type, all records;
//   manager      the CRM records (companies, contacts, leads, deals, activities, tags) of
//                their teams: read, create, update, delete, export, sensitive fields;
//                reads users, teams and pipelines;
//   sales_rep    reads their teams' CRM records, creates records of their own, changes,
//                deletes and sees the sensitive fields of only the ones they own;
//   read_only    reads every CRM record, sensitive fields masked;
//   integration  reads, creates, updates and exports every CRM record with its
//                sensitive fields, and imports them (keeps a migration's created_at and
//                created_by); deletes nothing, administers nothing.
BANYAN_EXPORT const std::vector<Role>& built_in_roles();
BANYAN_EXPORT std::optional<Role> find_built_in_role(std::string_view name);

// ValidationError naming the offending part: the name, a duplicate grant, a scope of
// kNone (leave the grant out instead).
BANYAN_EXPORT void validate(const Role& role);

}  // namespace banyan::security
