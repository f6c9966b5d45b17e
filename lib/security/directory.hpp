// Who belongs where: the roles each user holds and the teams each belongs to, and from
// them the principal a user acts as (internal: the Engine and the Authenticator use it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/security/identity.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::security {

// Stateless: every method works in the caller's unit of work and checks nothing about
// who calls it (the Engine does). Deleting a user or a team removes its roles and
// memberships with it.
class Directory {
 public:
  // Gives `user` the role. Idempotent. NotFound for no such user; ValidationError
  // (field "role") for no such role.
  void assign_role(store::UnitOfWork& uow, Id user, std::string_view role) const;
  // Takes the role away. Idempotent.
  void revoke_role(store::UnitOfWork& uow, Id user, std::string_view role) const;
  // By name.
  std::vector<std::string> roles_of(store::UnitOfWork& uow, Id user) const;

  // Idempotent. NotFound for no such team or user.
  void add_member(store::UnitOfWork& uow, Id team, Id user) const;
  // Idempotent.
  void remove_member(store::UnitOfWork& uow, Id team, Id user) const;
  // Ascending ids.
  std::vector<Id> teams_of(store::UnitOfWork& uow, Id user) const;
  std::vector<Id> members_of(store::UnitOfWork& uow, Id team) const;

  // Links an issuer's subject to `user`, so a token for it acts as that user. Idempotent
  // for the same user. NotFound for no such user; Conflict when the identity is another
  // user's; ValidationError for an empty or over-long (191 bytes) issuer or subject.
  void link_identity(store::UnitOfWork& uow, Id user, const Identity& identity) const;
  // Idempotent.
  void unlink_identity(store::UnitOfWork& uow, const Identity& identity) const;
  // The user linked to the identity, if any.
  [[nodiscard]] std::optional<Id> user_of(store::UnitOfWork& uow, const Identity& identity) const;
  // By issuer, then subject.
  std::vector<Identity> identities_of(store::UnitOfWork& uow, Id user) const;

  // The principal acting as `user`, with the roles and teams the user has now.
  // NotFound for no such user; PermissionDenied for a deactivated one.
  Principal principal(store::UnitOfWork& uow, Id user,
                      Principal::Kind kind = Principal::Kind::kUser) const;
};

}  // namespace banyan::security
