#include "messaging/relay_sockets.hpp"

#include <unistd.h>

#include "banyan/errors.hpp"

namespace banyan::messaging::bus {

using namespace std::chrono_literals;

ZapAuthenticator::ZapAuthenticator(Core& core)
    : core_(core), socket_(core.context, zmq::socket_type::rep) {
  const auto& curve = core_.options.curve;
  if (!curve || curve->server_secret.empty())
    throw Unavailable(
        "a relay on tcp:// needs CURVE server keys (BANYAN_BUS_KEY_FILE, or BusOptions::curve): "
        "without them anyone who reaches the port would receive every event");
  auto allow = [&](const std::string& z85) {
    if (z85.empty()) return;
    std::string raw(32, '\0');
    if (zmq_z85_decode(reinterpret_cast<std::uint8_t*>(raw.data()), z85.c_str()) != nullptr)
      allowed_.insert(raw);
  };
  allow(curve->client_public);
  for (const auto& k : curve->allowed_clients) allow(k);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { run(); });
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZapAuthenticator::run() {
  Frames f;
  Clock::time_point quiet_until{};  // a refused peer retries every 100 ms: one line per 10 s
  while (!stop_.load()) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 100ms);
    while (detail::receive_frames(socket_, f)) {
      // [version] [request id] [domain] [address] [identity] [mechanism] [credentials...]
      const bool ok = f.size() >= 7 && f[0] == "1.0" && f[5] == "CURVE" && allowed_.count(f[6]) > 0;
      if (!ok && Clock::now() >= quiet_until) {
        quiet_until = Clock::now() + 10s;
        core_.log(LogLevel::kWarning, "relay_connection_refused",
                  "relay: refused a connection from " + (f.size() > 3 ? f[3] : std::string("?")) +
                      ": it has no CURVE key this relay allows");
      }
      detail::send_or_drop(socket_, {"1.0", f.size() > 1 ? f[1] : std::string(), ok ? "200" : "400",
                                     ok ? "OK" : "key not allowed", "", ""});
    }
  }
}

RelaySockets::RelaySockets(Core& core) : core_(core) {
  const BusOptions& o = core_.options;
  router_.emplace(core_.context, zmq::socket_type::router);
  router_->set(zmq::sockopt::router_mandatory, 1);
  router_->set(zmq::sockopt::sndhwm, o.high_water_mark);
  router_->set(zmq::sockopt::rcvhwm, o.high_water_mark);
  router_->set(zmq::sockopt::linger, 0);
  publisher_.emplace(core_.context, zmq::socket_type::pub);
  publisher_->set(zmq::sockopt::xpub_nodrop, 1);
  publisher_->set(zmq::sockopt::sndhwm, o.high_water_mark);
  publisher_->set(zmq::sockopt::linger, 0);
  try {
    if (is_tcp(o.work_endpoint) || is_tcp(o.publish_endpoint)) zap_.emplace(core_);
    advertised_work_ = bind(*router_, core_.inproc_work, o.work_endpoint);
    advertised_publish_ = bind(*publisher_, core_.inproc_publish, o.publish_endpoint);
  } catch (...) {
    close();  // the socket file of an endpoint bound before the one that failed
    throw;
  }
}

std::string RelaySockets::bind(zmq::socket_t& socket, const std::string& internal,
                               const std::string& external) {
  socket.bind(internal);
  if (external.empty()) {
    // No endpoint configured: one every process of this host and user can reach (a
    // socket file in a fresh 0700 directory), so consumers in other processes on the
    // database (a server beside a worker) are served whichever of them relays.
    socket.bind("ipc://*");
    return socket.get(zmq::sockopt::last_endpoint);
  }
  if (is_tcp(external)) {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, core_.options.curve->server_secret);
    socket.set(zmq::sockopt::zap_domain, "banyan");
  }
  try {
    socket.bind(external);
  } catch (const zmq::error_t& e) {
    throw Unavailable("cannot bind " + external + ": " + e.what());
  }
  std::string bound = socket.get(zmq::sockopt::last_endpoint);
  const std::string any = "tcp://0.0.0.0:";
  if (bound.rfind(any, 0) == 0) {
    const std::string& host = core_.options.advertise_host;
    bound = "tcp://" + (host.empty() ? "127.0.0.1" : host) + ":" + bound.substr(any.size());
  }
  return bound;
}

void RelaySockets::close() {
  router_.reset();
  publisher_.reset();
  zap_.reset();
  // ZeroMQ leaves the files of ipc:// endpoints behind; they were ours, so remove them.
  const std::string prefix = "ipc://";
  for (std::string* endpoint : {&advertised_work_, &advertised_publish_}) {
    if (endpoint->rfind(prefix, 0) == 0 && endpoint->size() > prefix.size() &&
        (*endpoint)[prefix.size()] != '@')
      ::unlink(endpoint->c_str() + prefix.size());
    endpoint->clear();
  }
}

}  // namespace banyan::messaging::bus
