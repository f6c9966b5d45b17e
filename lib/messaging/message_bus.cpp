// MessageBus: its public methods, composing the parts in bus_core.hpp.
#include "banyan/messaging/message_bus.hpp"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "banyan/errors.hpp"
#include "banyan/store/database.hpp"
#include "messaging/bus_core.hpp"
#include "messaging/consumer.hpp"
#include "messaging/queue_store.hpp"
#include "messaging/relay.hpp"
#include "messaging/subscriber.hpp"
#include "store/outbox_writer.hpp"

namespace banyan::messaging {
namespace {

using namespace std::chrono_literals;

std::string default_node() {
  static std::atomic<int> buses{0};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const int n = buses.fetch_add(1);
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid()) +
         (n == 0 ? "" : "#" + std::to_string(n + 1));
}

void validate(const BusOptions& options) {
  if (options.batch_size < 1 || options.batch_size > 10000)
    throw ValidationError("batch_size: must be between 1 and 10000", "batch_size");
  if (options.relay_lease < 100ms)
    throw ValidationError("relay_lease: must be at least 100 ms", "relay_lease");
  if (options.high_water_mark < 1)
    throw ValidationError("high_water_mark: must be positive", "high_water_mark");
  options.retention.validate();
}

}  // namespace

namespace bus {

Core::Core(store::Database& database, BusOptions bus_options)
    : db(database), options(std::move(bus_options)) {
  validate(options);
  if (options.node.empty()) options.node = default_node();
  lease_holder = options.node + "@" + store::detail::new_event_id().substr(0, 12);
  if (!options.curve) options.curve = CurveKeys::from_environment();
  const auto tag = std::to_string(reinterpret_cast<std::uintptr_t>(this));
  inproc_work = "inproc://banyan-work-" + tag;
  inproc_publish = "inproc://banyan-events-" + tag;
}

void Core::log(LogLevel level, std::string_view event, const std::string& message) const {
  if (options.log)
    options.log(LogEvent(level, event).with("node", options.node).with("message", message));
}

}  // namespace bus

struct MessageBus::Impl {
  Impl(store::Database& db, BusOptions options) : core(db, std::move(options)) {}

  bus::Core core;
  mutable std::mutex mutex;  // guards everything below
  std::vector<std::unique_ptr<bus::Consumer>> consumers;
  std::vector<std::unique_ptr<bus::Subscriber>> subscribers;
  std::unique_ptr<bus::Relay> relay;
  bool started = false;
  bool stopped = false;

  // The last count of the messaging tables, for table_sizes(max_age).
  struct {
    std::mutex mutex;
    std::vector<TableSize> sizes;
    std::optional<bus::Clock::time_point> counted_at;
  } table_sizes;
};

MessageBus::MessageBus(store::Database& db, BusOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}

MessageBus::~MessageBus() { stop(); }

void MessageBus::declare_queue(const QueueSpec& spec) {
  impl_->core.db.transact([&](store::UnitOfWork& uow) { detail::upsert_queue(uow, spec); });
}

void MessageBus::consume(const std::string& queue, MessageHandler handler,
                         ConsumerOptions options) {
  if (!handler) throw ValidationError("handler: must not be empty", "handler");
  if (options.prefetch < 1 || options.prefetch > 10000)
    throw ValidationError("prefetch: must be between 1 and 10000", "prefetch");
  if (options.name.empty()) options.name = queue;
  {
    auto uow = impl_->core.db.begin(std::nullopt, store::Access::kReadOnly);
    if (!detail::find_queue(uow, queue))
      throw ValidationError("queue: no queue named '" + queue + "' is declared", "queue");
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  impl_->consumers.push_back(
      std::make_unique<bus::Consumer>(impl_->core, queue, std::move(handler), std::move(options)));
  if (impl_->started) impl_->consumers.back()->start();
}

void MessageBus::subscribe(const std::string& pattern, EventHandler handler) {
  if (!handler) throw ValidationError("handler: must not be empty", "handler");
  detail::validate_type_pattern(pattern, "pattern");
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  impl_->subscribers.push_back(
      std::make_unique<bus::Subscriber>(impl_->core, pattern, std::move(handler)));
  if (impl_->started) impl_->subscribers.back()->start();
}

void MessageBus::start() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->stopped) throw Unavailable("the message bus has stopped");
  if (impl_->started) return;
  if (impl_->core.options.relay) {
    impl_->relay = std::make_unique<bus::Relay>(impl_->core);
    impl_->relay->start();
  }
  for (auto& c : impl_->consumers) c->start();
  for (auto& s : impl_->subscribers) s->start();
  impl_->started = true;
}

void MessageBus::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Consumers first, so that what they give back reaches the relay before it settles;
  // the relay last, so that it releases the lease once nothing here needs it.
  for (auto& c : impl_->consumers) c->request_stop();
  for (auto& c : impl_->consumers) c->join();
  for (auto& s : impl_->subscribers) s->request_stop();
  for (auto& s : impl_->subscribers) s->join();
  if (impl_->relay) impl_->relay->stop();
}

std::vector<QueueBacklog> MessageBus::backlog() const {
  auto uow = impl_->core.db.begin(std::nullopt, store::Access::kReadOnly);
  return detail::backlog_by_queue(uow, "queue_messages", "enqueued_at");
}

std::vector<TableSize> MessageBus::table_sizes(std::chrono::milliseconds max_age) const {
  auto& cache = impl_->table_sizes;
  const auto now = bus::Clock::now();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    if (cache.counted_at && now - *cache.counted_at < max_age) return cache.sizes;
  }
  auto uow = impl_->core.db.begin(std::nullopt, store::Access::kReadOnly);
  auto sizes = detail::table_sizes(uow);
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.sizes = sizes;
  cache.counted_at = now;
  return sizes;
}

BusMetrics MessageBus::metrics() const {
  const auto& c = impl_->core.counters;
  BusMetrics m;
  m.relay_holder = impl_->core.holding_lease.load();
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
  const auto& relay = impl_->relay;
  return relay && relay->lease().held() ? relay->lease().work_endpoint() : std::string();
}

std::string MessageBus::publish_endpoint() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto& relay = impl_->relay;
  return relay && relay->lease().held() ? relay->lease().publish_endpoint() : std::string();
}

}  // namespace banyan::messaging
