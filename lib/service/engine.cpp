#include "banyan/engine.hpp"

#include <algorithm>
#include <mutex>

#include "banyan/errors.hpp"
#include "banyan/security/role_store.hpp"
#include "store/custom_fields.hpp"
#include "model/record_types.hpp"
#include "store/database_state.hpp"

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

void Engine::require(const security::Principal& who, security::Action action, ObjectType type) {
  policy()->list_scope(who, action, type);  // PermissionDenied when no scope at all
}

void Engine::require_administrator(const security::Principal& who) {
  require(who, security::Action::kAdmin, ObjectType::kUser);
}

namespace {

// Where a record of `type` stands, when the principal may read it; NotFound otherwise.
security::RecordScope readable_scope(Engine& engine, store::UnitOfWork& uow,
                                     const security::Principal& who, ObjectType type, Id id) {
  switch (type) {
    case ObjectType::kContact:
      return security::RecordScope::of(engine.contacts(who).get(uow, id));
    case ObjectType::kCompany:
      return security::RecordScope::of(engine.companies(who).get(uow, id));
    case ObjectType::kLead:
      return security::RecordScope::of(engine.leads(who).get(uow, id));
    default:
      throw ValidationError("type: only contacts, companies and leads merge", "type");
  }
}

}  // namespace

store::ConversionResult Engine::convert_lead(store::UnitOfWork& uow, const security::Principal& who,
                                             const store::LeadConversion& request) {
  using security::Action;
  const auto leads_of = leads(who);
  const auto place = security::RecordScope::of(leads_of.get(uow, request.lead_id));
  const auto p = policy();
  p->require(who, Action::kUpdate, ObjectType::kLead, place);
  p->require(who, Action::kCreate, ObjectType::kContact, place);
  if (request.company_id)
    companies(who).get(uow, *request.company_id);  // readable, else NotFound
  else
    p->require(who, Action::kCreate, ObjectType::kCompany, place);
  if (request.deal) p->require(who, Action::kCreate, ObjectType::kDeal, place);
  auto done = impl_->db.lead_converter().convert(uow, request);
  done.lead = leads_of.get(uow, done.lead.id);
  done.contact = contacts(who).get(uow, done.contact.id);
  return done;
}

store::MergeResult Engine::merge(store::UnitOfWork& uow, const security::Principal& who,
                                 const store::MergeRequest& request) {
  using security::Action;
  const auto p = policy();
  p->require(who, Action::kUpdate, request.type,
             readable_scope(*this, uow, who, request.type, request.survivor));
  for (Id loser : request.losers)
    p->require(who, Action::kDelete, request.type,
               readable_scope(*this, uow, who, request.type, loser));
  // Taking a field from another record reads it: a sensitive one only where it is seen.
  const auto& sensitive = security::sensitive_fields(request.type);
  for (const auto& [field, from] : request.winners) {
    if (std::find(sensitive.begin(), sensitive.end(), field) == sensitive.end()) continue;
    if (!p->allows(who, Action::kReadSensitive, request.type,
                   readable_scope(*this, uow, who, request.type, from)))
      throw PermissionDenied(field + ": " + who.name + " may not take a field it cannot see",
                             field);
  }
  return impl_->db.duplicates().merge(uow, request);
}

Deal Engine::reopen_deal(store::UnitOfWork& uow, const security::Principal& who, Id deal_id,
                         std::optional<Id> stage_id, std::optional<std::uint64_t> expected_version) {
  const auto of = deals(who);
  policy()->require(who, security::Action::kUpdate, ObjectType::kDeal, security::RecordScope::of(of.get(uow, deal_id)));
  const Deal reopened = impl_->db.deal_stages().reopen(uow, deal_id, stage_id, expected_version);
  return of.get(uow, reopened.id);
}

std::uint64_t Engine::count_without_value(store::UnitOfWork& uow, const security::Principal& who,
                                         const CustomFieldDefinition& definition) {
  require(who, security::Action::kRead, definition.object_type);
  return impl_->db.custom_fields().count_without_value(uow, definition);
}

std::uint64_t Engine::backfill_custom_field(const security::Principal& who, Id field_id, const CustomValue& value,
                                            const BackfillOptions& options) {
  if (options.batch < 1 || options.batch > 10000)
    throw ValidationError("batch: must be between 1 and 10000", "batch");
  store::Database& db = impl_->db;
  const auto registry = db.custom_fields();
  const CustomFieldDefinition def = db.read([&](store::UnitOfWork& uow) { return registry.get(uow, field_id); });
  require(who, security::Action::kAdmin, def.object_type);
  if (std::holds_alternative<std::monostate>(value)) throw ValidationError("value: a backfill needs a value", "value");
  try {
    CustomValue checked = value;
    store::check_custom_value(def, checked);
  } catch (const ValidationError& e) {
    throw ValidationError(std::string("value: ") + e.what(), "value");
  }
  std::uint64_t filled = 0;
  Id after = 0;
  // Counted once, then kept by subtraction: a count is a scan of the whole table, and one
  // per batch would make a large backfill quadratic. The last batch counts again, exactly.
  std::uint64_t left = db.read([&](store::UnitOfWork& uow) { return registry.count_without_value(uow, def); });
  for (;;) {
    bool more = false;
    db.transact(
        [&](store::UnitOfWork& uow) {
          uow.describe_actor(who.name, options.origin);
          const auto ids = registry.without_value(uow, def, after, options.batch);
          more = ids.size() == options.batch;
          left -= std::min<std::uint64_t>(left, ids.size());
          banyan::detail::with_record_type(def.object_type, [&]<typename T>() {
            const store::Repository<T> repo(uow.impl().db);
            Patch<T> patch;
            patch.set_custom(def.name, value);
            for (Id id : ids) {
              if (repo.patch(uow, id, patch).outcome != WriteOutcome::kUnchanged) ++filled;
              after = id;
            }
          });
          if (!more) left = registry.count_without_value(uow, def);
        },
        who.user_id);
    if (options.progress && !options.progress(filled, left)) break;
    if (!more) break;
  }
  return filled;
}

RecordService<User> Engine::users(const security::Principal& who) {
  return {impl_->db.users(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Team> Engine::teams(const security::Principal& who) {
  return {impl_->db.teams(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Tag> Engine::tags(const security::Principal& who) {
  return {impl_->db.tags(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Company> Engine::companies(const security::Principal& who) {
  return {impl_->db.companies(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Contact> Engine::contacts(const security::Principal& who) {
  return {impl_->db.contacts(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Lead> Engine::leads(const security::Principal& who) {
  return {impl_->db.leads(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Pipeline> Engine::pipelines(const security::Principal& who) {
  return {impl_->db.pipelines(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Stage> Engine::stages(const security::Principal& who) {
  return {impl_->db.stages(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Deal> Engine::deals(const security::Principal& who) {
  return {impl_->db.deals(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}
RecordService<Activity> Engine::activities(const security::Principal& who) {
  return {impl_->db.activities(), impl_->db.custom_fields(), impl_->db.audit(), who, policy()};
}

}  // namespace banyan
