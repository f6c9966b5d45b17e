// The SQL of the messaging tables (schema version 7): queue declarations, the relay
// lease, routing from the outbox, leases, acks, retries and dead-lettering. Every
// function runs inside the caller's unit of work; the caller decides what commits together.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "banyan/messaging/message.hpp"
#include "banyan/messaging/message_bus.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "messaging/odb/rows.hxx"
#include "store/odb/rows.hxx"
#include "store/outbox.hpp"

namespace banyan::messaging::detail {

using store::UnitOfWork;

// Microseconds since the epoch by the database's clock (DatabaseOptions::clock): leases,
// retries and their backoff, lease expiry and retention run on the installation's one
// clock, so a test moves them with a ManualClock instead of waiting.
std::int64_t now_us(const store::Database& db);
std::int64_t now_us(UnitOfWork& uow);

// "INSERT OR IGNORE INTO " (SQLite) or "INSERT IGNORE INTO " (MySQL).
const char* insert_ignore(UnitOfWork& uow);

// The event columns a queue message and a dead letter share (a copy of the outbox row's).
inline constexpr const char* kEventColumns =
    "event_id, event_sequence, event_type, aggregate_type, aggregate_id, aggregate_version, "
    "occurred_at, actor_id, payload";

// "(1,2,3)": ids for an IN list.
std::string id_list(const std::vector<std::uint64_t>& ids);

// Whether `type` matches a QueueSpec::event_types pattern ("x.y", "x.*" or "*").
bool type_matches(const std::string& pattern, const std::string& type) noexcept;
// ValidationError naming the bad part.
void validate(const QueueSpec& spec);
// ValidationError(field) unless `pattern` is an event type, "x.*" or "*".
void validate_type_pattern(const std::string& pattern, const std::string& field);
std::string sanitize_error_text(const std::string& text);

void upsert_queue(UnitOfWork& uow, const QueueSpec& spec);
std::vector<QueueSpec> load_queues(UnitOfWork& uow);
std::optional<QueueSpec> find_queue(UnitOfWork& uow, const std::string& name);

struct Lease {
  std::string holder;
  std::int64_t expires_at = 0;
  std::string work_endpoint;
  std::string publish_endpoint;
};
std::optional<Lease> read_lease(UnitOfWork& uow, const std::string& name);
// Takes or renews the lease until `until` when it is free, expired or already ours, and
// stores the endpoints with it. On MySQL the row stays locked until the unit of work
// ends, which fences a former holder out of the same transaction. True when ours.
[[nodiscard]] bool hold_lease(UnitOfWork& uow, const std::string& name, const std::string& holder,
                              std::int64_t now, std::int64_t until,
                              const std::string& work_endpoint,
                              const std::string& publish_endpoint);
void release_lease(UnitOfWork& uow, const std::string& name, const std::string& holder);

// Outbox events not yet relayed, in sequence order.
std::vector<store::DomainEvent> pending_events(UnitOfWork& uow, int limit);
std::uint64_t count_pending_events(UnitOfWork& uow);
// A message the relay leased as it routed it: the queue message and its outbox event.
struct Routed {
  std::uint64_t id = 0;
  std::uint64_t sequence = 0;
};
// How many of a queue's new messages to lease at once, and until when: a time that no
// earlier lease of the same holder used, which tells this lease's messages apart.
struct LeaseNow {
  int count = 0;
  std::int64_t until = 0;
};
// Puts the events into every queue that matches (once per queue and event, however often
// it is called; the body stays in the outbox) and marks them relayed. Of each queue's
// share, the first `lease_now[queue].count` are leased at once to `holder`; returns those,
// by queue.
std::map<std::string, std::vector<Routed>> route_events(
    UnitOfWork& uow, const std::vector<QueueSpec>& queues,
    const std::vector<store::DomainEvent>& events, std::int64_t now,
    const std::map<std::string, LeaseNow>& lease_now, const std::string& holder);

// Ready messages of `queue` (available by `now`), oldest first.
std::vector<odbrows::QueueMessageView> ready_messages(UnitOfWork& uow, const std::string& queue,
                                                      std::int64_t now, int limit);
std::optional<odbrows::QueueMessageView> queue_message(UnitOfWork& uow, std::uint64_t id);
// Per queue, by name: the rows of `rows` (a table and its condition: "queue_messages",
// "dead_letters WHERE replayed_at = 0") and the age of the oldest by `time_column`.
std::vector<QueueBacklog> backlog_by_queue(UnitOfWork& uow, const std::string& rows,
                                           const std::string& time_column);
// Marks the messages leased to `leased_to` until `until`; returns those it got.
std::vector<std::uint64_t> lease_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids,
                                          std::int64_t until, const std::string& leased_to);
// Done: deletes them.
void ack_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids);
// Back to ready without counting an attempt (a consumer gave them back unhandled).
void release_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids, std::int64_t now);

struct Failure {
  std::uint64_t id = 0;
  int tries = 1;  // attempts made in this delivery
  ErrorClass error_class = ErrorClass::kTransient;
  std::string error;
  std::string consumer;
};
enum class FailureOutcome { kGone, kRetry, kDeadLettered };
// Counts the attempts; schedules the next one by the queue's policy or dead-letters the
// message. `unit` is a random number in [0, 1) for the jitter.
FailureOutcome record_failure(UnitOfWork& uow, const Failure& failure, const QueueSpec& queue,
                              std::int64_t now, double unit);
// Messages whose lease ran out by `now`, oldest first.
std::vector<std::uint64_t> expired_leases(UnitOfWork& uow, std::int64_t now, int limit);
// Moves a message to the dead-letter table (it leaves the queue).
void dead_letter(UnitOfWork& uow, std::uint64_t id, int attempts, ErrorClass error_class,
                 const std::string& error, const std::string& consumer, std::int64_t now);

// Puts a message straight into `queue`, not through the outbox: commands such as saga
// steps. It becomes deliverable at `available_at` once the unit of work commits.
void enqueue(UnitOfWork& uow, const std::string& queue, const store::DomainEvent& message,
             std::int64_t available_at);

store::DomainEvent event_of(const odbrows::QueueMessageView& row);
store::DomainEvent event_of(const odbrows::DeadLetterView& row);

// Retention, at most `limit` rows per call; each returns how many it deleted. Outbox
// events relayed before `relayed_before` that no queued message still reads its body
// from; claims recorded before `processed_before`; dead letters dead before `dead_before`.
std::size_t purge_relayed_events(UnitOfWork& uow, std::int64_t relayed_before, int limit);
std::size_t purge_processed_claims(UnitOfWork& uow, std::int64_t processed_before, int limit);
std::size_t purge_dead_letters(UnitOfWork& uow, std::int64_t dead_before, int limit);
// Rows in each messaging table.
std::vector<TableSize> table_sizes(UnitOfWork& uow);

}  // namespace banyan::messaging::detail
