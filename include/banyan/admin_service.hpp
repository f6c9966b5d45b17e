// AdminService: running an installation, as a service of the Engine. Who may do what
// (custom roles, the roles and teams a user holds, OIDC identities, API keys), the audit
// trail, dead letters, sagas and the encryption key ring.
//
// Obtained from Engine::admin(principal), which refuses (PermissionDenied) a principal
// who does not administer the installation (kAdmin on users; the system principal
// does). So every function here is an administrator's act; writes are audited in the
// name the caller gave its unit of work (UnitOfWork::describe_actor), "system" for a
// unit of work of no user. Cheap to copy; valid while the Engine lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/messaging/dead_letter_store.hpp"
#include "banyan/model/record.hpp"
#include "banyan/saga/saga.hpp"
#include "banyan/security/api_key.hpp"
#include "banyan/security/identity.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/security/role.hpp"
#include "banyan/store/audit_log.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan {

namespace store {
class Database;
}

class BANYAN_EXPORT AdminService {
 public:
  const security::Principal& principal() const noexcept { return who_; }

  // Custom roles (the built-in ones are listed too, and cannot be changed). A change
  // takes effect in the Engine's policy when the unit of work commits. ValidationError,
  // Conflict and NotFound as security::RoleStore says.
  std::vector<security::Role> roles(store::UnitOfWork& uow) const;
  security::Role role(store::UnitOfWork& uow, std::string_view name) const;
  security::Role create_role(store::UnitOfWork& uow, const security::Role& role) const;
  security::Role update_role(store::UnitOfWork& uow, const security::Role& role) const;
  void remove_role(store::UnitOfWork& uow, std::string_view name) const;

  // A user's access. NotFound for no such user (a role or team that does not exist:
  // ValidationError as security::Directory says). Assigning and revoking are idempotent.
  std::vector<std::string> roles_of(store::UnitOfWork& uow, Id user) const;
  void assign_role(store::UnitOfWork& uow, Id user, std::string_view role) const;
  void revoke_role(store::UnitOfWork& uow, Id user, std::string_view role) const;
  void add_member(store::UnitOfWork& uow, Id team, Id user) const;
  // The user as a principal: roles, teams and name, as authentication would make it.
  security::Principal principal_of(store::UnitOfWork& uow, Id user) const;
  std::vector<security::Identity> identities_of(store::UnitOfWork& uow, Id user) const;
  void link_identity(store::UnitOfWork& uow, Id user, const security::Identity& identity) const;
  void unlink_identity(store::UnitOfWork& uow, const security::Identity& identity) const;

  // API keys acting as a user. The secret of an issued key is in the result only.
  // NotFound for no such user or key; revoking is idempotent.
  std::vector<security::ApiKey> api_keys(store::UnitOfWork& uow,
                                         std::optional<Id> user = std::nullopt) const;
  security::ApiKey api_key(store::UnitOfWork& uow, Id id) const;
  [[nodiscard]] security::IssuedApiKey issue_api_key(store::UnitOfWork& uow, Id user,
                                                     const std::string& name) const;
  security::ApiKey revoke_api_key(store::UnitOfWork& uow, Id id) const;

  // The audit trail (store::AuditLog).
  std::vector<store::AuditEntry> audit_entries(store::UnitOfWork& uow,
                                               const store::AuditQuery& query) const;
  [[nodiscard]] store::AuditVerification verify_audit_trail(
      store::UnitOfWork& uow, const std::vector<store::AuditCheckpoint>& anchors = {}) const;
  store::AuditCheckpoint audit_checkpoint(store::UnitOfWork& uow) const;

  // Dead letters: each call of the store runs in a transaction of its own; replays go
  // through the saga replay guard (saga::replay_guard), so a saga's message restarts its
  // saga.
  messaging::DeadLetterStore dead_letters() const;

  // Sagas: instances per saga and status, and one instance with its history.
  std::vector<saga::SagaStats> saga_stats() const;
  saga::SagaInstance saga(std::uint64_t id) const;

  // The key ring (store::Database::encryption_key_id and rewrap_encrypted).
  std::string encryption_key_id() const;
  std::uint64_t rewrap_encrypted(std::size_t batch = 200) const;

 private:
  friend class Engine;
  AdminService(store::Database& db, security::Principal who,
               std::function<void()> policy_changed) noexcept;

  // NotFound unless `user` exists.
  void require_user(store::UnitOfWork& uow, Id user) const;
  // The Engine's policy is read again once `uow` commits.
  void policy_changes_with(store::UnitOfWork& uow) const;

  store::Database* db_;
  security::Principal who_;
  std::function<void()> policy_changed_;
};

}  // namespace banyan
