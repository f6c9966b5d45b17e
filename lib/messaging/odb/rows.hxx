// The messaging layer's rows: views of its queues, dead letters and leases
// (lib/messaging/schema.cpp).
// Absent values are stored as 0 or '' so views stay copyable.
//
// Plain C++14 structs annotated with `#pragma db`, like lib/store/odb/rows.hxx: the ODB
// compiler generates their code into the island (banyan_odb, C++14), and the layer's
// C++20 code reads them through island::ViewStore (instantiated in views.cxx beside this
// file). The tables are plain SQL, declared and migrated by the layer's schema part.
//
// Not formatted: clang-format would write ODB's `mysql:type(...)` as `mysql : type(...)`.
// clang-format off
#ifndef BANYAN_LIB_MESSAGING_ODB_ROWS_HXX
#define BANYAN_LIB_MESSAGING_ODB_ROWS_HXX

#include <cstdint>
#include <string>

namespace banyan {
namespace odbrows {

#pragma db value(std::string) mysql:type("VARCHAR(255)")

// A work-queue message, as the dispatcher leases it and the dead-letter store keeps it.
#pragma db view
struct QueueMessageView {
  std::uint64_t id = 0;
  std::string queue;
  std::string event_id;
  std::uint64_t event_sequence = 0;
  std::string event_type;
  std::string aggregate_type;
  std::uint64_t aggregate_id = 0;
  std::uint64_t aggregate_version = 0;
  std::int64_t occurred_at = 0;
  std::uint64_t actor_id = 0;
#pragma db mysql:type("MEDIUMTEXT")
  std::string payload;
  std::int64_t attempts = 0;
  std::int64_t first_failed_at = 0;
};

#pragma db view
struct DeadLetterView {
  std::uint64_t id = 0;
  std::string queue;
  std::string event_id;
  std::uint64_t event_sequence = 0;
  std::string event_type;
  std::string aggregate_type;
  std::uint64_t aggregate_id = 0;
  std::uint64_t aggregate_version = 0;
  std::int64_t occurred_at = 0;
  std::uint64_t actor_id = 0;
#pragma db mysql:type("MEDIUMTEXT")
  std::string payload;
  std::int64_t attempts = 0;
  std::int64_t first_failed_at = 0;
  std::int64_t last_failed_at = 0;
#pragma db mysql:type("TEXT")
  std::string last_error;
  std::string error_class;
  std::string consumer;
  std::int64_t dead_at = 0;
  std::int64_t replayed_at = 0;
  std::int64_t replay_count = 0;
};

// A declared work queue and its retry policy.
#pragma db view
struct QueueSpecView {
  std::string name;
  std::string event_types;
  std::int64_t immediate_retries = 0;
  std::int64_t max_attempts = 0;
  std::int64_t initial_delay_ms = 0;
  std::int64_t max_delay_ms = 0;
  double multiplier = 0;
  double jitter = 0;
  std::int64_t lease_ms = 0;
};

// A named lease (the relay's), with the endpoints its holder serves.
#pragma db view
struct LeaseView {
  std::string holder;
  std::int64_t expires_at = 0;
  std::string work_endpoint;
  std::string publish_endpoint;
};

// Per-queue depth and oldest entry (queue and dead-letter metrics).
#pragma db view
struct QueueDepthView {
  std::string queue;
  std::int64_t depth = 0;
  std::int64_t oldest = 0;
};

}  // namespace odbrows
}  // namespace banyan

#endif  // BANYAN_LIB_MESSAGING_ODB_ROWS_HXX
