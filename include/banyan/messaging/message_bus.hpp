// The message bus: relay, work queues and fan-out over ZeroMQ, with the database as the
// source of truth.
//
// Every committed write leaves its event in the outbox (store/outbox.hpp). One bus at a
// time per database holds the relay lease; it reads the outbox in commit order,
// publishes each event on a PUB socket (topic = event type) and routes it durably into
// every work queue whose event types match. It also serves the queues: it leases messages
// to connected consumers (ZeroMQ ROUTER/DEALER, credit-based), records their acks, puts
// failed ones back with exponential backoff, and dead-letters those that run out of
// attempts. Consumers and subscribers of any bus on the database find the serving bus
// through the lease row, so workers in several processes share one database's queues.
//
// Guarantees: an event is routed to its queues at least once and never dropped (a full
// ZeroMQ pipe makes the relay wait); a queued message is done only when acked; a lease
// that expires unacked (a consumer died) means redelivery. Use record_processed() in
// handlers for exactly-once effects. Fan-out (subscribe) is for live observers: an
// observer that is not connected misses what is published meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/log.hpp"
#include "banyan/messaging/message.hpp"
#include "banyan/messaging/retry_policy.hpp"
#include "banyan/store/database.hpp"

namespace banyan::messaging {

// A named work queue: which events it receives, and how it retries.
struct BANYAN_EXPORT QueueSpec {
  // 1..190 bytes of [A-Za-z0-9._-].
  std::string name{};
  // Exact types ("deal.stage_changed"), prefixes ending in ".*" ("deal.*"), or "*".
  std::vector<std::string> event_types{};
  RetryPolicy retry{};
  // How long a consumer may hold a message before it is redelivered.
  std::chrono::milliseconds lease{30000};
};

struct BANYAN_EXPORT ConsumerOptions {
  // Recorded in dead letters as "<node>/<name>". Default: the queue name.
  std::string name{};
  // Messages delivered ahead of the one being handled (1..10000).
  int prefetch = 64;
};

// ZeroMQ CURVE keys for a bus reachable over tcp:// (Z85 text, 40 characters each). The
// relay serves with the server pair and lets in only clients whose public key it allows
// (its own client key is always allowed); consumers and subscribers of other processes
// connect with the client pair and check the server's public key. Every process of one
// deployment usually shares one key file (`banyan bus keygen`).
struct BANYAN_EXPORT CurveKeys {
  std::string server_public{};
  std::string server_secret{};  // empty: this process cannot serve over tcp:// (relay it off)
  std::string client_public{};
  std::string client_secret{};
  std::vector<std::string> allowed_clients{};  // more client public keys the relay lets in

  // Lines "server-public KEY", "server-secret KEY", "client-public KEY", "client-secret KEY",
  // "allow KEY" (any number); blank lines and '#' comments skipped. ValidationError("bus_keys")
  // for anything else, a key that is not Z85 of 32 bytes, or a public key that is not its
  // secret's (the message never contains a secret).
  static CurveKeys parse(std::string_view text);
  // The same from a file (Unavailable when it cannot be read).
  static CurveKeys load_file(const std::string& path);
  // BANYAN_BUS_KEY_FILE, if set.
  static std::optional<CurveKeys> from_environment();
  // A new key file's text: fresh server and client pairs.
  [[nodiscard]] static std::string generate();
};

// How long the bus that holds the relay lease keeps what the messaging layer is done
// with. It deletes what is past its window in batches of `batch_size` rows, between its
// relay rounds (so relaying never waits long behind it), every `interval`, and at once
// again while a batch came back full. A zero duration keeps that table's rows forever.
struct BANYAN_EXPORT RetentionPolicy {
  // Relayed outbox events: the bodies of routed queue messages and the Outbox::read feed.
  // An event a queued message still needs is kept whatever its age.
  std::chrono::microseconds outbox{std::chrono::hours(24 * 7)};
  // Idempotency claims (record_processed). Must be at least `dead_letters`: a dead letter
  // replayed later must still find the claim of an effect that did happen.
  std::chrono::microseconds processed{std::chrono::hours(24 * 30)};
  // Dead letters, replayed or not.
  std::chrono::microseconds dead_letters{std::chrono::hours(24 * 14)};
  int batch_size = 1000;
  std::chrono::milliseconds interval{std::chrono::minutes(1)};

  // ValidationError naming the field for a negative window, `processed` shorter than
  // `dead_letters`, a batch outside 1..10000 or an interval under 100 ms.
  void validate() const;
};

// Rows in one of the messaging layer's tables (outbox_events, queue_messages,
// dead_letters, processed_messages), for metrics.
struct BANYAN_EXPORT TableSize {
  std::string table{};
  std::int64_t rows = 0;
};

struct BANYAN_EXPORT BusOptions {
  // This bus in leases and dead letters; unique per bus. Default: "<hostname>:<pid>", with
  // "#<n>" added for the second and later bus of a process.
  std::string node{};
  // Whether this bus competes for the relay lease (relays and serves the queues when it
  // holds it). A bus with relay off only consumes and subscribes.
  bool relay = true;
  // Endpoints the relay binds besides its private inproc:// ones, so other processes can
  // reach it: "tcp://127.0.0.1:*" (a free port), "tcp://0.0.0.0:5600", "ipc:///run/b.sock".
  // Empty: "ipc://*", a socket file in a fresh 0700 directory, which every process of this
  // host and user can reach (whichever of them relays). The bound endpoints are advertised
  // in the lease row; for tcp://0.0.0.0 set `advertise_host`. A tcp:// endpoint needs
  // `curve` with a server pair (start() is refused otherwise): on a network, nobody without
  // the keys receives an event or speaks to the relay.
  std::string work_endpoint{};
  std::string publish_endpoint{};
  std::string advertise_host{};
  // CURVE keys for tcp:// endpoints, this bus's own and the relay's it connects to when
  // another process holds the lease. Unset: CurveKeys::from_environment().
  std::optional<CurveKeys> curve{};
  // How long the relay lease lasts unrenewed: another bus takes over this long after the
  // holder dies.
  std::chrono::milliseconds relay_lease{3000};
  // Outbox events read, and queue messages leased, per round.
  int batch_size = 1000;
  // How often a relay looks at the outbox while messages flow (the bound on
  // commit-to-publish latency), and the longest it waits once nothing has happened for a
  // second (the bound for the first message after a quiet spell; an idle process then
  // polls 50 times a second rather than 500).
  std::chrono::milliseconds idle_poll{2};
  std::chrono::milliseconds idle_poll_max{20};
  // ZeroMQ high-water marks: beyond them the relay waits (back-pressure), never drops.
  int high_water_mark = 10000;
  // Applied while this bus holds the relay lease (the constructor validates it).
  RetentionPolicy retention{};
  // Where the bus reports the relay lease taken (info) or lost, a relay it cannot reach or
  // look up, a round that failed (warning), a subscriber that threw (error). Unset:
  // nowhere.
  LogSink log{};
};

// Counters since start (monotonic), for metrics.
struct BANYAN_EXPORT BusMetrics {
  bool relay_holder = false;
  std::uint64_t relayed = 0;    // events routed and published by this bus
  std::uint64_t delivered = 0;  // messages leased to consumers by this bus
  std::uint64_t acked = 0;
  std::uint64_t retried = 0;  // failed attempts put back for a delayed retry
  std::uint64_t dead_lettered = 0;
  std::uint64_t redelivered = 0;     // expired leases put back
  std::uint64_t handled = 0;         // messages handled by this bus's consumers
  std::uint64_t outbox_pending = 0;  // events not yet relayed, at the last look
  // Acks, nacks and releases refused: from a peer that does not hold that message's lease.
  std::uint64_t foreign_settlements = 0;
  // Rows deleted by retention, by this bus.
  std::uint64_t purged_events = 0;
  std::uint64_t purged_claims = 0;
  std::uint64_t purged_dead_letters = 0;
};

// Thread safety: all methods may be called from any thread. Handlers run on the bus's
// threads: one per consumer and one per subscriber.
class BANYAN_EXPORT MessageBus {
 public:
  // `db` must outlive the bus. Nothing runs until start().
  MessageBus(store::Database& db, BusOptions options = {});
  // Stops (see stop()) if running.
  ~MessageBus();
  MessageBus(const MessageBus&) = delete;
  MessageBus& operator=(const MessageBus&) = delete;

  // Creates or updates a queue (persisted in the database, so every bus on it routes to
  // it from now on). Events committed before a queue exists are not routed to it.
  // ValidationError for a bad name, type pattern or policy.
  void declare_queue(const QueueSpec& spec);
  // Runs `handler` for the messages of `queue` on a thread of its own. Several consumers
  // of one queue, in this or other processes, compete for its messages. May be called
  // before or after start(). ValidationError for an unknown queue or bad options.
  void consume(const std::string& queue, MessageHandler handler, ConsumerOptions options = {});
  // Runs `handler` for each event published from now on whose type matches `pattern`
  // (same forms as QueueSpec::event_types), on a thread of its own.
  void subscribe(const std::string& pattern, EventHandler handler);

  // Starts the relay (when enabled), consumers and subscribers. Unavailable when a
  // configured endpoint cannot be bound.
  void start();
  // Stops taking new messages: each consumer finishes the message in hand (handlers bound
  // their own time) and gives back what it had prefetched without counting an attempt;
  // the relay settles the acks it received, releases what is still out and gives up its
  // lease, so another bus takes over at once. Idempotent; the bus cannot start again.
  void stop();

  BusMetrics metrics() const;
  // Every work queue's backlog, from the database (whichever bus relays): a queue whose
  // oldest message keeps ageing is not being served. Throws like a read.
  std::vector<QueueBacklog> backlog() const;
  // The rows each messaging table holds. Counting reads every row, so a count younger
  // than `max_age` is answered from the last one (a scrape passes seconds; 0 counts now).
  std::vector<TableSize> table_sizes(
      std::chrono::milliseconds max_age = std::chrono::milliseconds(0)) const;
  // The endpoints the relay advertises ("" while this bus does not hold the lease).
  std::string work_endpoint() const;
  std::string publish_endpoint() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace banyan::messaging
