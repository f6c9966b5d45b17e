// What every part of one MessageBus shares. The parts, each in a file of its own:
//   relay_link    where a consumer or subscriber finds the relay, and its socket to it
//   consumer      a durable consumer's thread (a DEALER to the relay's ROUTER)
//   subscriber    a subscriber's thread (a SUB to the relay's PUB)
//   relay_lease   the lease row that says which bus relays; fences the relay's writes
//   relay_sockets the relay's ROUTER and PUB, and the ZAP handler that checks CURVE keys
//   queue_server  the relay's work-queue side: connected consumers, their credit and answers
//   relay         the relay's thread: publishes the outbox, routes, leases, settles, retains
// message_bus.cpp composes them. Internal to lib/messaging.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "banyan/messaging/message_bus.hpp"
#include "messaging/wire.hpp"

namespace banyan::store {
class Database;
}

namespace banyan::messaging::bus {

using Clock = std::chrono::steady_clock;
using detail::Frames;

// The name of the lease row that says which bus relays.
inline constexpr const char* kRelayLease = "relay";

// Endpoints reachable over the network, which speak CURVE (message_bus.hpp).
inline bool is_tcp(const std::string& endpoint) { return endpoint.rfind("tcp://", 0) == 0; }

// What BusMetrics reports; each part counts its own.
struct Counters {
  std::atomic<std::uint64_t> relayed{0}, delivered{0}, acked{0}, retried{0}, dead_lettered{0},
      redelivered{0}, handled{0}, outbox_pending{0}, foreign_settlements{0}, purged_events{0},
      purged_claims{0}, purged_dead_letters{0};
};

// The shared state of one bus. Owned by MessageBus::Impl, which stops every part before
// it goes. Everything here is set before any thread starts, except the atomics.
struct Core {
  Core(store::Database& database, BusOptions bus_options);

  // Reports `message` as `event`, with this node, when the bus has a log sink.
  void log(LogLevel level, std::string_view event, const std::string& message) const;

  store::Database& db;
  BusOptions options;
  zmq::context_t context{1};
  // The relay's endpoints inside this process, bound while this bus relays.
  std::string inproc_work;
  std::string inproc_publish;
  // Who holds the relay lease: this bus, not its node name (a process restarted under the
  // same name must wait for its predecessor's lease to run out, never inherit it and the
  // endpoints it advertised).
  std::string lease_holder;
  // True while this bus holds the relay lease. Written by its RelayLease only.
  std::atomic<bool> holding_lease{false};
  Counters counters;
};

}  // namespace banyan::messaging::bus
