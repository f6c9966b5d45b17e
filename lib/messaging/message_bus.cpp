// MessageBus: its public methods, and where its consumers and subscribers find the relay.
// The relay is in relay.cpp and relay_endpoints.cpp, the clients in bus_clients.cpp; the
// parts they share in bus_impl.hpp.
#include "banyan/messaging/message_bus.hpp"

#include <filesystem>

#include "banyan/errors.hpp"
#include "messaging/bus_impl.hpp"
#include "store/outbox_writer.hpp"

namespace banyan::messaging {
namespace {

using bus::Clock;
using bus::is_tcp;
using bus::kRelayLease;
using namespace std::chrono_literals;

std::string default_node() {
  static std::atomic<int> buses{0};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const int n = buses.fetch_add(1);
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid()) +
         (n == 0 ? "" : "#" + std::to_string(n + 1));
}

}  // namespace

MessageBus::Impl::Impl(store::Database& d, BusOptions o)
    : db(d), options(std::move(o)), context(1) {
  if (options.node.empty()) options.node = default_node();
  // The lease belongs to this bus, not to its node name: a process restarted under the
  // same name must wait for its predecessor's lease to run out, never inherit it (and
  // the endpoints it advertised).
  lease_holder = options.node + "@" + store::detail::new_event_id().substr(0, 12);
  if (!options.curve) options.curve = CurveKeys::from_environment();
  const auto tag = std::to_string(reinterpret_cast<std::uintptr_t>(this));
  inproc_work = "inproc://banyan-work-" + tag;
  inproc_publish = "inproc://banyan-events-" + tag;
}

void MessageBus::Impl::log(LogLevel level, std::string_view event,
                           const std::string& message) const {
  if (options.log)
    options.log(LogEvent(level, event).with("node", options.node).with("message", message));
}

// The relay's endpoints: our own inproc ones while we hold the lease, else what the
// holder advertises in the database ("" when no live holder serves other processes).
std::pair<std::string, std::string> MessageBus::Impl::locate() {
  if (holding.load()) return {inproc_work, inproc_publish};
  try {
    auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
    auto lease = detail::read_lease(uow, kRelayLease);
    uow.rollback();
    if (lease && lease->expires_at > detail::now_us(db) && lease->holder != lease_holder)
      return {lease->work_endpoint, lease->publish_endpoint};
  } catch (const Error& e) {
    log(LogLevel::kWarning, "relay_lookup_failed",
        std::string("cannot look up the relay: ") + e.what());
  }
  return {"", ""};
}

// Looks up the relay when due and reconnects when it moved; true when the link changed
// (the socket is then new, or empty while no relay serves). `configure` sets options
// before the connect.
bool MessageBus::Impl::follow_relay(RelayLink& link, zmq::socket_type type, bool work_queue,
                                    const std::function<void(zmq::socket_t&)>& configure) {
  const auto now = Clock::now();
  if (now < link.next_look) return false;
  const auto endpoints = locate();
  const std::string& endpoint = work_queue ? endpoints.first : endpoints.second;
  // Look again soon while there is no relay to talk to (startup, failover).
  link.next_look = now + (endpoint.empty() ? 20ms : 250ms);
  if (endpoint == link.connected) return false;
  link.socket.reset();
  link.connected = endpoint;
  if (endpoint.empty()) return true;
  std::error_code missing;  // not found, or in a directory this user may not enter
  if (endpoint.rfind("ipc://", 0) == 0 && !std::filesystem::exists(endpoint.substr(6), missing)) {
    log(LogLevel::kWarning, "relay_unreachable",
        "cannot reach the relay at " + endpoint +
            ": that socket file is not on this host, or not open to this "
            "user; give the relay a tcp:// work and publish endpoint (and the deployment's CURVE "
            "keys) so that "
            "consumers here are served");
    return true;
  }
  const bool tcp = is_tcp(endpoint);
  if (tcp && (!options.curve || options.curve->client_secret.empty())) {
    log(LogLevel::kWarning, "relay_unreachable",
        "cannot reach the relay at " + endpoint +
            ": it serves over tcp://, which needs CURVE client keys "
            "(BANYAN_BUS_KEY_FILE, or BusOptions::curve), and this bus has none");
    return true;
  }
  link.socket.emplace(context, type);
  configure(*link.socket);
  if (tcp) {
    link.socket->set(zmq::sockopt::curve_serverkey, options.curve->server_public);
    link.socket->set(zmq::sockopt::curve_publickey, options.curve->client_public);
    link.socket->set(zmq::sockopt::curve_secretkey, options.curve->client_secret);
  }
  link.socket->connect(endpoint);
  return true;
}

void MessageBus::Impl::start_consumer(Consumer& c) {
  c.thread = std::thread([this, &c] { consumer_main(c); });
}

void MessageBus::Impl::start_subscriber(Subscriber& s) {
  s.thread = std::thread([this, &s] { subscriber_main(s); });
}

MessageBus::MessageBus(store::Database& db, BusOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {
  if (impl_->options.batch_size < 1 || impl_->options.batch_size > 10000)
    throw ValidationError("batch_size: must be between 1 and 10000", "batch_size");
  if (impl_->options.relay_lease < 100ms)
    throw ValidationError("relay_lease: must be at least 100 ms", "relay_lease");
  if (impl_->options.high_water_mark < 1)
    throw ValidationError("high_water_mark: must be positive", "high_water_mark");
  impl_->options.retention.validate();
}

MessageBus::~MessageBus() { stop(); }

void MessageBus::declare_queue(const QueueSpec& spec) {
  impl_->db.transact([&](store::UnitOfWork& uow) { detail::upsert_queue(uow, spec); });
}

void MessageBus::consume(const std::string& queue, MessageHandler handler,
                         ConsumerOptions options) {
  if (!handler) throw ValidationError("handler: must not be empty", "handler");
  if (options.prefetch < 1 || options.prefetch > 10000)
    throw ValidationError("prefetch: must be between 1 and 10000", "prefetch");
  if (options.name.empty()) options.name = queue;
  {
    auto uow = impl_->db.begin(std::nullopt, store::Access::kReadOnly);
    if (!detail::find_queue(uow, queue))
      throw ValidationError("queue: no queue named '" + queue + "' is declared", "queue");
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  impl_->consumers.push_back(std::make_unique<Impl::Consumer>(
      Impl::Consumer{queue, std::move(handler), std::move(options), {}}));
  if (impl_->started) impl_->start_consumer(*impl_->consumers.back());
}

void MessageBus::subscribe(const std::string& pattern, EventHandler handler) {
  if (!handler) throw ValidationError("handler: must not be empty", "handler");
  detail::validate_type_pattern(pattern, "pattern");
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  impl_->subscribers.push_back(
      std::make_unique<Impl::Subscriber>(Impl::Subscriber{pattern, std::move(handler), {}}));
  if (impl_->started) impl_->start_subscriber(*impl_->subscribers.back());
}

void MessageBus::start() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  if (impl_->started) return;
  if (impl_->options.relay) {
    impl_->bind_relay();
    impl_->relay_thread = std::thread([this] { impl_->relay_main(); });
  }
  for (auto& c : impl_->consumers) impl_->start_consumer(*c);
  for (auto& s : impl_->subscribers) impl_->start_subscriber(*s);
  impl_->started = true;
}

void MessageBus::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->stop_consumers.store(true);
  for (auto& c : impl_->consumers)
    if (c->thread.joinable()) c->thread.join();
  impl_->stop_subscribers.store(true);
  for (auto& s : impl_->subscribers)
    if (s->thread.joinable()) s->thread.join();
  impl_->stop_relay.store(true);
  if (impl_->relay_thread.joinable()) impl_->relay_thread.join();
  impl_->router.reset();
  impl_->publisher.reset();
  impl_->stop_zap.store(true);
  if (impl_->zap_thread.joinable()) impl_->zap_thread.join();
  // ZeroMQ leaves the files of ipc:// endpoints behind; they were ours, so remove them.
  for (const std::string* endpoint : {&impl_->advertised_work, &impl_->advertised_publish}) {
    const std::string prefix = "ipc://";
    if (endpoint->rfind(prefix, 0) == 0 && endpoint->size() > prefix.size() &&
        (*endpoint)[prefix.size()] != '@')
      ::unlink(endpoint->c_str() + prefix.size());
  }
}

std::vector<QueueBacklog> MessageBus::backlog() const {
  auto uow = impl_->db.begin(std::nullopt, store::Access::kReadOnly);
  return detail::backlog_by_queue(uow, "queue_messages", "enqueued_at");
}

std::vector<TableSize> MessageBus::table_sizes(std::chrono::milliseconds max_age) const {
  auto& cache = impl_->table_sizes;
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.counted_at && now - *cache.counted_at < max_age) return cache.sizes;
  }
  auto uow = impl_->db.begin(std::nullopt, store::Access::kReadOnly);
  auto sizes = detail::table_sizes(uow);
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.sizes = sizes;
  cache.counted_at = now;
  return sizes;
}

BusMetrics MessageBus::metrics() const {
  const auto& c = impl_->counters;
  BusMetrics m;
  m.relay_holder = impl_->holding.load();
  m.relayed = c.relayed.load();
  m.delivered = c.delivered.load();
  m.acked = c.acked.load();
  m.retried = c.retried.load();
  m.dead_lettered = c.dead_lettered.load();
  m.redelivered = c.redelivered.load();
  m.handled = c.handled.load();
  m.outbox_pending = c.outbox_pending.load();
  m.foreign_settlements = c.foreign_settlements.load();
  m.purged_events = c.purged_events.load();
  m.purged_claims = c.purged_claims.load();
  m.purged_dead_letters = c.purged_dead_letters.load();
  return m;
}

std::string MessageBus::work_endpoint() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->holding.load() ? impl_->advertised_work : std::string();
}

std::string MessageBus::publish_endpoint() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->holding.load() ? impl_->advertised_publish : std::string();
}

}  // namespace banyan::messaging
