#include "banyan/engine.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "banyan/errors.hpp"
#include "banyan/security/rate_limiter.hpp"
#include "model/record_types.hpp"
#include "security/role_store.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/pool/connection_pool.hpp"
#include "store/session.hpp"
#include "store/stores.hpp"

namespace banyan {

namespace {

// One principal's key in the Engine's per-principal books (refused reads, listed records).
std::string key_of(const security::Principal& who) {
  return who.user_id ? "u" + std::to_string(*who.user_id) : "n" + who.name;
}

}  // namespace

struct Engine::Impl {
  Impl(store::Database& database, EngineOptions opts)
      : db(database),
        options(std::move(opts)),
        allowance{static_cast<double>(options.export_allowance.records),
                  options.export_allowance.window,
                  static_cast<double>(options.export_allowance.records)} {
    if (options.export_allowance.records == 0 || options.export_allowance.window.count() <= 0)
      throw ValidationError("export_allowance: at least one record in a window longer than zero",
                            "export_allowance");
  }

  store::Database& db;
  EngineOptions options;
  std::mutex mutex;
  std::shared_ptr<const security::AccessPolicy> policy;  // guarded by mutex
  std::chrono::steady_clock::time_point loaded{};        // guarded by mutex
  bool refreshing = false;       // a caller is reading a policy again after its ttl; guarded
  std::uint64_t generation = 0;  // policy_changed() calls; guarded by mutex

  // Reads refused for scope, coalesced per principal and minute.
  struct DeniedRead {
    security::Principal who;
    ObjectRef record;
  };
  std::mutex denied_mutex;
  std::map<std::string, std::int64_t> denied_minute;  // principal -> minute last audited; guarded
  std::vector<DeniedRead> denied_pending;             // guarded by denied_mutex
  std::atomic<bool> denied_waiting{false};            // denied_pending is not empty
  std::atomic<std::uint64_t> denied_total{0};

  // Idempotency keys older than a day are purged at most every 10 minutes (µs since the
  // epoch of the next purge).
  std::atomic<std::int64_t> next_key_purge_us{0};

  void purge_old_keys() {
    const auto now = db.clock().wall();
    const std::int64_t now_us = now.time_since_epoch().count();
    std::int64_t due = next_key_purge_us.load();
    if (now_us < due || !next_key_purge_us.compare_exchange_strong(due, now_us + 600'000'000))
      return;
    try {
      db.transact([&](store::UnitOfWork& uow) {
        store::stores(db).request_log().purge_older_than(uow, now - std::chrono::hours(24));
      });
    } catch (const Error&) {
      next_key_purge_us.store(0);  // try again with the next call
    }
  }

  // Records listed per principal (the export allowance).
  security::RateLimit allowance;
  security::RateLimiter listed_records;
  std::atomic<std::uint64_t> mass_exports{0}, exports_refused{0};

  void note_denied(const security::Principal& who, ObjectRef record) {
    ++denied_total;
    const std::int64_t minute =
        std::chrono::duration_cast<std::chrono::minutes>(db.clock().wall().time_since_epoch())
            .count();
    const std::string key = key_of(who);
    std::lock_guard<std::mutex> lock(denied_mutex);
    if (denied_minute.size() > 100000) {  // bounded: forget the principals of past minutes
      std::erase_if(denied_minute, [&](const auto& e) { return e.second < minute; });
    }
    auto [it, fresh] = denied_minute.emplace(key, minute);
    if (!fresh && it->second == minute) return;
    it->second = minute;
    if (denied_pending.size() < 10000) denied_pending.push_back({who, record});
    denied_waiting = true;
  }

  void note_listed(const security::AccessPolicy& in_force, const security::Principal& who,
                   ObjectType type, std::size_t count) {
    if (count == 0 || who.kind == security::Principal::Kind::kSystem) return;
    const std::string key = key_of(who);
    const auto now = db.clock().steady();
    if (listed_records.take(key, allowance, now, static_cast<double>(count)).allowed) return;
    if (in_force.scope(who, security::Action::kExport, type) == security::Scope::kNone) {
      ++exports_refused;
      throw PermissionDenied(
          "export: listing more than " + std::to_string(options.export_allowance.records) +
              " records in " + describe(options.export_allowance.window) + " is an export, which " +
              (who.name.empty() ? std::string("this principal") : who.name) + " may not do on " +
              std::string(to_string(type)) + " records",
          "export");
    }
    ++mass_exports;
    if (options.on_mass_export) options.on_mass_export(who, type);
  }

  static std::string describe(std::chrono::milliseconds window) {
    using namespace std::chrono;
    if (window % minutes(1) == milliseconds(0))
      return std::to_string(duration_cast<minutes>(window).count()) + " minutes";
    if (window % seconds(1) == milliseconds(0))
      return std::to_string(duration_cast<seconds>(window).count()) + " seconds";
    return std::to_string(window.count()) + " ms";
  }

  // What services call on a read refused for scope: noted here (note_denied).
  std::function<void(const security::Principal&, ObjectRef)> denied_hook() {
    return [this](const security::Principal& who, ObjectRef record) { note_denied(who, record); };
  }

  // The service of one record type as `who`: checked against the policy in force, its
  // refused reads and listed records noted here.
  template <typename T>
  RecordService<T> service(const security::Principal& who,
                           std::shared_ptr<const security::AccessPolicy> in_force) {
    ServiceHooks hooks{.denied = denied_hook(),
                       .listed = [this, in_force](const security::Principal& lister,
                                                  ObjectType type, std::size_t count) {
                         note_listed(*in_force, lister, type, count);
                       }};
    return {db, who, std::move(in_force), std::move(hooks)};
  }

  RelationService relations(const security::Principal& who,
                            std::shared_ptr<const security::AccessPolicy> in_force) {
    ServiceHooks hooks;
    hooks.denied = denied_hook();
    return {db, who, std::move(in_force), std::move(hooks)};
  }
};

Engine::Engine(store::Database& db, EngineOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}
Engine::~Engine() = default;

store::Database& Engine::database() noexcept { return impl_->db; }

AdminService Engine::admin(const security::Principal& who) {
  require_administrator(who);
  return {impl_->db, who, [this] { policy_changed(); }};
}

std::shared_ptr<const security::AccessPolicy> Engine::policy() {
  const auto now = impl_->db.clock().steady();
  std::shared_ptr<const security::AccessPolicy> stale;
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->policy && now - impl_->loaded < impl_->options.policy_ttl) return impl_->policy;
    stale = impl_->policy;
    generation = impl_->generation;
    if (stale) {
      if (impl_->refreshing) return stale;  // another caller is reading it
      impl_->refreshing = true;
    }
  }
  // Read outside the lock. Without a policy every caller reads (either result is
  // current); with a stale one, one caller tries without waiting for a connection.
  std::shared_ptr<const security::AccessPolicy> fresh;
  try {
    std::optional<detail::NoWaitScope> no_wait;
    if (stale) no_wait.emplace();
    fresh = std::make_shared<const security::AccessPolicy>(
        impl_->db.read([](store::UnitOfWork& uow) { return security::RoleStore().policy(uow); }));
  } catch (const PoolExhausted&) {
    if (!stale) throw;
  } catch (const Unavailable&) {
    if (!stale) throw;
  } catch (...) {
    if (stale) {
      std::lock_guard<std::mutex> lock(impl_->mutex);
      impl_->refreshing = false;
    }
    throw;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (stale) impl_->refreshing = false;
  if (!fresh) return impl_->policy ? impl_->policy : stale;
  // A policy read before a policy_changed() is not cached (the next call reads again).
  if (generation == impl_->generation) {
    impl_->policy = fresh;
    impl_->loaded = now;
  }
  return fresh;
}

void Engine::policy_changed() noexcept {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  ++impl_->generation;
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

namespace {

// A lead as stored (its email may be masked for the caller, but it is the lead's) that
// the caller may update, and the scope of what its conversion makes.
Lead lead_to_convert(Engine& engine, store::UnitOfWork& uow, const security::Principal& who,
                     Id lead_id) {
  const auto place = security::RecordScope::of(engine.leads(who).get(uow, lead_id));
  engine.policy()->require(who, security::Action::kUpdate, ObjectType::kLead, place);
  Lead lead = store::stores(engine.database()).leads().get(uow, lead_id);
  if (lead.converted())
    throw Conflict("lead " + std::to_string(lead.id) + " was already converted (into contact " +
                       std::to_string(lead.converted_contact_id.value_or(0)) + ")",
                   "status");
  return lead;
}

// The conversion's steps on a lead lead_to_convert has checked: convert_lead checks it
// once for all of them, each public step once for itself.
store::CompanyChoice company_for(Engine& engine, store::UnitOfWork& uow,
                                 const security::Principal& who, const Lead& lead,
                                 const store::LeadConversion& request) {
  using security::Action;
  const auto place = security::RecordScope::of(lead);
  const auto p = engine.policy();
  p->require(who, Action::kCreate, ObjectType::kContact, place);
  if (request.deal) p->require(who, Action::kCreate, ObjectType::kDeal, place);
  const auto companies_of = engine.companies(who);
  store::LeadConversion scoped = request;
  if (request.company_id) {
    companies_of.get(uow, *request.company_id);  // readable, else NotFound
  } else {
    // Matched by domain among the companies the caller may read only: a company out of
    // its scope is neither joined nor revealed; a new one is made instead.
    scoped.match_company_by_domain = false;
    if (const auto domain = store::company_domain(lead.email);
        domain && request.match_company_by_domain) {
      store::PageRequest by_domain;
      by_domain.filter = store::Filter::eq("domain", *domain);
      by_domain.limit = 1;
      const auto page = companies_of.query(uow, by_domain);
      if (!page.items.empty()) scoped.company_id = page.items.front().id;
    }
    if (!scoped.company_id) p->require(who, Action::kCreate, ObjectType::kCompany, place);
  }
  auto chosen = store::stores(engine.database()).lead_converter().choose_company(uow, lead, scoped);
  // What goes back is what the caller may see, masked like any read.
  chosen.company = companies_of.get(uow, chosen.company.id);
  return chosen;
}

Contact contact_for(Engine& engine, store::UnitOfWork& uow, const security::Principal& who,
                    const Lead& lead, Id company_id) {
  engine.policy()->require(who, security::Action::kCreate, ObjectType::kContact,
                           security::RecordScope::of(lead));
  const Contact made =
      store::stores(engine.database()).lead_converter().create_contact(uow, lead, company_id);
  return engine.contacts(who).get(uow, made.id);
}

Deal deal_for(Engine& engine, store::UnitOfWork& uow, const security::Principal& who,
              const Lead& lead, Id company_id, Id contact_id,
              const store::LeadConversion::NewDeal& spec) {
  engine.policy()->require(who, security::Action::kCreate, ObjectType::kDeal,
                           security::RecordScope::of(lead));
  auto parts = store::stores(engine.database());
  const Deal made = parts.lead_converter().open_deal(
      uow, lead, parts.companies().get(uow, company_id), contact_id, spec);
  return engine.deals(who).get(uow, made.id);
}

Lead finish_for(Engine& engine, store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                Id contact_id, Id company_id, std::optional<Id> deal_id, bool company_created) {
  store::stores(engine.database())
      .lead_converter()
      .mark_converted(uow, lead_id, contact_id, company_id, deal_id, company_created);
  return engine.leads(who).get(uow, lead_id);
}

}  // namespace

store::ConversionResult Engine::convert_lead(store::UnitOfWork& uow, const security::Principal& who,
                                             const store::LeadConversion& request) {
  const Lead lead = lead_to_convert(*this, uow, who, request.lead_id);
  store::ConversionResult done;
  auto chosen = company_for(*this, uow, who, lead, request);
  done.company = std::move(chosen.company);
  done.company_created = chosen.created;
  done.contact = contact_for(*this, uow, who, lead, done.company.id);
  if (request.deal)
    done.deal = deal_for(*this, uow, who, lead, done.company.id, done.contact.id, *request.deal);
  done.lead =
      finish_for(*this, uow, who, lead.id, done.contact.id, done.company.id,
                 done.deal ? std::optional<Id>(done.deal->id) : std::nullopt, done.company_created);
  return done;
}

store::CompanyChoice Engine::conversion_company(store::UnitOfWork& uow,
                                                const security::Principal& who,
                                                const store::LeadConversion& request) {
  return company_for(*this, uow, who, lead_to_convert(*this, uow, who, request.lead_id), request);
}

Contact Engine::conversion_contact(store::UnitOfWork& uow, const security::Principal& who,
                                   Id lead_id, Id company_id) {
  const Lead lead = lead_to_convert(*this, uow, who, lead_id);
  companies(who).get(uow, company_id);  // readable, else NotFound
  return contact_for(*this, uow, who, lead, company_id);
}

Deal Engine::conversion_deal(store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                             Id company_id, Id contact_id,
                             const store::LeadConversion::NewDeal& spec) {
  const Lead lead = lead_to_convert(*this, uow, who, lead_id);
  companies(who).get(uow, company_id);  // readable, else NotFound
  return deal_for(*this, uow, who, lead, company_id, contact_id, spec);
}

Lead Engine::finish_conversion(store::UnitOfWork& uow, const security::Principal& who, Id lead_id,
                               Id contact_id, Id company_id, std::optional<Id> deal_id,
                               bool company_created) {
  lead_to_convert(*this, uow, who, lead_id);
  return finish_for(*this, uow, who, lead_id, contact_id, company_id, deal_id, company_created);
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
  // Taking a field from another record reads it: a sensitive one (standard or custom) only
  // where it is seen, whether named in `winners` or filling a blank.
  const auto standard = security::sensitive_fields(request.type);
  std::vector<std::string> sensitive(standard.begin(), standard.end());
  for (const auto& d : store::Session(uow).custom_fields(request.type)->all())
    if (d.sensitive) sensitive.push_back("custom." + d.name);
  auto hidden_in = [&](Id record) {
    return !p->allows(who, Action::kReadSensitive, request.type,
                      readable_scope(*this, uow, who, request.type, record));
  };
  for (const auto& [field, from] : request.winners) {
    if (std::find(sensitive.begin(), sensitive.end(), field) == sensitive.end()) continue;
    if (hidden_in(from))
      throw PermissionDenied(field + ": " + who.name + " may not take a field it cannot see",
                             field);
  }
  store::MergeRequest scoped = request;
  for (Id loser : request.losers)
    if (hidden_in(loser)) scoped.withheld[loser] = sensitive;
  return store::stores(impl_->db).duplicates().merge(uow, scoped);
}

Deal Engine::reopen_deal(store::UnitOfWork& uow, const security::Principal& who, Id deal_id,
                         std::optional<Id> stage_id,
                         std::optional<std::uint64_t> expected_version) {
  const auto of = deals(who);
  policy()->require(who, security::Action::kUpdate, ObjectType::kDeal,
                    security::RecordScope::of(of.get(uow, deal_id)));
  const Deal reopened =
      store::stores(impl_->db).deal_stages().reopen(uow, deal_id, stage_id, expected_version);
  return of.get(uow, reopened.id);
}

std::vector<store::StageChange> Engine::stage_history(store::UnitOfWork& uow,
                                                      const security::Principal& who, Id deal_id) {
  deals(who).get(uow, deal_id);  // NotFound for no such deal, or one it may not read
  return store::stores(impl_->db).deal_stages().history(uow, deal_id);
}

store::PipelineSummary Engine::pipeline_summary(store::UnitOfWork& uow,
                                                const security::Principal& who, Id pipeline_id,
                                                std::optional<DealStatus> status) {
  pipelines(who).get(uow, pipeline_id);  // NotFound for one it may not read
  const auto scope = policy()->list_scope(who, security::Action::kRead, ObjectType::kDeal);
  return store::stores(impl_->db).deal_stages().summary(
      uow, pipeline_id, status, {scope.all, scope.owner_id, scope.team_ids});
}

std::optional<std::uint64_t> Engine::count_without_value(store::UnitOfWork& uow,
                                                         const security::Principal& who,
                                                         const CustomFieldDefinition& definition) {
  using security::Action;
  using security::Scope;
  const ObjectType type = definition.object_type;
  require(who, Action::kRead, type);
  const auto in_force = policy();
  const bool reads_all = in_force->scope(who, Action::kRead, type) == Scope::kAll;
  const bool sees_values =
      !definition.sensitive || in_force->scope(who, Action::kReadSensitive, type) == Scope::kAll;
  if (reads_all && sees_values)
    return store::stores(impl_->db).custom_fields().count_without_value(uow, definition);
  // Within the read scope, by the records service's own count: it refuses a filter on a
  // sensitive field the principal does not see everywhere it reads.
  std::optional<std::uint64_t> count;
  banyan::detail::with_record_type(type, [&]<typename T>() {
    try {
      count = impl_->service<T>(who, in_force)
                  .count(uow, store::Filter::is_null("custom." + definition.name),
                         /*include_archived=*/true);
    } catch (const PermissionDenied&) {
      count.reset();
    }
  });
  return count;
}

std::uint64_t Engine::backfill_custom_field(const security::Principal& who, Id field_id,
                                            const CustomValue& value,
                                            const BackfillOptions& options) {
  if (options.batch < 1 || options.batch > 10000)
    throw ValidationError("batch: must be between 1 and 10000", "batch");
  store::Database& db = impl_->db;
  const auto registry = store::stores(db).custom_fields();
  const CustomFieldDefinition def =
      db.read([&](store::UnitOfWork& uow) { return registry.get(uow, field_id); });
  require(who, security::Action::kAdmin, def.object_type);
  if (std::holds_alternative<std::monostate>(value))
    throw ValidationError("value: a backfill needs a value", "value");
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
  std::uint64_t left =
      db.read([&](store::UnitOfWork& uow) { return registry.count_without_value(uow, def); });
  for (;;) {
    bool more = false;
    db.transact(
        [&](store::UnitOfWork& uow) {
          uow.describe_actor(who.name, options.origin);
          const auto ids = registry.without_value(uow, def, after, options.batch);
          more = ids.size() == options.batch;
          left -= std::min<std::uint64_t>(left, ids.size());
          banyan::detail::with_record_type(def.object_type, [&]<typename T>() {
            const store::Repository<T> repo(store::Session(uow).state().db);
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

Engine::OnceResult Engine::once(const security::Principal& who, const std::string& key,
                                const std::string& fingerprint, const OnceWork& work) {
  impl_->purge_old_keys();
  const std::string own_key = std::to_string(who.user_id.value_or(0)) + ":" + key;
  const auto log = store::stores(impl_->db).request_log();
  for (int attempt = 1;; ++attempt) {
    try {
      return impl_->db.transact(
          [&](store::UnitOfWork& uow) {
            if (auto stored = log.find(uow, own_key)) {
              if (stored->fingerprint != fingerprint)
                throw ValidationError(
                    "this idempotency key was used with a different request; use a new key",
                    "idempotency_key");
              return OnceResult{std::move(*stored), true};
            }
            store::StoredResponse answer = work(uow);
            answer.fingerprint = fingerprint;
            log.save(uow, own_key, answer);
            return OnceResult{std::move(answer), false};
          },
          who.user_id);
    } catch (const Conflict& e) {
      if (e.field() != "key" || attempt >= 2) throw;  // the twin finished first: look again
    }
  }
}

void Engine::record_refusal(const security::Principal& who, ObjectRef record,
                            const std::string& what, const std::string& origin) {
  impl_->db.transact(
      [&](store::UnitOfWork& uow) {
        uow.describe_actor(who.name, origin);
        store::stores(impl_->db).audit().record_denial(uow, record, what);
      },
      who.user_id);
}

void Engine::record_denied_reads() {
  if (!impl_->denied_waiting) return;  // every request calls this: no lock when nothing waits
  std::vector<Impl::DeniedRead> pending;
  {
    std::lock_guard<std::mutex> lock(impl_->denied_mutex);
    pending.swap(impl_->denied_pending);
    impl_->denied_waiting = false;
  }
  for (const auto& d : pending) {
    impl_->db.transact(
        [&](store::UnitOfWork& uow) {
          uow.describe_actor(d.who.name, "read");
          store::stores(impl_->db).audit().record_denial(
              uow, d.record,
              "read refused for scope (answered as not found); first of this minute");
        },
        d.who.user_id);
  }
}

std::uint64_t Engine::denied_reads() const noexcept { return impl_->denied_total.load(); }
std::uint64_t Engine::mass_exports() const noexcept { return impl_->mass_exports.load(); }
std::uint64_t Engine::exports_refused() const noexcept { return impl_->exports_refused.load(); }

std::vector<store::FieldChange> Engine::history(store::UnitOfWork& uow,
                                                const security::Principal& who, ObjectRef record,
                                                std::string_view field) {
  std::vector<store::FieldChange> changes;
  banyan::detail::with_record_type(record.type, [&]<typename T>() {
    changes = impl_->service<T>(who, policy()).history(uow, record.id, field);
  });
  return changes;
}

store::DomainEvent Engine::publish(store::UnitOfWork& uow, const security::Principal& who,
                                   const std::string& type, ObjectRef subject,
                                   const std::string& payload) {
  const auto in_force = policy();
  security::RecordScope place;
  banyan::detail::with_record_type(subject.type, [&]<typename T>() {
    place = security::RecordScope::of(impl_->service<T>(who, in_force).get(uow, subject.id));
  });
  in_force->require(who, security::Action::kUpdate, subject.type, place);
  return store::stores(impl_->db).outbox().append(uow, type, subject, payload);
}

RecordService<User> Engine::users(const security::Principal& who) {
  return impl_->service<User>(who, policy());
}
RecordService<Team> Engine::teams(const security::Principal& who) {
  return impl_->service<Team>(who, policy());
}
RecordService<Tag> Engine::tags(const security::Principal& who) {
  return impl_->service<Tag>(who, policy());
}
RecordService<Company> Engine::companies(const security::Principal& who) {
  return impl_->service<Company>(who, policy());
}
RecordService<Contact> Engine::contacts(const security::Principal& who) {
  return impl_->service<Contact>(who, policy());
}
RecordService<Lead> Engine::leads(const security::Principal& who) {
  return impl_->service<Lead>(who, policy());
}
RecordService<Pipeline> Engine::pipelines(const security::Principal& who) {
  return impl_->service<Pipeline>(who, policy());
}
RecordService<Stage> Engine::stages(const security::Principal& who) {
  return impl_->service<Stage>(who, policy());
}
RecordService<Deal> Engine::deals(const security::Principal& who) {
  return impl_->service<Deal>(who, policy());
}
RecordService<Activity> Engine::activities(const security::Principal& who) {
  return impl_->service<Activity>(who, policy());
}

CustomFieldService Engine::custom_fields(const security::Principal& who) {
  return {impl_->db, who, policy()};
}

RelationService Engine::relations(const security::Principal& who) {
  return impl_->relations(who, policy());
}

}  // namespace banyan
