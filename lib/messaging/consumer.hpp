// A durable consumer of one work queue. Internal to lib/messaging (see bus_core.hpp).
#pragma once

#include <atomic>
#include <deque>
#include <string>
#include <thread>

#include "messaging/bus_core.hpp"
#include "messaging/relay_link.hpp"

namespace banyan::messaging::bus {

// A thread with a DEALER to the relay's ROUTER. It says HELLO with its queue and prefetch,
// receives leased messages, runs the handler (with the queue's immediate retries) and
// answers ACK, NACK (tries, error class, message) or, on stop, RELEASE; it pings while idle
// so the relay knows it is alive. Follows the relay when the lease moves.
class Consumer {
 public:
  Consumer(Core& core, std::string queue, MessageHandler handler, ConsumerOptions options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void start();
  // Asks the thread to stop after the message in hand; join() waits for it. The messages
  // it prefetched go back to the relay without counting an attempt.
  void request_stop() { stop_.store(true); }
  void join();

 private:
  // A message the relay leased to us.
  struct Delivery {
    std::uint64_t id = 0;
    int attempts_before = 0;
    int tries_allowed = 1;
    store::DomainEvent event;
  };

  void run();
  void hello();
  // Reads every frame waiting: deliveries are queued, a WHO is answered with HELLO.
  void receive();
  void handle(const Delivery& d);

  Core& core_;
  std::string queue_;
  MessageHandler handler_;
  ConsumerOptions options_;
  std::string who_;  // node/consumer name, in dead letters
  RelayLink link_;   // the thread's, like everything below
  std::deque<Delivery> prefetched_;
  Frames frames_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace banyan::messaging::bus
