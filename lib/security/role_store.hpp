// Custom roles, kept in the database (internal: the Engine reads and writes them). The built-in
// roles live in code and never change.
#pragma once

#include <string_view>
#include <vector>

#include "banyan/security/access_policy.hpp"
#include "banyan/security/role.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::security {

// Stateless: every method works in the caller's unit of work and checks nothing about
// who calls it (the Engine does).
class RoleStore {
 public:
  // The built-in roles, then the custom ones by name.
  std::vector<Role> list(store::UnitOfWork& uow) const;
  // NotFound when there is no role of that name.
  Role get(store::UnitOfWork& uow, std::string_view name) const;
  // Stores a custom role. ValidationError (name, description, grants); Conflict (field
  // "name") when a role of that name exists, built-in or custom.
  Role create(store::UnitOfWork& uow, const Role& role) const;
  // Replaces a custom role's description and grants. PermissionDenied for a built-in
  // role; NotFound; ValidationError as for create().
  Role update(store::UnitOfWork& uow, const Role& role) const;
  // PermissionDenied for a built-in role; NotFound; Conflict while a user holds it.
  void remove(store::UnitOfWork& uow, std::string_view name) const;
  // The access policy of the built-in roles and the custom ones stored now.
  AccessPolicy policy(store::UnitOfWork& uow) const;
};

}  // namespace banyan::security
