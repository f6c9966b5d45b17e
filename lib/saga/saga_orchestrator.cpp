#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/messaging/idempotency.hpp"
#include "banyan/saga/saga.hpp"
#include "messaging/queue_store.hpp"
#include "saga/odb/rows.hxx"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/outbox_writer.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::saga {

const char* to_string(SagaStatus s) noexcept {
  switch (s) {
    case SagaStatus::kRunning:
      return "running";
    case SagaStatus::kCompleted:
      return "completed";
    case SagaStatus::kCompensating:
      return "compensating";
    case SagaStatus::kCompensated:
      return "compensated";
    case SagaStatus::kFailed:
      return "failed";
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

// The key of a start's idempotency claim (the name of the saga's one queue, once).
std::string claim_of(const std::string& saga) { return "saga." + saga; }

void validate_saga_name(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
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
  return island::ViewStore<odbrows::SagaInstanceView>::query(store::Session(uow).tx(), q);
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
                         h.at("attempt").get<int>(),
                         store::detail::timestamp(h.at("at").get<std::int64_t>()),
                         h.value("error", std::string())});
  }
  s.error = v.error;
  s.created_at = store::detail::timestamp(v.created_at);
  s.updated_at = store::detail::timestamp(v.updated_at);
  return s;
}

void enqueue_step(UnitOfWork& uow, const std::string& saga, ObjectRef subject,
                  std::uint64_t instance, int step, bool forward) {
  store::DomainEvent m;
  m.id = store::detail::new_event_id();
  m.type = kStepType;
  m.aggregate_type = subject.type;
  m.aggregate_id = subject.id;
  m.occurred_at = store::Session(uow).now();
  m.actor = uow.actor();
  m.payload =
      json{
          {"instance", instance}, {"step", step}, {"direction", forward ? "forward" : "compensate"}}
          .dump();
  messaging::detail::enqueue(uow, step_queue(saga), m, messaging::detail::now_us(uow));
}

// Writes the instance's next state if nobody else changed it since `v` was read.
void save(UnitOfWork& uow, const odbrows::SagaInstanceView& v, SagaStatus status, int step,
          const std::map<std::string, std::string>& data, const json& history,
          const std::string& error) {
  SqlFragment upd;
  upd.text("UPDATE saga_instances SET status = ")
      .param(text_param(to_string(status)))
      .text(", step = ")
      .param(int_param(step))
      .text(", data = ")
      .param(text_param(data_json(data).dump()))
      .text(", history = ")
      .param(text_param(history.dump()))
      .text(", error = ")
      .param(
          text_param(error.empty() ? std::string() : messaging::detail::sanitize_error_text(error)))
      .text(", version = version + 1, updated_at = ")
      .param(int_param(messaging::detail::now_us(uow)))
      .text(" WHERE id = " + std::to_string(v.id) + " AND version = " + std::to_string(v.version));
  if (island::execute(store::Session(uow).tx(), upd) != 1)
    throw Conflict("saga instance " + std::to_string(v.id) + " changed meanwhile", "version");
}

json with_entry(UnitOfWork& uow, const std::string& history, const std::string& step,
                const char* what, int attempt, const std::string& error = {}) {
  json h = json::parse(history);
  json entry{
      {"step", step}, {"what", what}, {"attempt", attempt}, {"at", messaging::detail::now_us(uow)}};
  if (!error.empty()) entry["error"] = messaging::detail::sanitize_error_text(error);
  h.push_back(std::move(entry));
  return h;
}

}  // namespace

namespace {

// Runs a remote step on a thread of its own and waits until its deadline: a call that
// hangs there is given up on (OutcomeUnknown) and its thread left to end on its own, its
// result ignored, so a hung dependency costs a thread, not the consumer.
void run_with_timeout(const std::function<void(StepContext&)>& fn, StepContext& ctx,
                      const Step& step) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
    StepContext ctx;
  };
  auto shared = std::make_shared<Shared>();
  shared->ctx = ctx;
  std::thread([shared, fn] {
    std::exception_ptr error;
    try {
      fn(shared->ctx);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->error = error;
    shared->done = true;
    shared->done_cv.notify_all();
  }).detach();
  // A step that honours its deadline reports its own failure first.
  const auto grace = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(1), step.timeout / 10 + std::chrono::milliseconds(50));
  std::unique_lock<std::mutex> lock(shared->mutex);
  if (!shared->done_cv.wait_until(lock, ctx.deadline + grace, [&] { return shared->done; }))
    throw OutcomeUnknown("step " + step.name + " did not return within its timeout of " +
                         std::to_string(step.timeout.count()) + " ms; given up on");
  if (shared->error) std::rethrow_exception(shared->error);
  ctx.data = shared->ctx.data;
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
      if (!messaging::record_processed(uow, claim_of(def.name), m.event.id)) return;
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
      if (!x || x->step != step || step < 0 || step >= static_cast<int>(def.steps.size()))
        return true;
      const SagaStatus s = parse_status(x->status);
      return forward ? s != SagaStatus::kRunning
                     : (s != SagaStatus::kCompensating && s != SagaStatus::kFailed);
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
      if (fn && s.kind == Step::Kind::kRemote)
        run_with_timeout(fn, ctx, s);
      else if (fn)
        fn(ctx);
      if (std::chrono::steady_clock::now() > ctx.deadline)
        throw OutcomeUnknown("step " + s.name + " ran past its timeout");
    };
    try {
      if (s.kind == Step::Kind::kLocal) {
        db.transact([&](UnitOfWork& uow) {
          // A saga is the engine's own work: with no user, the trail names its writes the
          // system principal's (store/audit.cpp), and the origin says which saga and step.
          uow.describe_actor({}, "saga " + def.name + " #" + std::to_string(id) + " " + s.name +
                                     (forward ? "" : " (undo)"));
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
      const bool maybe_done =
          s.kind == Step::Kind::kRemote && dynamic_cast<const OutcomeUnknown*>(&e) != nullptr;
      if (last)
        db.transact([&](UnitOfWork& uow) {
          give_up(uow, def, *v, forward, maybe_done, m.attempt, e.what());
        });
      throw;  // the message fails: retried, or dead-lettered with the error
    }
  }

  void advance(UnitOfWork& uow, const SagaDefinition& def, const odbrows::SagaInstanceView& v,
               const StepContext& ctx, bool forward, int attempt) {
    const int step = static_cast<int>(v.step);
    const auto& name = def.steps[static_cast<std::size_t>(step)].name;
    const json history =
        with_entry(uow, v.history, name, forward ? "done" : "compensated", attempt);
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
           with_entry(uow, v.history, name, "compensation_failed", attempt, error), why);
    } else if (maybe_done) {
      save(uow, v, SagaStatus::kCompensating, step, data_of(v.data),
           with_entry(uow, v.history, name, "outcome_unknown", attempt, error), why);
      enqueue_step(uow, def.name, subject, v.id, step, false);
    } else if (step > 0) {
      save(uow, v, SagaStatus::kCompensating, step - 1, data_of(v.data),
           with_entry(uow, v.history, name, "failed", attempt, error), why);
      enqueue_step(uow, def.name, subject, v.id, step - 1, false);
    } else {
      save(uow, v, SagaStatus::kCompensated, 0, data_of(v.data),
           with_entry(uow, v.history, name, "failed", attempt, error), why);
    }
  }
};

SagaOrchestrator::SagaOrchestrator(store::Database& db, messaging::MessageBus& bus)
    : impl_(std::make_unique<Impl>(db, bus)) {}

SagaOrchestrator::~SagaOrchestrator() = default;

std::string step_queue(const std::string& saga) { return "saga." + saga; }
std::string start_queue(const std::string& saga) { return "saga." + saga + ".start"; }

void SagaOrchestrator::define(SagaDefinition definition, SagaConsumers consumers) {
  validate_saga_name(definition.name);
  if (definition.steps.empty())
    throw ValidationError("steps: a saga needs at least one step", "steps");
  for (const auto& s : definition.steps) {
    if (s.name.empty()) throw ValidationError("steps: every step needs a name", "steps");
    if (!s.action) throw ValidationError("steps: step " + s.name + " has no action", "steps");
    if (s.timeout >= definition.lease)
      throw ValidationError("lease: must exceed the timeout of step " + s.name, "lease");
  }
  if (!definition.trigger_events.empty() && !definition.start_rule)
    throw ValidationError("start_rule: trigger events need a start rule", "start_rule");
  for (int n : {consumers.steps, consumers.starts})
    if (n < 1 || n > 64) throw ValidationError("consumers: must be between 1 and 64", "consumers");
  // Steps on a queue of their own: they never wait behind the trigger events, most of
  // which start nothing. (Steps carry no outbox event type, so nothing is routed there.)
  messaging::QueueSpec steps;
  steps.name = step_queue(definition.name);
  steps.event_types = {kStepType};
  steps.retry = definition.retry;
  steps.lease = definition.lease;
  std::optional<messaging::QueueSpec> starts;
  if (!definition.trigger_events.empty()) {
    starts = steps;
    starts->name = start_queue(definition.name);
    starts->event_types = definition.trigger_events;
  }
  auto def = std::make_shared<const SagaDefinition>(std::move(definition));
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->definitions.count(def->name) != 0)
      throw ValidationError("name: saga " + def->name + " is defined already", "name");
    impl_->bus.declare_queue(steps);
    if (starts) impl_->bus.declare_queue(*starts);
    impl_->definitions[def->name] = def;
  }
  // Either queue's messages are handled alike: a queue declared by an older version held
  // both kinds, and what it still holds is worked off.
  auto handler = [impl = impl_.get(), def](const messaging::Message& m) {
    impl->on_message(*def, m);
  };
  for (int i = 0; i < consumers.steps; ++i)
    impl_->bus.consume(steps.name, handler, {"saga-" + def->name, 1});
  if (starts)
    for (int i = 0; i < consumers.starts; ++i)
      impl_->bus.consume(starts->name, handler, {"saga-" + def->name + "-start", 1});
}

std::uint64_t SagaOrchestrator::start(UnitOfWork& uow, const std::string& saga,
                                      const StartRequest& request) {
  validate_saga_name(saga);
  if (request.key.empty() || request.key.size() > 190)
    throw ValidationError("key: must be 1 to 190 bytes", "key");
  SqlFragment by_key;
  by_key.text("saga = ")
      .param(text_param(saga))
      .text(" AND saga_key = ")
      .param(text_param(request.key));
  if (auto existing = select(uow, by_key); !existing.empty()) return existing.front().id;
  const std::int64_t now = messaging::detail::now_us(uow);
  SqlFragment ins;
  ins.text(
         "INSERT INTO saga_instances (saga, saga_key, subject_type, subject_id, status, step, "
         "data, "
         "history, error, version, created_at, updated_at) VALUES (")
      .param(text_param(saga))
      .text(", ")
      .param(text_param(request.key))
      .text(", ")
      .param(text_param(std::string(banyan::to_string(request.subject.type))))
      .text(", ")
      .param(int_param(static_cast<std::int64_t>(request.subject.id)))
      .text(", 'running', 0, ")
      .param(text_param(data_json(request.data).dump()))
      .text(", '[]', '', 1, ")
      .param(int_param(now))
      .text(", ")
      .param(int_param(now))
      .text(")");
  island::execute(store::Session(uow).tx(), ins);
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

std::optional<SagaInstance> SagaOrchestrator::find(store::Database& db, const std::string& saga,
                                                   const std::string& key) {
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
  for (const auto& v :
       island::ViewStore<odbrows::SagaCountView>::query(store::Session(uow).tx(), q))
    out.push_back({v.saga, parse_status(v.status), v.count});
  std::sort(out.begin(), out.end(), [](const SagaStats& a, const SagaStats& b) {
    return std::tie(a.saga, a.status) < std::tie(b.saga, b.status);
  });
  return out;
}

messaging::ReplayGuard replay_guard() {
  using messaging::ReplayDecision;
  return [](UnitOfWork& uow, const messaging::DeadLetter& letter) -> ReplayDecision {
    if (letter.event.type != kStepType) return {};
    auto refuse = [](std::string why) {
      return ReplayDecision{ReplayDecision::Kind::kRefuse, std::move(why)};
    };
    const json p = json::parse(letter.event.payload, nullptr, false);
    if (!p.is_object() || !p.contains("instance") || !p.contains("step") ||
        !p.contains("direction"))
      return refuse("not a saga step message");
    const auto id = p["instance"].get<std::uint64_t>();
    const int step = p["step"].get<int>();
    const bool forward = p["direction"].get<std::string>() == "forward";
    auto v = load(uow, id);
    const std::string who = "saga instance " + std::to_string(id);
    if (!v) return refuse(who + " no longer exists");
    const SagaStatus status = parse_status(v->status);
    if (!forward) {
      // A compensation that failed for good left the instance failed at that step.
      if (status == SagaStatus::kFailed && v->step == step) return {};
      return refuse(who + " is " + to_string(status) + ", not waiting on this compensation");
    }
    switch (status) {
      case SagaStatus::kRunning:
        return refuse(who + " is running (step " + std::to_string(v->step) +
                      "): nothing to replay");
      case SagaStatus::kCompleted:
        return refuse(who + " completed");
      case SagaStatus::kCompensating:
        return refuse(who + " is still compensating: replay once it is compensated");
      case SagaStatus::kFailed:
        return refuse(who + "'s compensation failed: replay that dead letter first");
      case SagaStatus::kCompensated:
        break;
    }
    // Compensated because of this step's failure? The run that ended there completed
    // one step before the failed one for each "done" since it began.
    int done = 0;
    std::optional<json> failure;
    for (const auto& h : json::parse(v->history)) {
      const std::string what = h.value("what", std::string());
      if (what == "replayed") {
        done = 0;
        failure.reset();
      } else if (failure) {
        continue;  // the compensations that followed
      } else if (what == "done") {
        ++done;
      } else if (what == "failed" || what == "outcome_unknown") {
        failure = h;
      }
    }
    if (!failure) return refuse(who + " was compensated without a failed step on record");
    if (done != step)
      return refuse(who + " was compensated because step " +
                    failure->value("step", std::string("?")) +
                    " failed, not this one: replay that dead letter");
    // Run it again from the first step: compensation undid every step before this one.
    save(uow, *v, SagaStatus::kRunning, 0, data_of(v->data),
         with_entry(uow, v->history, failure->value("step", std::string()), "replayed", 0), "");
    enqueue_step(uow, v->saga, {parse_object_type(v->subject_type), v->subject_id}, id, 0, true);
    return {ReplayDecision::Kind::kHandled, {}};
  };
}

}  // namespace banyan::saga
