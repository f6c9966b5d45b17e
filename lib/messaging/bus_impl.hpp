// The parts of MessageBus, for the files that implement them (message_bus.cpp: the
// public methods and where clients connect; bus_clients.cpp: consumers and subscribers;
// relay.cpp: the relay; relay_endpoints.cpp: its sockets and their authentication).
// Internal to lib/messaging.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "banyan/errors.hpp"
#include "banyan/messaging/message_bus.hpp"
#include "messaging/queue_store.hpp"
#include "messaging/wire.hpp"

namespace banyan::messaging {
namespace bus {

using Clock = std::chrono::steady_clock;
using detail::Frames;

inline constexpr const char* kRelayLease = "relay";

// Endpoints reachable over the network, which speak CURVE (message_bus.hpp).
inline bool is_tcp(const std::string& endpoint) { return endpoint.rfind("tcp://", 0) == 0; }

}  // namespace bus

struct MessageBus::Impl {
  using Clock = bus::Clock;
  using Frames = detail::Frames;

  struct Consumer {
    std::string queue;
    MessageHandler handler;
    ConsumerOptions options;
    std::thread thread;
  };
  struct Subscriber {
    std::string pattern;
    EventHandler handler;
    std::thread thread;
  };
  // A consumer connected to this bus's relay, by ZeroMQ routing id.
  struct Peer {
    std::string queue;
    std::string consumer;
    int prefetch = 1;
    std::set<std::uint64_t> in_flight;
    Clock::time_point last_seen;
  };
  struct Delivery {
    std::uint64_t id = 0;
    int attempts_before = 0;
    int tries_allowed = 1;
    store::DomainEvent event;
  };

  store::Database& db;
  BusOptions options;
  zmq::context_t context;
  std::string inproc_work;
  std::string inproc_publish;
  std::string lease_holder;

  std::mutex mutex;  // guards consumers, subscribers, started, stopped, advertised_*
  // The last count of the messaging tables, for table_sizes(max_age).
  struct {
    std::mutex mutex;
    std::vector<TableSize> sizes;
    std::optional<Clock::time_point> counted_at;
  } table_sizes;
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  bool started = false;
  bool stopped = false;
  std::string advertised_work;
  std::string advertised_publish;

  // The ZAP handler (ZeroMQ's authentication hook) of a relay on tcp://: lets in only
  // clients whose CURVE public key is allowed.
  std::optional<zmq::socket_t> zap;  // zap thread only, once started
  std::thread zap_thread;
  std::atomic<bool> stop_zap{false};

  std::optional<zmq::socket_t> router;  // relay thread only, once started
  std::optional<zmq::socket_t> publisher;
  std::thread relay_thread;
  std::atomic<bool> holding{false};
  std::atomic<bool> stop_consumers{false};
  std::atomic<bool> stop_subscribers{false};
  std::atomic<bool> stop_relay{false};

  struct Counters {
    std::atomic<std::uint64_t> relayed{0}, delivered{0}, acked{0}, retried{0}, dead_lettered{0},
        redelivered{0}, handled{0}, outbox_pending{0}, foreign_settlements{0}, purged_events{0},
        purged_claims{0}, purged_dead_letters{0};
  } counters;

  Impl(store::Database& d, BusOptions o);

  // A consumer's or subscriber's connection to whichever bus holds the relay lease.
  struct RelayLink {
    std::optional<zmq::socket_t> socket;
    std::string connected;
    Clock::time_point next_look{};
  };

  struct RelayState {
    std::map<std::string, Peer> peers;
    std::vector<std::uint64_t> acks, releases;
    std::vector<detail::Failure> failures;
    std::vector<store::DomainEvent> batch;  // read from the outbox, being published
    std::size_t published = 0;
    std::vector<QueueSpec> queues;
    Clock::time_point queues_loaded{};
    Clock::time_point next_outbox_poll{}, next_ready_poll{}, next_expiry{}, next_renewal{},
        next_retention{};
    std::map<std::uint64_t, std::string> owner;      // delivery id -> peer, while in flight
    std::map<std::string, std::int64_t> last_until;  // the latest lease expiry, by queue
    std::mt19937_64 rng{std::random_device{}()};
    // How often an idle relay looks: options.idle_poll while there is work, doubling up to
    // options.idle_poll_max once nothing has happened for a second (an idle process
    // should not spend a tenth of a core polling the outbox).
    std::chrono::milliseconds idle_interval{};
    Clock::time_point last_activity{};
  };

  // A leased message on its way to a consumer.
  struct Outgoing {
    std::uint64_t id = 0;
    int attempts = 0;  // before this delivery
    store::DomainEvent event;
  };

  // ---- where consumers and subscribers connect (message_bus.cpp) -----------------------------
  // Reports `message` as `event`, with this node, when the bus has a log sink.
  void log(LogLevel level, std::string_view event, const std::string& message) const;
  // The relay's endpoints: our own inproc ones while we hold the lease, else what the
  // holder advertises in the database ("" when no live holder serves other processes).
  std::pair<std::string, std::string> locate();
  // Looks up the relay when due and reconnects when it moved; true when the link changed
  // (the socket is then new, or empty while no relay serves). `configure` sets options
  // before the connect.
  bool follow_relay(RelayLink& link, zmq::socket_type type, bool work_queue,
                    const std::function<void(zmq::socket_t&)>& configure);
  void start_consumer(Consumer& c);
  void start_subscriber(Subscriber& s);

  // ---- consumers and subscribers (bus_clients.cpp) -------------------------------------------
  void consumer_main(Consumer& c);
  void handle(Consumer& c, const std::string& who, zmq::socket_t& socket, const Delivery& d);
  void subscriber_main(Subscriber& s);

  // ---- the relay (relay.cpp) -----------------------------------------------------------------
  void note_activity(RelayState& st, Clock::time_point now);
  void note_idle(RelayState& st, Clock::time_point now);
  std::chrono::milliseconds idle_interval(const RelayState& st) const;
  const QueueSpec* queue_spec(RelayState& st, const std::string& name);
  void forget_delivery(RelayState& st, std::uint64_t id);
  void on_peer_message(RelayState& st, const Frames& f);
  // Sends what was leased, spreading it over the peers of each queue by their free credit.
  void dispatch(RelayState& st, const std::map<std::string, std::vector<Outgoing>>& leased,
                std::vector<std::uint64_t>& undeliverable);
  // When a lease taken now on `spec`'s messages runs out: later than any lease this relay
  // handed out before on that queue, so that the expiry tells one lease's messages apart.
  // (Per queue: another queue's longer lease must not stretch this one's.)
  std::int64_t message_lease_until(RelayState& st, const QueueSpec& spec, std::int64_t now_us);
  std::map<std::string, int> free_credit(RelayState& st);
  // One round of relay work: read, publish, then one write transaction for everything
  // that changes state. Returns when it would next have something to do.
  void relay_round(RelayState& st);
  // Consumers ping twice a second while idle; one silent this long has gone (its
  // messages come back when their leases run out). If it was only busy, its next
  // frame gets a WHO and it says HELLO again.
  void prune_silent_peers(RelayState& st, Clock::time_point now);
  // Retention (RetentionPolicy): one batch per table per call, in a transaction of its
  // own; due again at once while a batch came back full, so a backlog drains a batch
  // per relay round without holding up the relaying.
  void retain(RelayState& st);
  void lose_lease(RelayState& st, const std::string& why);
  void relay_main();

  // ---- the relay's endpoints and their authentication (relay_endpoints.cpp) ------------------
  void bind_relay();
  // Before a tcp:// bind: the keys it needs, and the handler that checks clients' keys.
  void start_zap();
  // Answers ZeroMQ's authentication requests (ZAP, RFC 27): 200 for a CURVE client whose
  // public key is allowed, 400 for anyone else.
  void zap_main(const std::set<std::string>& allowed);
};

}  // namespace banyan::messaging
