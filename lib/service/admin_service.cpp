#include "banyan/admin_service.hpp"

#include <utility>

#include "banyan/store/database.hpp"
#include "security/api_key_store.hpp"
#include "security/directory.hpp"
#include "security/role_store.hpp"
#include "store/session.hpp"
#include "store/stores.hpp"

namespace banyan {

namespace {
const security::RoleStore kRoles;
const security::Directory kDirectory;
const security::ApiKeyStore kKeys;
}  // namespace

AdminService::AdminService(store::Database& db, security::Principal who,
                           std::function<void()> policy_changed) noexcept
    : db_(&db), who_(std::move(who)), policy_changed_(std::move(policy_changed)) {}

void AdminService::require_user(store::UnitOfWork& uow, Id user) const {
  store::stores(*db_).users().get(uow, user);  // NotFound
}

void AdminService::policy_changes_with(store::UnitOfWork& uow) const {
  if (policy_changed_) store::Session(uow).after_commit(policy_changed_);
}

std::vector<security::Role> AdminService::roles(store::UnitOfWork& uow) const {
  return kRoles.list(uow);
}

security::Role AdminService::role(store::UnitOfWork& uow, std::string_view name) const {
  return kRoles.get(uow, name);
}

security::Role AdminService::create_role(store::UnitOfWork& uow, const security::Role& role) const {
  policy_changes_with(uow);
  return kRoles.create(uow, role);
}

security::Role AdminService::update_role(store::UnitOfWork& uow, const security::Role& role) const {
  policy_changes_with(uow);
  return kRoles.update(uow, role);
}

void AdminService::remove_role(store::UnitOfWork& uow, std::string_view name) const {
  policy_changes_with(uow);
  kRoles.remove(uow, name);
}

std::vector<std::string> AdminService::roles_of(store::UnitOfWork& uow, Id user) const {
  require_user(uow, user);
  return kDirectory.roles_of(uow, user);
}

void AdminService::assign_role(store::UnitOfWork& uow, Id user, std::string_view role) const {
  kDirectory.assign_role(uow, user, role);
}

void AdminService::revoke_role(store::UnitOfWork& uow, Id user, std::string_view role) const {
  require_user(uow, user);
  kDirectory.revoke_role(uow, user, role);
}

void AdminService::add_member(store::UnitOfWork& uow, Id team, Id user) const {
  kDirectory.add_member(uow, team, user);
}

security::Principal AdminService::principal_of(store::UnitOfWork& uow, Id user) const {
  return kDirectory.principal(uow, user);
}

std::vector<security::Identity> AdminService::identities_of(store::UnitOfWork& uow, Id user) const {
  require_user(uow, user);
  return kDirectory.identities_of(uow, user);
}

void AdminService::link_identity(store::UnitOfWork& uow, Id user,
                                 const security::Identity& identity) const {
  kDirectory.link_identity(uow, user, identity);
}

void AdminService::unlink_identity(store::UnitOfWork& uow,
                                   const security::Identity& identity) const {
  kDirectory.unlink_identity(uow, identity);
}

std::vector<security::ApiKey> AdminService::api_keys(store::UnitOfWork& uow,
                                                     std::optional<Id> user) const {
  if (user) require_user(uow, *user);
  return kKeys.list(uow, user);
}

security::ApiKey AdminService::api_key(store::UnitOfWork& uow, Id id) const {
  return kKeys.get(uow, id);
}

security::IssuedApiKey AdminService::issue_api_key(store::UnitOfWork& uow, Id user,
                                                   const std::string& name) const {
  return kKeys.create(uow, user, name);
}

security::ApiKey AdminService::revoke_api_key(store::UnitOfWork& uow, Id id) const {
  return kKeys.revoke(uow, id);
}

std::vector<store::AuditEntry> AdminService::audit_entries(store::UnitOfWork& uow,
                                                           const store::AuditQuery& query) const {
  return store::stores(*db_).audit().query(uow, query);
}

store::AuditVerification AdminService::verify_audit_trail(
    store::UnitOfWork& uow, const std::vector<store::AuditCheckpoint>& anchors) const {
  return store::stores(*db_).audit().verify(uow, anchors);
}

store::AuditCheckpoint AdminService::audit_checkpoint(store::UnitOfWork& uow) const {
  return store::stores(*db_).audit().checkpoint(uow);
}

messaging::DeadLetterStore AdminService::dead_letters() const {
  return messaging::detail::dead_letter_store(*db_, saga::replay_guard());
}

std::vector<saga::SagaStats> AdminService::saga_stats() const {
  return saga::SagaOrchestrator::stats(*db_);
}

saga::SagaInstance AdminService::saga(std::uint64_t id) const {
  return saga::SagaOrchestrator::get(*db_, id);
}

std::string AdminService::encryption_key_id() const { return db_->encryption_key_id(); }

std::uint64_t AdminService::rewrap_encrypted(std::size_t batch) const {
  return db_->rewrap_encrypted(batch);
}

}  // namespace banyan
