// The relay's work-queue side. Internal to lib/messaging (see bus_core.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "messaging/bus_core.hpp"
#include "messaging/queue_store.hpp"

namespace banyan::messaging::bus {

// The queue of that name among `queues`, or null.
const QueueSpec* find_spec(const std::vector<QueueSpec>& queues, const std::string& name);

// Serves the consumers connected to the relay's ROUTER, each known by its ZeroMQ routing
// id: which queue it consumes, its prefetch, which leased messages it holds, and what it
// answered (ACK, NACK, RELEASE) until the relay writes that down. Only the consumer that
// holds a message may settle it. Everything here is the relay thread's.
class QueueServer {
 public:
  // What consumers answered, for the relay's next write.
  struct Answers {
    std::vector<std::uint64_t> acks;
    std::vector<std::uint64_t> releases;  // also the messages no consumer had room for
    std::vector<detail::Failure> failures;

    bool empty() const { return acks.empty() && releases.empty() && failures.empty(); }
    void clear();
  };
  // A leased message on its way to a consumer.
  struct Outgoing {
    std::uint64_t id = 0;
    int attempts = 0;  // before this delivery
    store::DomainEvent event;
  };

  QueueServer(Core& core, zmq::socket_t& router);

  // One message from a consumer: [routing id] [verb] [arguments...]. A consumer not known
  // yet (the relay restarted, or pruned it) is asked WHO and says HELLO again.
  void on_message(const Frames& f);
  // Free prefetch per queue, summed over its consumers.
  std::map<std::string, int> free_credit() const;
  // Sends what was leased, spreading each queue's messages over its consumers by their
  // free credit; what finds no room is added to answers().releases.
  void dispatch(const std::vector<QueueSpec>& queues,
                const std::map<std::string, std::vector<Outgoing>>& leased);
  // The message is no longer out (settled, or its lease expired).
  void forget(std::uint64_t id);
  // Consumers ping twice a second while idle; one silent for 30 s has gone (its
  // messages come back when their leases run out). If it was only busy, its next
  // frame gets a WHO and it says HELLO again.
  void prune_silent(Clock::time_point now);
  // The messages consumers hold now.
  std::vector<std::uint64_t> held() const;

  Answers& answers() { return answers_; }
  // Forgets every consumer and answer: a relay that takes the lease starts clean.
  void reset();

 private:
  struct Peer {
    std::string queue;
    std::string consumer;
    int prefetch = 1;
    std::set<std::uint64_t> in_flight;
    Clock::time_point last_seen;
  };

  void hello(const std::string& peer_id, const Frames& f);
  // True when `peer_id` holds message `id` and so may settle it.
  bool holds(const std::string& peer_id, std::uint64_t id);
  // Sends `row` to one of `peers` with room, from `next` on; true when sent.
  bool send(const QueueSpec* spec, const Outgoing& row, const std::vector<std::string>& peers,
            std::size_t& next);

  Core& core_;
  zmq::socket_t& router_;
  std::map<std::string, Peer> peers_;
  std::map<std::uint64_t, std::string> owner_;  // delivery id -> peer, while in flight
  Answers answers_;
};

}  // namespace banyan::messaging::bus
