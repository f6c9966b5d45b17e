// The relay's sockets and their authentication. Internal to lib/messaging (see
// bus_core.hpp).
#pragma once

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "messaging/bus_core.hpp"

namespace banyan::messaging::bus {

// Answers ZeroMQ's authentication requests (ZAP, RFC 27) for a relay on tcp://: 200 for a
// CURVE client whose public key is allowed (the bus's own client key and
// CurveKeys::allowed_clients), 400 for anyone else, logging refusals at most once per
// 10 s. ZeroMQ asks at inproc://zeromq.zap.01, so there is one per context. Runs its own
// thread from construction to destruction.
class ZapAuthenticator {
 public:
  // Throws Unavailable when the bus has no CURVE server keys.
  explicit ZapAuthenticator(Core& core);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

 private:
  void run();

  Core& core_;
  std::set<std::string> allowed_;  // raw 32-byte public keys
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The relay's ROUTER (work queues) and PUB (events), each bound on this bus's inproc://
// endpoint and on its configured one: with CURVE and a ZapAuthenticator on tcp://, or a
// fresh ipc:// socket file when none is configured (so consumers in other processes of
// this host and user are served). The sockets belong to the relay's thread once it runs.
class RelaySockets {
 public:
  // Throws Unavailable when an endpoint cannot be bound or tcp:// lacks CURVE keys.
  explicit RelaySockets(Core& core);
  ~RelaySockets() { close(); }
  RelaySockets(const RelaySockets&) = delete;
  RelaySockets& operator=(const RelaySockets&) = delete;

  zmq::socket_t& router() { return *router_; }
  zmq::socket_t& publisher() { return *publisher_; }
  // Where other processes reach them.
  const std::string& advertised_work() const { return advertised_work_; }
  const std::string& advertised_publish() const { return advertised_publish_; }

  // Closes both sockets, stops the authenticator and removes the ipc:// socket files this
  // bus made. Idempotent; after the relay's thread has ended.
  void close();

 private:
  // Binds `socket` on `internal` and `external`; returns where others reach it.
  std::string bind(zmq::socket_t& socket, const std::string& internal, const std::string& external);

  Core& core_;
  std::optional<ZapAuthenticator> zap_;
  std::optional<zmq::socket_t> router_;
  std::optional<zmq::socket_t> publisher_;
  std::string advertised_work_;
  std::string advertised_publish_;
};

}  // namespace banyan::messaging::bus
