// Sagas: long-running work in named steps, each an action with a compensation, run over
// the message bus.
//
// A saga instance is a row (status, current step, data, history). Each step runs as a
// message of the saga's step queue ("saga.<name>"), so the queue's lease makes one worker
// drive an instance at a time, a worker that dies mid-step gives the step to another after
// the lease, and failures follow the queue's retry policy. The events that may start an
// instance arrive on a queue of their own ("saga.<name>.start"), so steps never wait
// behind them. A step that succeeds records its result and enqueues the next step in one
// transaction. A step that fails for good (a permanent error, or its last attempt) turns
// the instance to compensating: the completed steps are compensated in reverse order, and
// the failed step's message lands in the dead-letter queue with the error. A crash
// therefore resumes or compensates an instance, never leaves it half done. Replaying that
// dead letter (DeadLetterStore with replay_guard()) runs the saga again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/messaging/dead_letter_store.hpp"
#include "banyan/messaging/message_bus.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/database.hpp"

namespace banyan::saga {

enum class SagaStatus { kRunning, kCompleted, kCompensating, kCompensated, kFailed };
BANYAN_EXPORT const char* to_string(SagaStatus s) noexcept;

// What a step sees and may change.
struct BANYAN_EXPORT StepContext {
  std::uint64_t instance_id = 0;
  std::string saga{};
  ObjectRef subject{};
  // The instance's data: set by start(), extended by steps (saved when the step succeeds).
  std::map<std::string, std::string> data{};
  // The step's attempt (1 for the first) and the time by which it must finish.
  int attempt = 1;
  std::chrono::steady_clock::time_point deadline{};
  store::Database* db = nullptr;
  // Local steps only: the transaction that also records the step's success, so their
  // database writes happen exactly once. Null for remote steps.
  store::UnitOfWork* uow = nullptr;
};

// Throw from a remote step when the call may have taken effect though no answer said so
// (a timeout, the connection lost after sending). It is retried like any transient
// failure; when the saga gives up on the step, the step itself is compensated too, not
// only the ones before it, so its compensation must tolerate finding nothing to undo.
class BANYAN_EXPORT OutcomeUnknown : public messaging::TransientError {
 public:
  using messaging::TransientError::TransientError;
};

struct BANYAN_EXPORT Step {
  std::string name{};
  // Local steps write only to this database, inside the step's transaction. Remote steps
  // call other systems outside any transaction and must be idempotent (use the instance
  // id as the idempotency key): after a crash they may run again.
  enum class Kind { kLocal, kRemote } kind = Kind::kLocal;
  // Throws to fail (messaging::PermanentError to fail for good at once; OutcomeUnknown
  // when a remote call may have happened unanswered).
  std::function<void(StepContext&)> action{};
  // Undoes the action after a later step failed for good, or after this remote step
  // failed with OutcomeUnknown (or ran past its timeout). May be empty.
  std::function<void(StepContext&)> compensation{};
  // A step running longer than this fails (the action should honour ctx.deadline). A
  // remote step still running at its timeout is given up on there: its thread is left to
  // finish on its own (its result is ignored), the attempt fails with OutcomeUnknown, and
  // the consumer moves on. (A local step is bounded by the database's timeouts.)
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Starts a saga from a domain event, or returns nothing to ignore the event.
struct BANYAN_EXPORT StartRequest {
  // Unique per saga: a second start with the same key is ignored.
  std::string key{};
  ObjectRef subject{};
  std::map<std::string, std::string> data{};
};
using StartRule = std::function<std::optional<StartRequest>(const store::DomainEvent&)>;

struct BANYAN_EXPORT SagaDefinition {
  // 1..64 bytes of [a-z0-9_]; the saga's queues are "saga.<name>" (steps) and
  // "saga.<name>.start" (its trigger events).
  std::string name{};
  std::vector<Step> steps{};
  // Events that may start an instance, and the rule that decides.
  std::vector<std::string> trigger_events{};
  StartRule start_rule{};
  // Step attempts and backoff (the queue's policy). Compensations retry the same way;
  // one that fails for good leaves the instance kFailed, its message in the DLQ (replay
  // it to resume compensating).
  messaging::RetryPolicy retry{};
  // Must exceed every step's timeout.
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
};

struct BANYAN_EXPORT SagaHistoryEntry {
  std::string step{};
  // "done", "failed", "outcome_unknown" (a remote step given up on that may have
  // happened: compensated too), "compensated", "compensation_failed", "replayed" (a
  // dead letter replayed: the saga runs again from its first step)
  std::string what{};
  int attempt = 0;
  Timestamp at{};
  std::string error{};
};

struct BANYAN_EXPORT SagaInstance {
  std::uint64_t id = 0;
  std::string saga{};
  std::string key{};
  ObjectRef subject{};
  SagaStatus status = SagaStatus::kRunning;
  // The step running or being compensated (index into the definition's steps).
  int step = 0;
  std::map<std::string, std::string> data{};
  std::vector<SagaHistoryEntry> history{};
  std::string error{};
  Timestamp created_at{};
  Timestamp updated_at{};
};

struct BANYAN_EXPORT SagaStats {
  std::string saga{};
  SagaStatus status = SagaStatus::kRunning;
  std::int64_t count = 0;
};

// How many consumers run a saga's queues in this process (1..64 each). Instances run in
// parallel up to `steps`; one instance's steps still run one at a time.
struct BANYAN_EXPORT SagaConsumers {
  int steps = 1;
  int starts = 1;
};

// The queues of a saga.
BANYAN_EXPORT std::string step_queue(const std::string& saga);
BANYAN_EXPORT std::string start_queue(const std::string& saga);

// Runs sagas on a bus: define() them, then start the bus. Thread-safe. The database and
// the bus must outlive the orchestrator, and the bus must not be stopped before it.
class BANYAN_EXPORT SagaOrchestrator {
 public:
  SagaOrchestrator(store::Database& db, messaging::MessageBus& bus);
  ~SagaOrchestrator();
  SagaOrchestrator(const SagaOrchestrator&) = delete;
  SagaOrchestrator& operator=(const SagaOrchestrator&) = delete;

  // Declares the saga's queues and consumes them. Call before the bus starts.
  // ValidationError for a bad or duplicate definition or consumer count.
  void define(SagaDefinition definition, SagaConsumers consumers = {});

  // Starts an instance in the caller's unit of work (it begins when that commits).
  // Returns the instance id; for a key already started, the existing instance's id.
  // Works for any saga defined on any orchestrator of this database, so an application
  // can start sagas that its workers run. ValidationError for a bad name or key.
  static std::uint64_t start(store::UnitOfWork& uow, const std::string& saga,
                             const StartRequest& request);

  // NotFound for an unknown id.
  static SagaInstance get(store::Database& db, std::uint64_t id);
  static std::optional<SagaInstance> find(store::Database& db, const std::string& saga,
                                          const std::string& key);
  static std::vector<SagaStats> stats(store::Database& db);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Decides the replay of a dead-lettered saga step (messaging::DeadLetterStore's guard;
// messages of other queues replay as usual). A forward step that failed for good and
// whose failure compensated the instance restarts it: the instance runs again from its
// first step (compensation undid every step before the failed one; steps are idempotent
// by instance id), and the dead letter counts as replayed. A compensation that failed
// resumes compensating. Anything else is refused with the reason: the instance is gone,
// completed, still compensating, or was compensated because of another step's failure.
BANYAN_EXPORT messaging::ReplayGuard replay_guard();

}  // namespace banyan::saga
