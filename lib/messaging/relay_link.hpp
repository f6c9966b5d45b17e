// A consumer's or subscriber's connection to whichever bus holds the relay lease.
// Internal to lib/messaging (see bus_core.hpp for the parts of the bus).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "messaging/bus_core.hpp"

namespace banyan::messaging::bus {

// Follows the relay as it moves between buses: this bus's inproc endpoints while it holds
// the lease, else what the holder advertises in the database. Used by one thread.
class RelayLink {
 public:
  using Configure = std::function<void(zmq::socket_t&)>;

  // `work_queue`: connect to the relay's ROUTER (consumers) rather than its PUB
  // (subscribers). `configure` sets a new socket's options before it connects.
  RelayLink(Core& core, zmq::socket_type type, bool work_queue, Configure configure);

  // Looks up the relay when due (every 250 ms, every 20 ms while none serves) and
  // reconnects when it moved. True when the link changed: socket() is then new, or null
  // while no relay serves this process. Never throws for a relay that is away or
  // unreachable; it logs why and tries again.
  bool follow();

  // The socket to the relay, or null. Valid until the next follow().
  zmq::socket_t* socket() { return socket_ ? &*socket_ : nullptr; }

 private:
  // The endpoint to connect to now: "" when no live relay serves other processes.
  std::string locate() const;
  // Whether this process can connect to `endpoint`; logs why not.
  bool reachable(const std::string& endpoint) const;

  Core& core_;
  zmq::socket_type type_;
  bool work_queue_;
  Configure configure_;
  std::optional<zmq::socket_t> socket_;
  std::string connected_;
  Clock::time_point next_look_{};
};

}  // namespace banyan::messaging::bus
