#include "messaging/relay_link.hpp"

#include <filesystem>

#include "banyan/errors.hpp"
#include "banyan/store/database.hpp"
#include "messaging/queue_store.hpp"

namespace banyan::messaging::bus {

using namespace std::chrono_literals;

RelayLink::RelayLink(Core& core, zmq::socket_type type, bool work_queue, Configure configure)
    : core_(core), type_(type), work_queue_(work_queue), configure_(std::move(configure)) {}

std::string RelayLink::locate() const {
  if (core_.holding_lease.load()) return work_queue_ ? core_.inproc_work : core_.inproc_publish;
  try {
    auto uow = core_.db.begin(std::nullopt, store::Access::kReadOnly);
    auto lease = detail::read_lease(uow, kRelayLease);
    uow.rollback();
    if (lease && lease->expires_at > detail::now_us(core_.db) &&
        lease->holder != core_.lease_holder)
      return work_queue_ ? lease->work_endpoint : lease->publish_endpoint;
  } catch (const Error& e) {
    core_.log(LogLevel::kWarning, "relay_lookup_failed",
              std::string("cannot look up the relay: ") + e.what());
  }
  return "";
}

bool RelayLink::reachable(const std::string& endpoint) const {
  std::error_code missing;  // not found, or in a directory this user may not enter
  if (endpoint.rfind("ipc://", 0) == 0 && !std::filesystem::exists(endpoint.substr(6), missing)) {
    core_.log(LogLevel::kWarning, "relay_unreachable",
              "cannot reach the relay at " + endpoint +
                  ": that socket file is not on this host, or not open to this user; give the "
                  "relay a tcp:// work and publish endpoint (and the deployment's CURVE keys) so "
                  "that consumers here are served");
    return false;
  }
  const auto& curve = core_.options.curve;
  if (is_tcp(endpoint) && (!curve || curve->client_secret.empty())) {
    core_.log(LogLevel::kWarning, "relay_unreachable",
              "cannot reach the relay at " + endpoint +
                  ": it serves over tcp://, which needs CURVE client keys "
                  "(BANYAN_BUS_KEY_FILE, or BusOptions::curve), and this bus has none");
    return false;
  }
  return true;
}

bool RelayLink::follow() {
  const auto now = Clock::now();
  if (now < next_look_) return false;
  const std::string endpoint = locate();
  // Look again soon while there is no relay to talk to (startup, failover).
  next_look_ = now + (endpoint.empty() ? 20ms : 250ms);
  if (endpoint == connected_) return false;
  socket_.reset();
  connected_ = endpoint;
  if (endpoint.empty() || !reachable(endpoint)) return true;
  socket_.emplace(core_.context, type_);
  configure_(*socket_);
  if (is_tcp(endpoint)) {
    const auto& curve = *core_.options.curve;
    socket_->set(zmq::sockopt::curve_serverkey, curve.server_public);
    socket_->set(zmq::sockopt::curve_publickey, curve.client_public);
    socket_->set(zmq::sockopt::curve_secretkey, curve.client_secret);
  }
  socket_->connect(endpoint);
  return true;
}

}  // namespace banyan::messaging::bus
