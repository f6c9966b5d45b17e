#include "banyan/messaging/message_bus.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <zmq.hpp>

#include "banyan/errors.hpp"
#include "messaging/queue_store.hpp"
#include "messaging/wire.hpp"
#include "store/outbox_writer.hpp"

namespace banyan::messaging {
namespace {

using Clock = std::chrono::steady_clock;
using detail::Frames;
using namespace std::chrono_literals;

constexpr const char* kRelayLease = "relay";

// Endpoints reachable over the network, which speak CURVE (message_bus.hpp).
bool is_tcp(const std::string& endpoint) { return endpoint.rfind("tcp://", 0) == 0; }

std::string default_node() {
  static std::atomic<int> buses{0};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const int n = buses.fetch_add(1);
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid()) +
         (n == 0 ? "" : "#" + std::to_string(n + 1));
}

// The SUB prefix that lets through every type a pattern matches (exact types are
// checked again on receipt: "deal.created" is also a prefix of "deal.created_x").
std::string subscription_prefix(const std::string& pattern) {
  if (pattern == "*") return "";
  if (pattern.ends_with(".*")) return pattern.substr(0, pattern.size() - 1);
  return pattern;
}

}  // namespace

struct MessageBus::Impl {
  struct Consumer {
    std::string queue;
    MessageHandler handler;
    ConsumerOptions options;
    std::thread thread;
  };
  struct Subscriber {
    std::string pattern;
    EventHandler handler;
    std::thread thread;
  };
  // A consumer connected to this bus's relay, by ZeroMQ routing id.
  struct Peer {
    std::string queue;
    std::string consumer;
    int prefetch = 1;
    std::set<std::uint64_t> in_flight;
    Clock::time_point last_seen;
  };
  struct Delivery {
    std::uint64_t id = 0;
    int attempts_before = 0;
    int tries_allowed = 1;
    store::DomainEvent event;
  };

  store::Database& db;
  BusOptions options;
  zmq::context_t context;
  std::string inproc_work;
  std::string inproc_publish;
  std::string lease_holder;

  std::mutex mutex;  // guards consumers, subscribers, started, stopped, advertised_*
  // The last count of the messaging tables, for table_sizes(max_age).
  struct {
    std::mutex mutex;
    std::vector<TableSize> sizes;
    std::optional<Clock::time_point> counted_at;
  } table_sizes;
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  bool started = false;
  bool stopped = false;
  std::string advertised_work;
  std::string advertised_publish;

  // The ZAP handler (ZeroMQ's authentication hook) of a relay on tcp://: lets in only
  // clients whose CURVE public key is allowed.
  std::optional<zmq::socket_t> zap;  // zap thread only, once started
  std::thread zap_thread;
  std::atomic<bool> stop_zap{false};

  std::optional<zmq::socket_t> router;  // relay thread only, once started
  std::optional<zmq::socket_t> publisher;
  std::thread relay_thread;
  std::atomic<bool> holding{false};
  std::atomic<bool> stop_consumers{false};
  std::atomic<bool> stop_subscribers{false};
  std::atomic<bool> stop_relay{false};

  struct Counters {
    std::atomic<std::uint64_t> relayed{0}, delivered{0}, acked{0}, retried{0}, dead_lettered{0},
        redelivered{0}, handled{0}, outbox_pending{0}, foreign_settlements{0}, purged_events{0},
        purged_claims{0}, purged_dead_letters{0};
  } counters;

  Impl(store::Database& d, BusOptions o) : db(d), options(std::move(o)), context(1) {
    if (options.node.empty()) options.node = default_node();
    // The lease belongs to this bus, not to its node name: a process restarted under the
    // same name must wait for its predecessor's lease to run out, never inherit it (and
    // the endpoints it advertised).
    lease_holder = options.node + "@" + store::detail::new_event_id().substr(0, 12);
    if (!options.log)
      options.log = [](std::string_view m) { std::cerr << "banyan: " << m << '\n'; };
    if (!options.curve) options.curve = CurveKeys::from_environment();
    const auto tag = std::to_string(reinterpret_cast<std::uintptr_t>(this));
    inproc_work = "inproc://banyan-work-" + tag;
    inproc_publish = "inproc://banyan-events-" + tag;
  }

  void log(const std::string& m) const { options.log(m); }

  // ---- where consumers and subscribers connect ------------------------------------------

  // The relay's endpoints: our own inproc ones while we hold the lease, else what the
  // holder advertises in the database ("" when no live holder serves other processes).
  std::pair<std::string, std::string> locate() {
    if (holding.load()) return {inproc_work, inproc_publish};
    try {
      auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
      auto lease = detail::read_lease(uow, kRelayLease);
      uow.rollback();
      if (lease && lease->expires_at > detail::now_us() && lease->holder != lease_holder)
        return {lease->work_endpoint, lease->publish_endpoint};
    } catch (const Error& e) {
      log(std::string("cannot look up the relay: ") + e.what());
    }
    return {"", ""};
  }

  // A consumer's or subscriber's connection to whichever bus holds the relay lease.
  struct RelayLink {
    std::optional<zmq::socket_t> socket;
    std::string connected;
    Clock::time_point next_look{};
  };

  // Looks up the relay when due and reconnects when it moved; true when the link changed
  // (the socket is then new, or empty while no relay serves). `configure` sets options
  // before the connect.
  bool follow_relay(RelayLink& link, zmq::socket_type type, bool work_queue,
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
      log("cannot reach the relay at " + endpoint +
          ": that socket file is not on this host, or not open to this "
          "user; give the relay a tcp:// work and publish endpoint (and the deployment's CURVE "
          "keys) so that "
          "consumers here are served");
      return true;
    }
    const bool tcp = is_tcp(endpoint);
    if (tcp && (!options.curve || options.curve->client_secret.empty())) {
      log("cannot reach the relay at " + endpoint +
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

  // ---- consumer side --------------------------------------------------------------------

  void consumer_main(Consumer& c) {
    const std::string who = options.node + "/" + c.options.name;
    RelayLink link;
    std::optional<zmq::socket_t>& socket = link.socket;
    std::deque<Delivery> local;
    Clock::time_point next_ping{};
    Frames frames;
    auto hello = [&] {
      detail::send_or_drop(*socket, {"HELLO", c.queue, who, std::to_string(c.options.prefetch)});
    };
    auto receive = [&] {
      while (socket && detail::receive_frames(*socket, frames)) {
        if (frames.size() == 1 && frames[0] == "WHO") {
          hello();
        } else if (frames.size() == 4 + detail::kEventFrames && frames[0] == "MSG") {
          Delivery d;
          std::uint64_t before = 0, tries = 0;
          if (detail::parse_uint(frames[1], d.id) && detail::parse_uint(frames[2], before) &&
              detail::parse_uint(frames[3], tries) && detail::parse_event(frames, 4, d.event)) {
            d.attempts_before = static_cast<int>(before);
            d.tries_allowed = std::max(1, static_cast<int>(tries));
            local.push_back(std::move(d));
          }
        }
      }
    };
    while (!stop_consumers.load()) {
      const bool moved =
          follow_relay(link, zmq::socket_type::dealer, true, [&](zmq::socket_t& sock) {
            sock.set(zmq::sockopt::linger, 2000);
            sock.set(zmq::sockopt::rcvhwm, c.options.prefetch + 16);
          });
      if (moved) {
        // Messages prefetched from a relay that is gone are not ours any more: their
        // leases run out and the new relay delivers them again.
        local.clear();
        if (socket) hello();
      }
      if (!socket) {
        std::this_thread::sleep_for(20ms);
        continue;
      }
      if (local.empty()) {
        zmq::pollitem_t item{static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, 50ms);
      }
      receive();
      if (!local.empty()) {
        Delivery d = std::move(local.front());
        local.pop_front();
        handle(c, who, *socket, d);
      }
      if (Clock::now() >= next_ping) {
        next_ping = Clock::now() + 500ms;
        detail::send_or_drop(*socket, {"PING"});
      }
    }
    // Give back what we hold unhandled, without counting an attempt.
    if (socket) {
      receive();
      for (const auto& d : local) detail::send_or_drop(*socket, {"RELEASE", std::to_string(d.id)});
    }
  }

  void handle(Consumer& c, const std::string& who, zmq::socket_t& socket, const Delivery& d) {
    Message m{d.event, c.queue, d.attempts_before + 1};
    int tries = 0;
    ErrorClass error_class = ErrorClass::kTransient;
    std::string error;
    while (tries < d.tries_allowed) {
      m.attempt = d.attempts_before + tries + 1;
      ++tries;
      try {
        c.handler(m);
        counters.handled.fetch_add(1);
        detail::send_or_drop(socket, {"ACK", std::to_string(d.id)});
        return;
      } catch (const std::exception& e) {
        error_class = classify(e);
        error = e.what();
      } catch (...) {
        error_class = ErrorClass::kTransient;
        error = "a handler threw something that is not a std::exception";
      }
      if (error_class == ErrorClass::kPermanent || stop_consumers.load()) break;
    }
    detail::send_or_drop(socket, {"NACK", std::to_string(d.id), std::to_string(tries),
                                  to_string(error_class), error, who});
  }

  // ---- subscriber side ------------------------------------------------------------------

  void subscriber_main(Subscriber& s) {
    RelayLink link;
    std::optional<zmq::socket_t>& socket = link.socket;
    Frames frames;
    store::DomainEvent event;
    while (!stop_subscribers.load()) {
      follow_relay(link, zmq::socket_type::sub, false, [&](zmq::socket_t& sock) {
        sock.set(zmq::sockopt::linger, 0);
        sock.set(zmq::sockopt::rcvhwm, options.high_water_mark);
        sock.set(zmq::sockopt::subscribe, subscription_prefix(s.pattern));
      });
      if (!socket) {
        std::this_thread::sleep_for(20ms);
        continue;
      }
      zmq::pollitem_t item{static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 50ms);
      while (detail::receive_frames(*socket, frames)) {
        if (frames.size() != 1 + detail::kEventFrames || !detail::parse_event(frames, 1, event))
          continue;
        if (!detail::type_matches(s.pattern, event.type)) continue;
        try {
          s.handler(event);
        } catch (const std::exception& e) {
          log("a subscriber to " + s.pattern + " failed on " + event.type + ": " + e.what());
        } catch (...) {
          log("a subscriber to " + s.pattern + " failed on " + event.type);
        }
      }
    }
  }

  // ---- the relay ------------------------------------------------------------------------

  struct RelayState {
    std::map<std::string, Peer> peers;
    std::vector<std::uint64_t> acks, releases;
    std::vector<detail::Failure> failures;
    std::vector<store::DomainEvent> batch;  // read from the outbox, being published
    std::size_t published = 0;
    std::vector<QueueSpec> queues;
    Clock::time_point queues_loaded{};
    Clock::time_point next_outbox_poll{}, next_ready_poll{}, next_expiry{}, next_renewal{},
        next_retention{};
    std::map<std::uint64_t, std::string> owner;      // delivery id -> peer, while in flight
    std::map<std::string, std::int64_t> last_until;  // the latest lease expiry, by queue
    std::mt19937_64 rng{std::random_device{}()};
    // How often an idle relay looks: options.idle_poll while there is work, doubling up to
    // options.idle_poll_max once nothing has happened for a second (an idle process
    // should not spend a tenth of a core polling the outbox).
    std::chrono::milliseconds idle_interval{};
    Clock::time_point last_activity{};
  };

  void note_activity(RelayState& st, Clock::time_point now) {
    st.last_activity = now;
    st.idle_interval = options.idle_poll;
  }
  void note_idle(RelayState& st, Clock::time_point now) {
    if (now - st.last_activity > 1s)
      st.idle_interval = std::min(options.idle_poll_max, idle_interval(st) * 2);
  }
  std::chrono::milliseconds idle_interval(const RelayState& st) const {
    return std::max(options.idle_poll, st.idle_interval);
  }

  const QueueSpec* queue_spec(RelayState& st, const std::string& name) {
    for (const auto& q : st.queues)
      if (q.name == name) return &q;
    return nullptr;
  }

  void forget_delivery(RelayState& st, std::uint64_t id) {
    auto it = st.owner.find(id);
    if (it == st.owner.end()) return;
    auto peer = st.peers.find(it->second);
    if (peer != st.peers.end()) peer->second.in_flight.erase(id);
    st.owner.erase(it);
  }

  void on_peer_message(RelayState& st, const Frames& f) {
    if (f.size() < 2) return;
    const std::string& peer_id = f[0];
    const std::string& verb = f[1];
    auto peer = st.peers.find(peer_id);
    std::uint64_t id = 0;
    if (verb == "HELLO" && f.size() == 5) {
      const std::uint64_t prefetch = detail::uint_or(f[4], 1);
      Peer& p = st.peers[peer_id];
      for (auto held : p.in_flight) st.owner.erase(held);
      p = Peer{f[2],
               f[3],
               static_cast<int>(std::clamp<std::uint64_t>(prefetch, 1, 10000)),
               {},
               Clock::now()};
      return;
    }
    if (peer != st.peers.end()) {
      peer->second.last_seen = Clock::now();
    } else {
      detail::send_or_drop(*router, {peer_id, "WHO"});
    }
    const bool settles = verb == "ACK" || verb == "RELEASE" || verb == "NACK";
    if (settles && f.size() >= 3 && detail::parse_uint(f[2], id)) {
      // Only the peer that holds a message's lease settles it: another peer's word for it
      // is ignored (its lease runs out and it is delivered again).
      const auto holder = st.owner.find(id);
      if (holder == st.owner.end() || holder->second != peer_id) {
        counters.foreign_settlements.fetch_add(1);
        return;
      }
    }
    if (verb == "ACK" && f.size() == 3 && detail::parse_uint(f[2], id)) {
      st.acks.push_back(id);
      forget_delivery(st, id);
    } else if (verb == "RELEASE" && f.size() == 3 && detail::parse_uint(f[2], id)) {
      st.releases.push_back(id);
      forget_delivery(st, id);
    } else if (verb == "NACK" && f.size() == 7 && detail::parse_uint(f[2], id)) {
      const std::uint64_t tries = detail::uint_or(f[3], 1);
      st.failures.push_back({id, static_cast<int>(std::min<std::uint64_t>(tries, 1000)),
                             f[4] == "permanent" ? ErrorClass::kPermanent : ErrorClass::kTransient,
                             f[5], f[6]});
      forget_delivery(st, id);
    }
  }

  // A leased message on its way to a consumer.
  struct Outgoing {
    std::uint64_t id = 0;
    int attempts = 0;  // before this delivery
    store::DomainEvent event;
  };

  // Sends what was leased, spreading it over the peers of each queue by their free credit.
  void dispatch(RelayState& st, const std::map<std::string, std::vector<Outgoing>>& leased,
                std::vector<std::uint64_t>& undeliverable) {
    for (const auto& [queue, rows] : leased) {
      const QueueSpec* spec = queue_spec(st, queue);
      std::vector<std::string> ids;
      for (const auto& [peer_id, p] : st.peers)
        if (p.queue == queue) ids.push_back(peer_id);
      std::size_t next = 0;
      for (const auto& row : rows) {
        bool sent = false;
        for (std::size_t n = 0; n < ids.size() && !sent; ++n) {
          const std::string& peer_id = ids[(next + n) % ids.size()];
          Peer& p = st.peers[peer_id];
          if (static_cast<int>(p.in_flight.size()) >= p.prefetch) continue;
          const int before = row.attempts;
          const int tries = before == 0 && spec ? std::min(1 + spec->retry.immediate_retries,
                                                           spec->retry.max_attempts)
                                                : 1;
          try {
            sent =
                detail::send_parts(*router, {peer_id, "MSG", std::to_string(row.id),
                                             std::to_string(before), std::to_string(tries),
                                             detail::event_header(row.event), row.event.payload});
          } catch (const zmq::error_t&) {
            sent = false;  // the peer is gone
          }
          if (sent) {
            p.in_flight.insert(row.id);
            st.owner[row.id] = peer_id;
            next = (next + n + 1) % ids.size();
            counters.delivered.fetch_add(1);
          }
        }
        if (!sent) undeliverable.push_back(row.id);
      }
    }
  }

  // When a lease taken now on `spec`'s messages runs out: later than any lease this relay
  // handed out before on that queue, so that the expiry tells one lease's messages apart.
  // (Per queue: another queue's longer lease must not stretch this one's.)
  std::int64_t message_lease_until(RelayState& st, const QueueSpec& spec, std::int64_t now_us) {
    const auto lease = std::chrono::duration_cast<std::chrono::microseconds>(spec.lease).count();
    std::int64_t& last = st.last_until[spec.name];
    last = std::max(now_us + lease, last + 1);
    return last;
  }

  std::map<std::string, int> free_credit(RelayState& st) {
    std::map<std::string, int> credit;
    for (const auto& [id, p] : st.peers)
      credit[p.queue] += std::max(0, p.prefetch - static_cast<int>(p.in_flight.size()));
    return credit;
  }

  // One round of relay work: read, publish, then one write transaction for everything
  // that changes state. Returns when it would next have something to do.
  void relay_round(RelayState& st) {
    const auto now = Clock::now();
    const std::int64_t now_us = detail::now_us();
    const std::int64_t lease_until =
        now_us + std::chrono::duration_cast<std::chrono::microseconds>(options.relay_lease).count();

    if (!holding.load()) {
      if (now < st.next_renewal) return;
      st.next_renewal = now + options.relay_lease / 3;
      auto uow = db.begin();
      const bool ours = detail::hold_lease(uow, kRelayLease, lease_holder, now_us, lease_until,
                                           advertised_work, advertised_publish);
      uow.commit();
      if (ours) {
        holding.store(true);
        st = RelayState{};
        st.next_renewal = now + options.relay_lease / 3;
        log("relay: " + options.node + " holds the relay lease");
      }
      return;
    }

    // Read: queue declarations, the outbox, ready messages for free credit.
    const auto credit = free_credit(st);
    const bool stale_queues = now - st.queues_loaded > 1s;
    const bool want_outbox = st.batch.empty() && now >= st.next_outbox_poll;
    bool want_ready =
        now >= st.next_ready_poll &&
        std::any_of(credit.begin(), credit.end(), [](auto& c) { return c.second > 0; });
    std::map<std::string, std::vector<odbrows::QueueMessageView>> candidates;
    if (stale_queues || want_outbox || want_ready) {
      auto uow = db.begin(std::nullopt, store::Access::kReadOnly);
      // With every outbox read too, in the same snapshot: an event committed after a queue
      // was declared (by any process) is routed to it, never relayed past it.
      if (stale_queues || want_outbox) {
        st.queues = detail::load_queues(uow);
        st.queues_loaded = now;
      }
      if (want_outbox) {
        st.batch = detail::pending_events(uow, options.batch_size);
        st.published = 0;
        if (st.batch.empty())
          st.next_outbox_poll = now + idle_interval(st);
        else
          note_activity(st, now);
      }
      // A batch just read is routed in the write below, which leases the ready messages
      // then; only a batch held up by a full subscriber leaves them to this read.
      const bool fresh_batch = want_outbox && !st.batch.empty();
      if (want_ready && !fresh_batch) {
        bool any = false;
        for (const auto& [queue, n] : credit) {
          if (n <= 0) continue;
          auto rows = detail::ready_messages(uow, queue, now_us, std::min(n, options.batch_size));
          any = any || !rows.empty();
          if (!rows.empty()) candidates[queue] = std::move(rows);
        }
        if (!any)
          st.next_ready_poll = now + idle_interval(st);
        else
          note_activity(st, now);
      }
      uow.rollback();
    }

    // Publish (fan-out) before routing: a crash in between publishes again, never loses.
    while (st.published < st.batch.size()) {
      const auto& e = st.batch[st.published];
      if (!detail::send_parts(*publisher, {e.type, detail::event_header(e), e.payload}))
        break;  // a subscriber is full: wait
      ++st.published;
    }
    const bool route_now = !st.batch.empty() && st.published == st.batch.size();
    const bool expiry_due = now >= st.next_expiry;
    const bool settle = !st.acks.empty() || !st.releases.empty() || !st.failures.empty();
    if (!(settle || route_now || expiry_due || !candidates.empty() || now >= st.next_renewal))
      return;

    // Write: one transaction, fenced by the lease.
    std::map<std::string, std::vector<odbrows::QueueMessageView>> leased;
    std::map<std::string, std::vector<detail::Routed>> routed;
    std::uint64_t retried = 0, dead = 0, redelivered = 0;
    std::vector<std::uint64_t> expired;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    {
      auto uow = db.begin();
      if (!detail::hold_lease(uow, kRelayLease, lease_holder, now_us, lease_until, advertised_work,
                              advertised_publish)) {
        uow.rollback();
        lose_lease(st, "another relay took the lease");
        return;
      }
      detail::ack_messages(uow, st.acks);
      detail::release_messages(uow, st.releases, now_us);
      // A retry after an expired lease is a redelivery; after a failed handler, a retry.
      auto count = [&](detail::FailureOutcome o, bool lease_expired) {
        if (o == detail::FailureOutcome::kRetry) ++(lease_expired ? redelivered : retried);
        if (o == detail::FailureOutcome::kDeadLettered) ++dead;
      };
      for (const auto& failure : st.failures) {
        auto row = detail::queue_message(uow, failure.id);
        const QueueSpec* spec = row ? queue_spec(st, row->queue) : nullptr;
        if (spec) count(detail::record_failure(uow, failure, *spec, now_us, unit(st.rng)), false);
      }
      if (route_now) {
        // Credit goes to the ready messages first (oldest first), then to the new ones,
        // which are leased as they are routed: one write per message, not two.
        candidates.clear();
        std::map<std::string, detail::LeaseNow> room;
        for (const auto& [queue, n] : credit) {
          const QueueSpec* spec = queue_spec(st, queue);
          if (n <= 0 || !spec) continue;
          auto rows = detail::ready_messages(uow, queue, now_us, std::min(n, options.batch_size));
          room[queue] = {n - static_cast<int>(rows.size()), message_lease_until(st, *spec, now_us)};
          if (!rows.empty()) candidates[queue] = std::move(rows);
        }
        routed = detail::route_events(uow, st.queues, st.batch, now_us, room, lease_holder);
      }
      if (expiry_due) {
        for (auto id : detail::expired_leases(uow, now_us, options.batch_size)) {
          auto row = detail::queue_message(uow, id);
          const QueueSpec* spec = row ? queue_spec(st, row->queue) : nullptr;
          if (!spec) continue;
          count(detail::record_failure(uow,
                                       {id, 1, ErrorClass::kTransient,
                                        "the lease expired before an ack", "dispatcher"},
                                       *spec, now_us, unit(st.rng)),
                true);
          expired.push_back(id);
        }
      }
      for (auto& [queue, rows] : candidates) {
        const QueueSpec* spec = queue_spec(st, queue);
        if (!spec) continue;
        std::vector<std::uint64_t> ids;
        for (const auto& r : rows) ids.push_back(r.id);
        auto got =
            detail::lease_messages(uow, ids, message_lease_until(st, *spec, now_us), lease_holder);
        std::set<std::uint64_t> mine(got.begin(), got.end());
        for (auto& r : rows)
          if (mine.count(r.id)) leased[queue].push_back(std::move(r));
      }
      uow.commit();
    }
    counters.acked.fetch_add(st.acks.size());
    counters.retried.fetch_add(retried);
    counters.redelivered.fetch_add(redelivered);
    counters.dead_lettered.fetch_add(dead);
    st.acks.clear();
    st.releases.clear();
    st.failures.clear();
    for (auto id : expired) forget_delivery(st, id);
    st.next_renewal = now + options.relay_lease / 3;
    if (expiry_due) {
      st.next_expiry = now + 200ms;
      prune_silent_peers(st, now);
    }
    std::map<std::string, std::vector<Outgoing>> out;
    for (auto& [queue, rows] : leased)
      for (const auto& r : rows)
        out[queue].push_back({r.id, static_cast<int>(r.attempts), detail::event_of(r)});
    if (route_now) {
      std::map<std::uint64_t, store::DomainEvent*> by_sequence;
      for (auto& e : st.batch) by_sequence[e.sequence] = &e;
      for (const auto& [queue, rows] : routed) {
        for (const auto& r : rows) {
          auto e = by_sequence.find(r.sequence);
          if (e != by_sequence.end()) out[queue].push_back({r.id, 0, *e->second});
        }
      }
      counters.relayed.fetch_add(st.batch.size());
      st.batch.clear();
      st.next_outbox_poll = now;  // more may be waiting
      st.next_ready_poll = now;   // and the queues just grew
    }
    std::vector<std::uint64_t> undeliverable;
    dispatch(st, out, undeliverable);
    st.releases = std::move(undeliverable);
  }

  // Consumers ping twice a second while idle; one silent this long has gone (its
  // messages come back when their leases run out). If it was only busy, its next
  // frame gets a WHO and it says HELLO again.
  void prune_silent_peers(RelayState& st, Clock::time_point now) {
    for (auto it = st.peers.begin(); it != st.peers.end();) {
      if (now - it->second.last_seen < 30s) {
        ++it;
        continue;
      }
      for (auto id : it->second.in_flight) st.owner.erase(id);
      it = st.peers.erase(it);
    }
  }

  // Retention (RetentionPolicy): one batch per table per call, in a transaction of its
  // own; due again at once while a batch came back full, so a backlog drains a batch
  // per relay round without holding up the relaying.
  void retain(RelayState& st) {
    const auto now = Clock::now();
    if (!holding.load() || now < st.next_retention) return;
    const RetentionPolicy& r = options.retention;
    const std::int64_t now_us = detail::now_us();
    auto before = [&](std::chrono::microseconds window) { return now_us - window.count(); };
    std::size_t events = 0, claims = 0, letters = 0;
    {
      auto uow = db.begin();
      if (r.outbox.count() > 0)
        events = detail::purge_relayed_events(uow, before(r.outbox), r.batch_size);
      if (r.processed.count() > 0)
        claims = detail::purge_processed_claims(uow, before(r.processed), r.batch_size);
      if (r.dead_letters.count() > 0)
        letters = detail::purge_dead_letters(uow, before(r.dead_letters), r.batch_size);
      uow.commit();
    }
    counters.purged_events.fetch_add(events);
    counters.purged_claims.fetch_add(claims);
    counters.purged_dead_letters.fetch_add(letters);
    const auto full = static_cast<std::size_t>(r.batch_size);
    st.next_retention =
        events == full || claims == full || letters == full ? now : now + r.interval;
  }

  void lose_lease(RelayState& st, const std::string& why) {
    if (holding.exchange(false)) log("relay: " + options.node + " stopped relaying: " + why);
    st = RelayState{};
  }

  void relay_main() {
    RelayState st;
    Frames frames;
    auto drain = [&] {
      while (detail::receive_frames(*router, frames)) {
        // While not serving, stay silent: consumers look up the relay again within a
        // quarter second and move to the one that holds the lease.
        if (holding.load()) on_peer_message(st, frames);
      }
    };
    Clock::time_point backoff_until{};
    while (!stop_relay.load()) {
      zmq::pollitem_t items[] = {{static_cast<void*>(*router), 0, ZMQ_POLLIN, 0},
                                 {static_cast<void*>(*publisher), 0, ZMQ_POLLOUT, 0}};
      const bool blocked = st.published < st.batch.size();
      zmq::poll(items, blocked ? 2 : 1, holding.load() ? idle_interval(st) : 50ms);
      // Activity is what the outbox and the queues hold (see relay_round), not the
      // consumers' own chatter, which never stops.
      if (!blocked) note_idle(st, Clock::now());
      drain();
      if (Clock::now() < backoff_until) continue;
      try {
        relay_round(st);
        counters.outbox_pending.store(st.batch.size() - st.published);
        retain(st);
      } catch (const Error& e) {
        // The database is away or refused (a deadlock victim, a lost connection): nothing
        // was committed; pending acks stay pending and the round runs again shortly.
        log(std::string("relay: ") + e.what());
        backoff_until = Clock::now() + 100ms;
      }
    }
    // Settle what the consumers gave back while stopping, then let another relay take over.
    const auto deadline = Clock::now() + 200ms;
    while (Clock::now() < deadline) {
      zmq::pollitem_t item{static_cast<void*>(*router), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 20ms);
      drain();
    }
    if (holding.load()) {
      try {
        auto uow = db.begin();
        detail::ack_messages(uow, st.acks);
        detail::release_messages(uow, st.releases, detail::now_us());
        std::vector<std::uint64_t> held;
        for (const auto& [id, peer] : st.owner) held.push_back(id);
        // What is still out has no consumer left in this process to ack it.
        detail::release_messages(uow, held, detail::now_us());
        detail::release_lease(uow, kRelayLease, lease_holder);
        uow.commit();
      } catch (const Error& e) {
        log(std::string("relay: could not settle on stop: ") + e.what());
      }
      holding.store(false);
    }
  }

  void bind_relay() {
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
  void start_zap() {
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
  void zap_main(const std::set<std::string>& allowed) {
    Frames f;
    Clock::time_point quiet_until{};  // a refused peer retries every 100 ms: one line per 10 s
    while (!stop_zap.load()) {
      zmq::pollitem_t item{static_cast<void*>(*zap), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 100ms);
      while (detail::receive_frames(*zap, f)) {
        // [version] [request id] [domain] [address] [identity] [mechanism] [credentials...]
        const bool ok =
            f.size() >= 7 && f[0] == "1.0" && f[5] == "CURVE" && allowed.count(f[6]) > 0;
        if (!ok && Clock::now() >= quiet_until) {
          quiet_until = Clock::now() + 10s;
          log("relay: refused a connection from " + (f.size() > 3 ? f[3] : std::string("?")) +
              ": it has no CURVE key this relay allows");
        }
        detail::send_or_drop(*zap, {"1.0", f.size() > 1 ? f[1] : std::string(), ok ? "200" : "400",
                                    ok ? "OK" : "key not allowed", "", ""});
      }
    }
    zap.reset();
  }

  void start_consumer(Consumer& c) {
    c.thread = std::thread([this, &c] { consumer_main(c); });
  }
  void start_subscriber(Subscriber& s) {
    s.thread = std::thread([this, &s] { subscriber_main(s); });
  }
};

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
