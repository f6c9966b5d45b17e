// The relay. Internal to lib/messaging (see bus_core.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "messaging/bus_core.hpp"
#include "messaging/queue_server.hpp"
#include "messaging/relay_lease.hpp"
#include "messaging/relay_sockets.hpp"

namespace banyan::messaging::bus {

// A thread that, while this bus holds the relay lease, publishes the outbox (fan-out to
// subscribers, then routing into every matching work queue), leases ready messages to
// the consumers its QueueServer serves, writes down what they answered (acks, releases,
// retries with backoff, dead letters), takes back expired leases and applies retention.
// Each round reads, publishes, then makes one write transaction fenced by the lease.
// While another bus holds the lease it only tries to take it over.
class Relay {
 public:
  // Binds the sockets: throws Unavailable when an endpoint cannot be bound, or tcp://
  // lacks CURVE keys.
  explicit Relay(Core& core);
  ~Relay() { stop(); }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  void start();
  // Stops the thread after its round, settles what consumers gave back, releases the
  // lease (another bus takes over at once) and closes the sockets. Idempotent.
  void stop();

  const RelayLease& lease() const { return lease_; }

 private:
  using Rows = std::map<std::string, std::vector<odbrows::QueueMessageView>>;
  // What one round's write transaction did, for what follows its commit.
  struct Written {
    Rows leased;                                                // ready messages, by queue
    std::map<std::string, std::vector<detail::Routed>> routed;  // new ones, by queue
    std::vector<std::uint64_t> expired;
  };
  // The relay's state under one lease: a bus that takes the lease starts afresh.
  struct State {
    std::vector<store::DomainEvent> batch;  // read from the outbox, being published
    std::size_t published = 0;
    std::vector<QueueSpec> queues;
    Clock::time_point queues_loaded{};
    Clock::time_point next_outbox_poll{}, next_ready_poll{}, next_expiry{}, next_renewal{},
        next_retention{};
    std::map<std::string, std::int64_t> last_until;  // the latest lease expiry, by queue
    std::mt19937_64 rng{std::random_device{}()};
    // How often an idle relay looks: options.idle_poll while there is work, doubling up
    // to options.idle_poll_max once nothing has happened for a second (an idle process
    // should not spend a tenth of a core polling the outbox).
    std::chrono::milliseconds idle_interval{};
    Clock::time_point last_activity{};
  };

  void run();
  // Hands every waiting consumer frame to the queue server (while relaying; otherwise
  // stays silent, and consumers move to the holder within a quarter second).
  void drain();
  // One round of relay work.
  void round();
  // Reads queue declarations, the outbox and, for free credit, ready messages (one
  // snapshot); returns those ready messages, by queue.
  Rows read(Clock::time_point now, std::int64_t now_us, const std::map<std::string, int>& credit);
  // Publishes the batch read (fan-out before routing: a crash in between publishes again,
  // never loses); stops early while a subscriber is full.
  void publish();
  // The write transaction: settles the answers, routes the published batch when
  // `route_now`, takes back expired leases when `expiry_due`, leases `ready`. Nullopt
  // when the lease was lost (nothing committed).
  std::optional<Written> write(std::int64_t now_us, const std::map<std::string, int>& credit,
                               bool route_now, bool expiry_due, Rows& ready);
  // After the commit: sends what was leased and schedules the next round.
  void deliver(Clock::time_point now, Written& written, bool route_now, bool expiry_due);
  // Retention (RetentionPolicy): one batch per table per call, in a transaction of its
  // own; due again at once while a batch came back full, so a backlog drains a batch
  // per relay round without holding up the relaying.
  void retain();
  // On stop: writes down what consumers gave back and releases the lease.
  void settle_on_stop();
  void lose_lease(const std::string& why);

  void note_activity(Clock::time_point now);
  void note_idle(Clock::time_point now);
  std::chrono::milliseconds idle_interval() const;
  // When a lease taken now on `spec`'s messages runs out: later than any lease this relay
  // handed out before on that queue, so that the expiry tells one lease's messages apart.
  // (Per queue: another queue's longer lease must not stretch this one's.)
  std::int64_t message_lease_until(const QueueSpec& spec, std::int64_t now_us);

  Core& core_;
  RelaySockets sockets_;
  RelayLease lease_;
  QueueServer server_;
  State st_;  // this and everything below: the relay thread's
  Frames frames_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace banyan::messaging::bus
