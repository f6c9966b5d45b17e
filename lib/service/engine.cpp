#include "banyan/engine.hpp"

#include <mutex>

#include "banyan/security/role_store.hpp"

namespace banyan {

struct Engine::Impl {
  Impl(store::Database& database, EngineOptions opts) : db(database), options(opts) {}

  store::Database& db;
  EngineOptions options;
  std::mutex mutex;
  std::shared_ptr<const security::AccessPolicy> policy;  // guarded by mutex
  std::chrono::steady_clock::time_point loaded{};        // guarded by mutex
};

Engine::Engine(store::Database& db, EngineOptions options)
    : impl_(std::make_unique<Impl>(db, options)) {}
Engine::~Engine() = default;

store::Database& Engine::database() noexcept { return impl_->db; }

std::shared_ptr<const security::AccessPolicy> Engine::policy() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->policy && now - impl_->loaded < impl_->options.policy_ttl) return impl_->policy;
  }
  // Read outside the lock: two threads may both read; either result is current.
  auto fresh = std::make_shared<const security::AccessPolicy>(
      impl_->db.read([](store::UnitOfWork& uow) { return security::RoleStore().policy(uow); }));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->policy = fresh;
  impl_->loaded = now;
  return fresh;
}

void Engine::policy_changed() noexcept {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->policy.reset();
}

RecordService<User> Engine::users(const security::Principal& who) {
  return {impl_->db.users(), who, policy()};
}
RecordService<Team> Engine::teams(const security::Principal& who) {
  return {impl_->db.teams(), who, policy()};
}
RecordService<Tag> Engine::tags(const security::Principal& who) {
  return {impl_->db.tags(), who, policy()};
}
RecordService<Company> Engine::companies(const security::Principal& who) {
  return {impl_->db.companies(), who, policy()};
}
RecordService<Contact> Engine::contacts(const security::Principal& who) {
  return {impl_->db.contacts(), who, policy()};
}
RecordService<Lead> Engine::leads(const security::Principal& who) {
  return {impl_->db.leads(), who, policy()};
}
RecordService<Pipeline> Engine::pipelines(const security::Principal& who) {
  return {impl_->db.pipelines(), who, policy()};
}
RecordService<Stage> Engine::stages(const security::Principal& who) {
  return {impl_->db.stages(), who, policy()};
}
RecordService<Deal> Engine::deals(const security::Principal& who) {
  return {impl_->db.deals(), who, policy()};
}
RecordService<Activity> Engine::activities(const security::Principal& who) {
  return {impl_->db.activities(), who, policy()};
}

}  // namespace banyan
