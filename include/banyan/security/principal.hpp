// Who is acting: a user, a service account, or the engine itself.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::security {

// Every use case runs on behalf of a principal, an embedded caller's as much as a
// server request's. A principal is a value: it carries what was true when it was
// resolved (roles, teams), and holds no connection or lock.
struct BANYAN_EXPORT Principal {
  enum class Kind {
    kUser,            // a person, signed in through the identity provider
    kServiceAccount,  // a program, with an API key or client-credentials token
    kSystem,          // the engine's own work (migrations, sagas): every right
  };
  Kind kind = Kind::kUser;
  // The user the principal acts as (service accounts are users too); none for kSystem.
  std::optional<Id> user_id;
  // For logs and the audit trail: an email, a client id, "system".
  std::string name;
  // Role names; unknown names grant nothing.
  std::vector<std::string> roles;
  // The teams whose records kTeam grants reach.
  std::vector<Id> team_ids;

  // The engine acting for itself. Never hand this to code acting for a caller.
  static Principal system();
};

}  // namespace banyan::security
