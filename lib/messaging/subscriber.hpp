// A subscriber to published events. Internal to lib/messaging (see bus_core.hpp).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "messaging/bus_core.hpp"
#include "messaging/relay_link.hpp"

namespace banyan::messaging::bus {

// A thread with a SUB to the relay's PUB, calling the handler for each event whose type
// matches the pattern. At most once: what is published while it is away is not kept for
// it, and a handler that throws is logged, not retried. Follows the relay when it moves.
class Subscriber {
 public:
  Subscriber(Core& core, std::string pattern, EventHandler handler);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void start();
  void request_stop() { stop_.store(true); }
  void join();

 private:
  void run();
  void deliver(const store::DomainEvent& event);

  Core& core_;
  std::string pattern_;
  EventHandler handler_;
  RelayLink link_;  // the thread's
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace banyan::messaging::bus
