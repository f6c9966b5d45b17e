// The relay's sockets: a ROUTER for the work queues and a PUB for events, bound on
// inproc:// always and on the configured endpoints, with CURVE and a ZAP handler on tcp://.
#include <filesystem>

#include "messaging/bus_impl.hpp"

namespace banyan::messaging {

using bus::Clock;
using bus::Frames;
using bus::is_tcp;
using bus::kRelayLease;
using namespace std::chrono_literals;

void MessageBus::Impl::bind_relay() {
  router.emplace(context, zmq::socket_type::router);
  router->set(zmq::sockopt::router_mandatory, 1);
  router->set(zmq::sockopt::sndhwm, options.high_water_mark);
  router->set(zmq::sockopt::rcvhwm, options.high_water_mark);
  router->set(zmq::sockopt::linger, 0);
  publisher.emplace(context, zmq::socket_type::pub);
  publisher->set(zmq::sockopt::xpub_nodrop, 1);
  publisher->set(zmq::sockopt::sndhwm, options.high_water_mark);
  publisher->set(zmq::sockopt::linger, 0);
  if (is_tcp(options.work_endpoint) || is_tcp(options.publish_endpoint)) start_zap();
  auto bind = [&](zmq::socket_t& s, const std::string& internal, const std::string& external) {
    s.bind(internal);
    if (external.empty()) {
      // No endpoint configured: one every process of this host and user can reach (a
      // socket file in a fresh 0700 directory), so consumers in other processes on the
      // database (a server beside a worker) are served whichever of them relays.
      s.bind("ipc://*");
      return std::string(s.get(zmq::sockopt::last_endpoint));
    }
    if (is_tcp(external)) {
      s.set(zmq::sockopt::curve_server, 1);
      s.set(zmq::sockopt::curve_secretkey, options.curve->server_secret);
      s.set(zmq::sockopt::zap_domain, "banyan");
    }
    try {
      s.bind(external);
    } catch (const zmq::error_t& e) {
      throw Unavailable("cannot bind " + external + ": " + e.what());
    }
    std::string bound = s.get(zmq::sockopt::last_endpoint);
    const std::string any = "tcp://0.0.0.0:";
    if (bound.rfind(any, 0) == 0)
      bound = "tcp://" + (options.advertise_host.empty() ? "127.0.0.1" : options.advertise_host) +
              ":" + bound.substr(any.size());
    return bound;
  };
  advertised_work = bind(*router, inproc_work, options.work_endpoint);
  advertised_publish = bind(*publisher, inproc_publish, options.publish_endpoint);
}

// Before a tcp:// bind: the keys it needs, and the handler that checks clients' keys.
void MessageBus::Impl::start_zap() {
  if (!options.curve || options.curve->server_secret.empty())
    throw Unavailable(
        "a relay on tcp:// needs CURVE server keys (BANYAN_BUS_KEY_FILE, or BusOptions::curve): "
        "without them anyone who reaches the port would receive every event");
  std::set<std::string> allowed;
  auto allow = [&](const std::string& z85) {
    if (z85.empty()) return;
    std::string raw(32, '\0');
    if (zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), z85.c_str()) != nullptr)
      allowed.insert(raw);
  };
  allow(options.curve->client_public);
  for (const auto& k : options.curve->allowed_clients) allow(k);
  zap.emplace(context, zmq::socket_type::rep);
  zap->set(zmq::sockopt::linger, 0);
  zap->bind("inproc://zeromq.zap.01");
  zap_thread = std::thread([this, allowed = std::move(allowed)] { zap_main(allowed); });
}

// Answers ZeroMQ's authentication requests (ZAP, RFC 27): 200 for a CURVE client whose
// public key is allowed, 400 for anyone else.
void MessageBus::Impl::zap_main(const std::set<std::string>& allowed) {
  Frames f;
  Clock::time_point quiet_until{};  // a refused peer retries every 100 ms: one line per 10 s
  while (!stop_zap.load()) {
    zmq::pollitem_t item{static_cast<void*>(*zap), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 100ms);
    while (detail::receive_frames(*zap, f)) {
      // [version] [request id] [domain] [address] [identity] [mechanism] [credentials...]
      const bool ok = f.size() >= 7 && f[0] == "1.0" && f[5] == "CURVE" && allowed.count(f[6]) > 0;
      if (!ok && Clock::now() >= quiet_until) {
        quiet_until = Clock::now() + 10s;
        log(LogLevel::kWarning, "relay_connection_refused",
            "relay: refused a connection from " + (f.size() > 3 ? f[3] : std::string("?")) +
                ": it has no CURVE key this relay allows");
      }
      detail::send_or_drop(*zap, {"1.0", f.size() > 1 ? f[1] : std::string(), ok ? "200" : "400",
                                  ok ? "OK" : "key not allowed", "", ""});
    }
  }
  zap.reset();
}
}  // namespace banyan::messaging
