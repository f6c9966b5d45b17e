// Authorization decisions: may this principal do this to this record, which records may
// it list, which fields does it see. Deny by default: a right no role grants is refused.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/security/role.hpp"

namespace banyan::security {

// Where a record stands for scoping.
struct BANYAN_EXPORT RecordScope {
  std::optional<Id> owner_id;
  std::optional<Id> team_id;

  static RecordScope of(const Record& r) { return {r.owner_id, r.team_id}; }

  friend bool operator==(const RecordScope&, const RecordScope&) = default;
};

// Which records a list may return: every one, or those owned by `owner_id` or assigned
// to one of `team_ids`.
struct BANYAN_EXPORT ListScope {
  bool all = false;
  std::optional<Id> owner_id;
  std::vector<Id> team_ids;

  friend bool operator==(const ListScope&, const ListScope&) = default;
};

// The standard fields of a type that are sensitive (masked without kReadSensitive): those
// its descriptor marks kSensitive (banyan/model/fields.hpp), today email and phone of
// contacts and leads. Custom fields are sensitive by definition.
BANYAN_EXPORT std::span<const std::string> sensitive_fields(ObjectType type);

// Immutable once built, so one policy may be shared by any number of threads. When
// custom roles change, build a new policy and swap it in.
class BANYAN_EXPORT AccessPolicy {
 public:
  // The built-in roles and `custom` ones. Throws ValidationError when a custom role is
  // invalid, takes a built-in name or repeats a name.
  explicit AccessPolicy(std::vector<Role> custom = {});

  // The widest scope any of the principal's roles grants for `action` on `type`; kAll
  // for the system principal.
  Scope scope(const Principal& who, Action action, ObjectType type) const;
  // Whether `action` reaches a record standing at `record`. For kCreate, `record` is
  // the new record's owner and team.
  [[nodiscard]] bool allows(const Principal& who, Action action, ObjectType type,
                            const RecordScope& record) const;
  // As allows(), but throws PermissionDenied naming the action and type.
  void require(const Principal& who, Action action, ObjectType type,
               const RecordScope& record) const;
  // The records `action` reaches, for a list or a count. Throws PermissionDenied when
  // it reaches none.
  ListScope list_scope(const Principal& who, Action action, ObjectType type) const;

  // The role named `name`, built-in or custom; nullptr when there is none.
  const Role* role(std::string_view name) const;
  const std::vector<Role>& roles() const noexcept { return roles_; }

 private:
  std::vector<Role> roles_;  // built-in first, then custom, in the order given
  std::map<std::string, std::size_t, std::less<>> by_name_;
};

}  // namespace banyan::security
