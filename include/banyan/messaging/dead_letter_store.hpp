// The durable dead-letter queue: messages that failed for good, kept with why and where.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/messaging/message.hpp"
#include "banyan/store/database.hpp"

namespace banyan::messaging {

struct BANYAN_EXPORT DeadLetter {
  std::uint64_t id = 0;
  // The queue it failed in, where a replay puts it back.
  std::string queue{};
  // The original message.
  store::DomainEvent event{};
  // Attempts made before it was dead-lettered.
  int attempts = 0;
  Timestamp first_failed_at{};
  Timestamp last_failed_at{};
  std::string last_error{};
  ErrorClass error_class = ErrorClass::kTransient;
  // The consumer that failed last ("<node>/<consumer>"), or "dispatcher" for an expired lease.
  std::string consumer{};
  Timestamp dead_at{};
  // Set once replayed (the entry is kept as history); replays counts them.
  std::optional<Timestamp> replayed_at{};
  int replays = 0;
};

// Which dead letters to list, replay or purge. Empty fields match everything; the
// conditions combine with AND.
struct BANYAN_EXPORT DeadLetterFilter {
  std::optional<std::string> queue{};
  std::optional<std::string> event_type{};
  // Matches entries whose last error contains this text (byte-exact).
  std::optional<std::string> error_contains{};
  // Entries dead-lettered at least this long ago / at most this long ago.
  std::optional<std::chrono::microseconds> older_than{};
  std::optional<std::chrono::microseconds> newer_than{};
  // Replayed entries are history; they match only when this is set.
  bool include_replayed = false;
};

// Per queue: entries not replayed yet (depth) and the age of the oldest of them.
using DeadLetterQueueStats = QueueBacklog;

// What a replay guard decides for one dead letter about to be replayed.
struct BANYAN_EXPORT ReplayDecision {
  enum class Kind {
    kReplay,   // put the message back in its queue
    kHandled,  // the guard itself put back what the work needs; do not put the message back
    kRefuse,   // leave the entry as it is, for `reason`
  } kind = Kind::kReplay;
  std::string reason{};
};
// Runs in the replay's transaction before anything is put back, and may write in it (to
// restart what the message belongs to: see saga::replay_guard()).
using ReplayGuard = std::function<ReplayDecision(store::UnitOfWork&, const DeadLetter&)>;

struct BANYAN_EXPORT ReplayRefusal {
  std::uint64_t id = 0;
  std::string reason{};
};
struct [[nodiscard]] ReplayReport {
  std::size_t replayed = 0;
  std::vector<ReplayRefusal> refused{};
};

class DeadLetterStore;
namespace detail {
// How the layers beneath the Engine (and the tests) open one, without a principal. Not
// exported from the shared library, so a host cannot call it: hosts go through the Engine.
DeadLetterStore dead_letter_store(store::Database& db, ReplayGuard guard = {});
}  // namespace detail

// Obtain with Engine::admin(who).dead_letters(), which checks that the principal
// administers the installation; valid while the Database lives. Thread-safe: each call
// runs its own transaction. Storage errors surface as banyan::Error (Unavailable, ...).
class BANYAN_EXPORT DeadLetterStore {
 public:
  // Newest first, at most `limit` (1..10000; else ValidationError("limit")), skipping
  // entries with an id >= `before_id` when given (the next page starts below the last id).
  std::vector<DeadLetter> list(const DeadLetterFilter& filter = {}, std::size_t limit = 100,
                               std::optional<std::uint64_t> before_id = std::nullopt) const;
  // NotFound when there is no such entry.
  DeadLetter get(std::uint64_t id) const;
  // Every entry for one message in one queue, oldest first: its failure history.
  std::vector<DeadLetter> history(const std::string& queue, const std::string& event_id) const;

  // Puts the message back at the end of its source queue with its attempts reset, and
  // marks the entry replayed (kept as history). NotFound for an unknown id; Conflict when
  // it was replayed already, or with the reason when the guard refuses. All or nothing.
  void replay(std::uint64_t id);
  // Replays every entry the filter matches (replayed ones never); reports how many, and
  // which the guard refused and why (those stay as they are).
  [[nodiscard]] ReplayReport replay(const DeadLetterFilter& filter);

  // Deletes one entry; false when there was none.
  [[nodiscard]] bool purge(std::uint64_t id);
  // Deletes every entry the filter matches, replayed history included when the filter
  // says so; returns how many.
  std::size_t purge(const DeadLetterFilter& filter);
  // Retention: deletes entries (replayed or not) dead-lettered longer ago than `age`.
  std::size_t purge_older_than(std::chrono::microseconds age);

  // Depth and oldest age per queue that has entries, by queue name.
  std::vector<DeadLetterQueueStats> stats() const;

 private:
  // Replays ask `guard` first, when one is given.
  DeadLetterStore(store::Database& db, ReplayGuard guard) noexcept
      : db_(&db), guard_(std::move(guard)) {}
  friend DeadLetterStore detail::dead_letter_store(store::Database& db, ReplayGuard guard);

  store::Database* db_;
  ReplayGuard guard_;
};

}  // namespace banyan::messaging
