#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/messaging/idempotency.hpp"
#include "banyan/saga/saga.hpp"
#include "messaging/queue_store.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/outbox_writer.hpp"
#include "store/sql_builder.hpp"

namespace banyan::saga {

const char* to_string(SagaStatus s) noexcept {
  switch (s) {
    case SagaStatus::kRunning: return "running";
    case SagaStatus::kCompleted: return "completed";
    case SagaStatus::kCompensating: return "compensating";
    case SagaStatus::kCompensated: return "compensated";
    case SagaStatus::kFailed: return "failed";
  }
  return "failed";
}

namespace {

using island::SqlFragment;
using nlohmann::json;
using store::UnitOfWork;
using store::detail::int_param;
using store::detail::text_param;

constexpr const char* kStepType = "saga.step";
constexpr const char* kColumns =
    "id, saga, saga_key, subject_type, subject_id, status, step, data, history, error, version, "
    "created_at, updated_at";

SagaStatus parse_status(const std::string& s) {
  for (auto st : {SagaStatus::kRunning, SagaStatus::kCompleted, SagaStatus::kCompensating,
                  SagaStatus::kCompensated, SagaStatus::kFailed})
    if (s == to_string(st)) return st;
  throw InternalError("unknown saga status '" + s + "'");
}

std::string queue_of(const std::string& saga) { return "saga." + saga; }

void validate_saga_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok) throw ValidationError("name: a saga name is 1 to 64 characters of a-z 0-9 _", "name");
}

json data_json(const std::map<std::string, std::string>& data) {
  json out = json::object();
  for (const auto& [k, v] : data) out[k] = v;
  return out;
}

std::map<std::string, std::string> data_of(const std::string& text) {
  std::map<std::string, std::string> out;
  const json parsed = json::parse(text);
  for (const auto& [k, v] : parsed.items()) out[k] = v.get<std::string>();
  return out;
}

std::vector<odbrows::SagaInstanceView> select(UnitOfWork& uow, const SqlFragment& where) {
  SqlFragment q;
  q.text(std::string("SELECT ") + kColumns + " FROM saga_instances WHERE ").append(where);
  return island::ViewStore<odbrows::SagaInstanceView>::query(uow.impl().live(), q);
}

std::optional<odbrows::SagaInstanceView> load(UnitOfWork& uow, std::uint64_t id) {
  SqlFragment w;
  w.text("id = " + std::to_string(id));
  auto rows = select(uow, w);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

SagaInstance instance_of(const odbrows::SagaInstanceView& v) {
  SagaInstance s;
  s.id = v.id;
  s.saga = v.saga;
  s.key = v.saga_key;
  s.subject = {parse_object_type(v.subject_type), v.subject_id};
  s.status = parse_status(v.status);
  s.step = static_cast<int>(v.step);
  s.data = data_of(v.data);
  for (const auto& h : json::parse(v.history)) {
    s.history.push_back({h.at("step").get<std::string>(), h.at("what").get<std::string>(),
                         h.at("attempt").get<int>(), store::detail::timestamp(h.at("at").get<std::int64_t>()),
                         h.value("error", std::string())});
  }
  s.error = v.error;
  s.created_at = store::detail::timestamp(v.created_at);
  s.updated_at = store::detail::timestamp(v.updated_at);
  return s;
}

void enqueue_step(UnitOfWork& uow, const std::string& saga, ObjectRef subject, std::uint64_t instance,
                  int step, bool forward) {
  store::DomainEvent m;
  m.id = store::detail::new_event_id();
  m.type = kStepType;
  m.aggregate_type = subject.type;
  m.aggregate_id = subject.id;
  m.occurred_at = store::detail::now_micros();
  m.actor = uow.actor();
  m.payload = json{{"instance", instance}, {"step", step}, {"direction", forward ? "forward" : "compensate"}}.dump();
  messaging::detail::enqueue(uow, queue_of(saga), m, messaging::detail::now_us());
}

// Writes the instance's next state if nobody else changed it since `v` was read.
void save(UnitOfWork& uow, const odbrows::SagaInstanceView& v, SagaStatus status, int step,
          const std::map<std::string, std::string>& data, const json& history, const std::string& error) {
  SqlFragment upd;
  upd.text("UPDATE saga_instances SET status = ").param(text_param(to_string(status)))
      .text(", step = ").param(int_param(step))
      .text(", data = ").param(text_param(data_json(data).dump()))
      .text(", history = ").param(text_param(history.dump()))
      .text(", error = ").param(text_param(error.empty() ? std::string() : messaging::detail::sanitize_error_text(error)))
      .text(", version = version + 1, updated_at = ").param(int_param(messaging::detail::now_us()))
      .text(" WHERE id = " + std::to_string(v.id) + " AND version = " + std::to_string(v.version));
  if (island::execute(uow.impl().live(), upd) != 1)
    throw Conflict("saga instance " + std::to_string(v.id) + " changed meanwhile", "version");
}

json with_entry(const std::string& history, const std::string& step, const char* what, int attempt,
                const std::string& error = {}) {
  json h = json::parse(history);
  json entry{{"step", step}, {"what", what}, {"attempt", attempt}, {"at", messaging::detail::now_us()}};
  if (!error.empty()) entry["error"] = messaging::detail::sanitize_error_text(error);
  h.push_back(std::move(entry));
  return h;
}

}  // namespace

struct SagaOrchestrator::Impl {
  Impl(store::Database& d, messaging::MessageBus& b) : db(d), bus(b) {}
  store::Database& db;
  messaging::MessageBus& bus;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const SagaDefinition>> definitions;  // guarded by mutex

  void on_message(const SagaDefinition& def, const messaging::Message& m) {
    if (m.event.type == kStepType) {
      on_step(def, m);
      return;
    }
    auto request = def.start_rule ? def.start_rule(m.event) : std::nullopt;
    if (!request) return;
    db.transact([&](UnitOfWork& uow) {
      if (!messaging::record_processed(uow, queue_of(def.name), m.event.id)) return;
      SagaOrchestrator::start(uow, def.name, *request);
    });
  }

  void on_step(const SagaDefinition& def, const messaging::Message& m) {
    const json p = json::parse(m.event.payload);
    const std::uint64_t id = p.at("instance").get<std::uint64_t>();
    const int step = p.at("step").get<int>();
    const bool forward = p.at("direction").get<std::string>() == "forward";
    auto current = [&]() {
      auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
      return load(uow, id);
    };
    auto v = current();
    // A message that no longer matches the instance (it moved on: a redelivery after the
    // work was recorded) is done.
    auto stale = [&](const std::optional<odbrows::SagaInstanceView>& x) {
      if (!x || x->step != step || step < 0 || step >= static_cast<int>(def.steps.size())) return true;
      const SagaStatus s = parse_status(x->status);
      return forward ? s != SagaStatus::kRunning : (s != SagaStatus::kCompensating && s != SagaStatus::kFailed);
    };
    if (stale(v)) return;
    const Step& s = def.steps[static_cast<std::size_t>(step)];
    const auto& fn = forward ? s.action : s.compensation;
    StepContext ctx;
    ctx.instance_id = id;
    ctx.saga = def.name;
    ctx.subject = {parse_object_type(v->subject_type), v->subject_id};
    ctx.data = data_of(v->data);
    ctx.attempt = m.attempt;
    ctx.db = &db;
    const auto started = std::chrono::steady_clock::now();
    ctx.deadline = started + s.timeout;
    auto run = [&] {
      if (fn) fn(ctx);
      if (std::chrono::steady_clock::now() > ctx.deadline)
        throw OutcomeUnknown("step " + s.name + " ran past its timeout");
    };
    try {
      if (s.kind == Step::Kind::kLocal) {
        db.transact([&](UnitOfWork& uow) {
          ctx.uow = &uow;
          run();
          advance(uow, def, *v, ctx, forward, m.attempt);
        });
      } else {
        run();
        db.transact([&](UnitOfWork& uow) { advance(uow, def, *v, ctx, forward, m.attempt); });
      }
    } catch (const Conflict&) {
      if (stale(current())) return;  // another delivery recorded this step first
      throw;
    } catch (const std::exception& e) {
      const bool last = messaging::classify(e) == messaging::ErrorClass::kPermanent ||
                        m.attempt >= def.retry.max_attempts;
      // A remote step that may have happened is undone with the rest (a local one that
      // failed rolled back with its transaction).
      const bool maybe_done = s.kind == Step::Kind::kRemote && dynamic_cast<const OutcomeUnknown*>(&e) != nullptr;
      if (last)
        db.transact([&](UnitOfWork& uow) { give_up(uow, def, *v, forward, maybe_done, m.attempt, e.what()); });
      throw;  // the message fails: retried, or dead-lettered with the error
    }
  }

  void advance(UnitOfWork& uow, const SagaDefinition& def, const odbrows::SagaInstanceView& v,
               const StepContext& ctx, bool forward, int attempt) {
    const int step = static_cast<int>(v.step);
    const auto& name = def.steps[static_cast<std::size_t>(step)].name;
    const json history = with_entry(v.history, name, forward ? "done" : "compensated", attempt);
    const ObjectRef subject{parse_object_type(v.subject_type), v.subject_id};
    if (forward && step + 1 < static_cast<int>(def.steps.size())) {
      save(uow, v, SagaStatus::kRunning, step + 1, ctx.data, history, v.error);
      enqueue_step(uow, def.name, subject, v.id, step + 1, true);
    } else if (forward) {
      save(uow, v, SagaStatus::kCompleted, step, ctx.data, history, v.error);
    } else if (step > 0) {
      save(uow, v, SagaStatus::kCompensating, step - 1, ctx.data, history, v.error);
      enqueue_step(uow, def.name, subject, v.id, step - 1, false);
    } else {
      save(uow, v, SagaStatus::kCompensated, 0, ctx.data, history, v.error);
    }
  }

  void give_up(UnitOfWork& uow, const SagaDefinition& def, const odbrows::SagaInstanceView& v,
               bool forward, bool maybe_done, int attempt, const std::string& error) {
    const int step = static_cast<int>(v.step);
    const auto& name = def.steps[static_cast<std::size_t>(step)].name;
    const ObjectRef subject{parse_object_type(v.subject_type), v.subject_id};
    const std::string why = name + ": " + error;
    if (!forward) {
      save(uow, v, SagaStatus::kFailed, step, data_of(v.data),
           with_entry(v.history, name, "compensation_failed", attempt, error), why);
    } else if (maybe_done) {
      save(uow, v, SagaStatus::kCompensating, step, data_of(v.data),
           with_entry(v.history, name, "outcome_unknown", attempt, error), why);
      enqueue_step(uow, def.name, subject, v.id, step, false);
    } else if (step > 0) {
      save(uow, v, SagaStatus::kCompensating, step - 1, data_of(v.data),
           with_entry(v.history, name, "failed", attempt, error), why);
      enqueue_step(uow, def.name, subject, v.id, step - 1, false);
    } else {
      save(uow, v, SagaStatus::kCompensated, 0, data_of(v.data),
           with_entry(v.history, name, "failed", attempt, error), why);
    }
  }
};

SagaOrchestrator::SagaOrchestrator(store::Database& db, messaging::MessageBus& bus)
    : impl_(std::make_unique<Impl>(db, bus)) {}

SagaOrchestrator::~SagaOrchestrator() = default;

void SagaOrchestrator::define(SagaDefinition definition, int consumers) {
  validate_saga_name(definition.name);
  if (definition.steps.empty()) throw ValidationError("steps: a saga needs at least one step", "steps");
  for (const auto& s : definition.steps) {
    if (s.name.empty()) throw ValidationError("steps: every step needs a name", "steps");
    if (!s.action) throw ValidationError("steps: step " + s.name + " has no action", "steps");
    if (s.timeout >= definition.lease)
      throw ValidationError("lease: must exceed the timeout of step " + s.name, "lease");
  }
  if (!definition.trigger_events.empty() && !definition.start_rule)
    throw ValidationError("start_rule: trigger events need a start rule", "start_rule");
  if (consumers < 1 || consumers > 64) throw ValidationError("consumers: must be between 1 and 64", "consumers");
  messaging::QueueSpec q;
  q.name = queue_of(definition.name);
  q.event_types = definition.trigger_events;
  q.event_types.push_back(kStepType);
  q.retry = definition.retry;
  q.lease = definition.lease;
  auto def = std::make_shared<const SagaDefinition>(std::move(definition));
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->definitions.count(def->name) != 0)
      throw ValidationError("name: saga " + def->name + " is defined already", "name");
    impl_->bus.declare_queue(q);
    impl_->definitions[def->name] = def;
  }
  for (int i = 0; i < consumers; ++i) {
    impl_->bus.consume(q.name, [impl = impl_.get(), def](const messaging::Message& m) { impl->on_message(*def, m); },
                       {"saga-" + def->name, 1});
  }
}

std::uint64_t SagaOrchestrator::start(UnitOfWork& uow, const std::string& saga, const StartRequest& request) {
  validate_saga_name(saga);
  if (request.key.empty() || request.key.size() > 190)
    throw ValidationError("key: must be 1 to 190 bytes", "key");
  SqlFragment by_key;
  by_key.text("saga = ").param(text_param(saga)).text(" AND saga_key = ").param(text_param(request.key));
  if (auto existing = select(uow, by_key); !existing.empty()) return existing.front().id;
  const std::int64_t now = messaging::detail::now_us();
  SqlFragment ins;
  ins.text("INSERT INTO saga_instances (saga, saga_key, subject_type, subject_id, status, step, data, "
           "history, error, version, created_at, updated_at) VALUES (")
      .param(text_param(saga)).text(", ").param(text_param(request.key)).text(", ")
      .param(text_param(std::string(banyan::to_string(request.subject.type)))).text(", ")
      .param(int_param(static_cast<std::int64_t>(request.subject.id))).text(", 'running', 0, ")
      .param(text_param(data_json(request.data).dump())).text(", '[]', '', 1, ")
      .param(int_param(now)).text(", ").param(int_param(now)).text(")");
  island::execute(uow.impl().live(), ins);
  const std::uint64_t id = select(uow, by_key).at(0).id;
  enqueue_step(uow, saga, request.subject, id, 0, true);
  return id;
}

SagaInstance SagaOrchestrator::get(store::Database& db, std::uint64_t id) {
  auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
  auto v = load(uow, id);
  if (!v) throw NotFound("no saga instance " + std::to_string(id), "id");
  return instance_of(*v);
}

std::optional<SagaInstance> SagaOrchestrator::find(store::Database& db, const std::string& saga, const std::string& key) {
  auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
  SqlFragment w;
  w.text("saga = ").param(text_param(saga)).text(" AND saga_key = ").param(text_param(key));
  auto rows = select(uow, w);
  if (rows.empty()) return std::nullopt;
  return instance_of(rows.front());
}

std::vector<SagaStats> SagaOrchestrator::stats(store::Database& db) {
  auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
  SqlFragment q;
  q.text("SELECT saga, status, COUNT(*) FROM saga_instances GROUP BY saga, status");
  std::vector<SagaStats> out;
  for (const auto& v : island::ViewStore<odbrows::SagaCountView>::query(uow.impl().live(), q))
    out.push_back({v.saga, parse_status(v.status), v.count});
  std::sort(out.begin(), out.end(), [](const SagaStats& a, const SagaStats& b) {
    return std::tie(a.saga, a.status) < std::tie(b.saga, b.status);
  });
  return out;
}

}  // namespace banyan::saga
