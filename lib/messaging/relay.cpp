// The relay: whoever holds the relay lease publishes the outbox, routes events into the
// work queues, leases messages to consumers and settles what they answer, and applies
// retention.
#include <algorithm>

#include "messaging/bus_impl.hpp"
#include "store/outbox_writer.hpp"

namespace banyan::messaging {

using bus::Clock;
using bus::Frames;
using bus::is_tcp;
using bus::kRelayLease;
using namespace std::chrono_literals;

void MessageBus::Impl::note_activity(RelayState& st, Clock::time_point now) {
  st.last_activity = now;
  st.idle_interval = options.idle_poll;
}

void MessageBus::Impl::note_idle(RelayState& st, Clock::time_point now) {
  if (now - st.last_activity > 1s)
    st.idle_interval = std::min(options.idle_poll_max, idle_interval(st) * 2);
}

std::chrono::milliseconds MessageBus::Impl::idle_interval(const RelayState& st) const {
  return std::max(options.idle_poll, st.idle_interval);
}

const QueueSpec* MessageBus::Impl::queue_spec(RelayState& st, const std::string& name) {
  for (const auto& q : st.queues)
    if (q.name == name) return &q;
  return nullptr;
}

void MessageBus::Impl::forget_delivery(RelayState& st, std::uint64_t id) {
  auto it = st.owner.find(id);
  if (it == st.owner.end()) return;
  auto peer = st.peers.find(it->second);
  if (peer != st.peers.end()) peer->second.in_flight.erase(id);
  st.owner.erase(it);
}

void MessageBus::Impl::on_peer_message(RelayState& st, const Frames& f) {
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

// Sends what was leased, spreading it over the peers of each queue by their free credit.
void MessageBus::Impl::dispatch(RelayState& st,
                                const std::map<std::string, std::vector<Outgoing>>& leased,
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
          sent = detail::send_parts(
              *router, {peer_id, "MSG", std::to_string(row.id), std::to_string(before),
                        std::to_string(tries), detail::event_header(row.event), row.event.payload});
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
std::int64_t MessageBus::Impl::message_lease_until(RelayState& st, const QueueSpec& spec,
                                                   std::int64_t now_us) {
  const auto lease = std::chrono::duration_cast<std::chrono::microseconds>(spec.lease).count();
  std::int64_t& last = st.last_until[spec.name];
  last = std::max(now_us + lease, last + 1);
  return last;
}

std::map<std::string, int> MessageBus::Impl::free_credit(RelayState& st) {
  std::map<std::string, int> credit;
  for (const auto& [id, p] : st.peers)
    credit[p.queue] += std::max(0, p.prefetch - static_cast<int>(p.in_flight.size()));
  return credit;
}

// One round of relay work: read, publish, then one write transaction for everything
// that changes state. Returns when it would next have something to do.
void MessageBus::Impl::relay_round(RelayState& st) {
  const auto now = Clock::now();
  const std::int64_t now_us = detail::now_us(db);
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
      log(LogLevel::kInfo, "relay_lease_taken",
          "relay: " + options.node + " holds the relay lease");
    }
    return;
  }

  // Read: queue declarations, the outbox, ready messages for free credit.
  const auto credit = free_credit(st);
  const bool stale_queues = now - st.queues_loaded > 1s;
  const bool want_outbox = st.batch.empty() && now >= st.next_outbox_poll;
  bool want_ready = now >= st.next_ready_poll &&
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
  if (!(settle || route_now || expiry_due || !candidates.empty() || now >= st.next_renewal)) return;

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
        count(detail::record_failure(
                  uow,
                  {id, 1, ErrorClass::kTransient, "the lease expired before an ack", "dispatcher"},
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
void MessageBus::Impl::prune_silent_peers(RelayState& st, Clock::time_point now) {
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
void MessageBus::Impl::retain(RelayState& st) {
  const auto now = Clock::now();
  if (!holding.load() || now < st.next_retention) return;
  const RetentionPolicy& r = options.retention;
  const std::int64_t now_us = detail::now_us(db);
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
  st.next_retention = events == full || claims == full || letters == full ? now : now + r.interval;
}

void MessageBus::Impl::lose_lease(RelayState& st, const std::string& why) {
  if (holding.exchange(false))
    log(LogLevel::kWarning, "relay_lease_lost",
        "relay: " + options.node + " stopped relaying: " + why);
  st = RelayState{};
}

void MessageBus::Impl::relay_main() {
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
      log(LogLevel::kWarning, "relay_round_failed", std::string("relay: ") + e.what());
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
      detail::release_messages(uow, st.releases, detail::now_us(uow));
      std::vector<std::uint64_t> held;
      for (const auto& [id, peer] : st.owner) held.push_back(id);
      // What is still out has no consumer left in this process to ack it.
      detail::release_messages(uow, held, detail::now_us(uow));
      detail::release_lease(uow, kRelayLease, lease_holder);
      uow.commit();
    } catch (const Error& e) {
      log(LogLevel::kWarning, "relay_settle_failed",
          std::string("relay: could not settle on stop: ") + e.what());
    }
    holding.store(false);
  }
}
}  // namespace banyan::messaging
