#include "messaging/relay.hpp"

#include <algorithm>

#include "banyan/errors.hpp"
#include "banyan/store/database.hpp"

namespace banyan::messaging::bus {

using namespace std::chrono_literals;

Relay::Relay(Core& core)
    : core_(core),
      sockets_(core),
      lease_(core, sockets_.advertised_work(), sockets_.advertised_publish()),
      server_(core, sockets_.router()) {}

void Relay::start() {
  thread_ = std::thread([this] { run(); });
}

void Relay::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  sockets_.close();
}

void Relay::note_activity(Clock::time_point now) {
  st_.last_activity = now;
  st_.idle_interval = core_.options.idle_poll;
}

void Relay::note_idle(Clock::time_point now) {
  if (now - st_.last_activity > 1s)
    st_.idle_interval = std::min(core_.options.idle_poll_max, idle_interval() * 2);
}

std::chrono::milliseconds Relay::idle_interval() const {
  return std::max(core_.options.idle_poll, st_.idle_interval);
}

std::int64_t Relay::message_lease_until(const QueueSpec& spec, std::int64_t now_us) {
  const auto lease = std::chrono::duration_cast<std::chrono::microseconds>(spec.lease).count();
  std::int64_t& last = st_.last_until[spec.name];
  last = std::max(now_us + lease, last + 1);
  return last;
}

void Relay::lose_lease(const std::string& why) {
  lease_.lose(why);
  st_ = State{};
  server_.reset();
}

void Relay::round() {
  const auto now = Clock::now();
  const std::int64_t now_us = detail::now_us(core_.db);
  if (!lease_.held()) {
    if (now < st_.next_renewal) return;
    st_.next_renewal = now + core_.options.relay_lease / 3;
    if (lease_.take(now_us)) {
      st_ = State{};
      server_.reset();
      st_.next_renewal = now + core_.options.relay_lease / 3;
    }
    return;
  }
  const auto credit = server_.free_credit();
  Rows ready = read(now, now_us, credit);
  publish();
  const bool route_now = !st_.batch.empty() && st_.published == st_.batch.size();
  const bool expiry_due = now >= st_.next_expiry;
  if (server_.answers().empty() && !route_now && !expiry_due && ready.empty() &&
      now < st_.next_renewal)
    return;
  auto written = write(now_us, credit, route_now, expiry_due, ready);
  if (!written) {
    lose_lease("another relay took the lease");
    return;
  }
  deliver(now, *written, route_now, expiry_due);
}

Relay::Rows Relay::read(Clock::time_point now, std::int64_t now_us,
                        const std::map<std::string, int>& credit) {
  const bool stale_queues = now - st_.queues_loaded > 1s;
  const bool want_outbox = st_.batch.empty() && now >= st_.next_outbox_poll;
  const bool want_ready =
      now >= st_.next_ready_poll &&
      std::any_of(credit.begin(), credit.end(), [](const auto& c) { return c.second > 0; });
  Rows ready;
  if (!stale_queues && !want_outbox && !want_ready) return ready;
  auto uow = core_.db.begin(std::nullopt, store::Access::kReadOnly);
  // With every outbox read too, in the same snapshot: an event committed after a queue
  // was declared (by any process) is routed to it, never relayed past it.
  if (stale_queues || want_outbox) {
    st_.queues = detail::load_queues(uow);
    st_.queues_loaded = now;
  }
  if (want_outbox) {
    st_.batch = detail::pending_events(uow, core_.options.batch_size);
    st_.published = 0;
    if (st_.batch.empty())
      st_.next_outbox_poll = now + idle_interval();
    else
      note_activity(now);
  }
  // A batch just read is routed in the write, which leases the ready messages then; only
  // a batch held up by a full subscriber leaves them to this read.
  const bool fresh_batch = want_outbox && !st_.batch.empty();
  if (want_ready && !fresh_batch) {
    for (const auto& [queue, n] : credit) {
      if (n <= 0) continue;
      auto rows = detail::ready_messages(uow, queue, now_us, std::min(n, core_.options.batch_size));
      if (!rows.empty()) ready[queue] = std::move(rows);
    }
    if (ready.empty())
      st_.next_ready_poll = now + idle_interval();
    else
      note_activity(now);
  }
  uow.rollback();
  return ready;
}

void Relay::publish() {
  while (st_.published < st_.batch.size()) {
    const auto& e = st_.batch[st_.published];
    if (!detail::send_parts(sockets_.publisher(), {e.type, detail::event_header(e), e.payload}))
      return;  // a subscriber is full: wait
    ++st_.published;
  }
}

std::optional<Relay::Written> Relay::write(std::int64_t now_us,
                                           const std::map<std::string, int>& credit, bool route_now,
                                           bool expiry_due, Rows& ready) {
  Written w;
  std::uint64_t retried = 0;
  std::uint64_t dead = 0;
  std::uint64_t redelivered = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto& answers = server_.answers();
  auto uow = core_.db.begin();
  if (!lease_.renew(uow, now_us)) {
    uow.rollback();
    return std::nullopt;
  }
  detail::ack_messages(uow, answers.acks);
  detail::release_messages(uow, answers.releases, now_us);
  // A retry after an expired lease is a redelivery; after a failed handler, a retry.
  auto fail = [&](const detail::Failure& failure, bool lease_expired) {
    auto row = detail::queue_message(uow, failure.id);
    const QueueSpec* spec = row ? find_spec(st_.queues, row->queue) : nullptr;
    if (!spec) return false;
    const auto outcome = detail::record_failure(uow, failure, *spec, now_us, unit(st_.rng));
    if (outcome == detail::FailureOutcome::kRetry) ++(lease_expired ? redelivered : retried);
    if (outcome == detail::FailureOutcome::kDeadLettered) ++dead;
    return true;
  };
  for (const auto& failure : answers.failures) fail(failure, false);
  if (route_now) {
    // Credit goes to the ready messages first (oldest first), then to the new ones,
    // which are leased as they are routed: one write per message, not two.
    ready.clear();
    std::map<std::string, detail::LeaseNow> room;
    for (const auto& [queue, n] : credit) {
      const QueueSpec* spec = find_spec(st_.queues, queue);
      if (n <= 0 || !spec) continue;
      auto rows = detail::ready_messages(uow, queue, now_us, std::min(n, core_.options.batch_size));
      room[queue] = {n - static_cast<int>(rows.size()), message_lease_until(*spec, now_us)};
      if (!rows.empty()) ready[queue] = std::move(rows);
    }
    w.routed = detail::route_events(uow, st_.queues, st_.batch, now_us, room, core_.lease_holder);
  }
  if (expiry_due) {
    for (auto id : detail::expired_leases(uow, now_us, core_.options.batch_size)) {
      if (fail({id, 1, ErrorClass::kTransient, "the lease expired before an ack", "dispatcher"},
               true))
        w.expired.push_back(id);
    }
  }
  for (auto& [queue, rows] : ready) {
    const QueueSpec* spec = find_spec(st_.queues, queue);
    if (!spec) continue;
    std::vector<std::uint64_t> ids;
    ids.reserve(rows.size());
    for (const auto& r : rows) ids.push_back(r.id);
    auto got =
        detail::lease_messages(uow, ids, message_lease_until(*spec, now_us), core_.lease_holder);
    std::set<std::uint64_t> mine(got.begin(), got.end());
    for (auto& r : rows)
      if (mine.count(r.id)) w.leased[queue].push_back(std::move(r));
  }
  uow.commit();
  auto& counters = core_.counters;
  counters.acked.fetch_add(answers.acks.size());
  counters.retried.fetch_add(retried);
  counters.redelivered.fetch_add(redelivered);
  counters.dead_lettered.fetch_add(dead);
  return w;
}

void Relay::deliver(Clock::time_point now, Written& written, bool route_now, bool expiry_due) {
  server_.answers().clear();
  for (auto id : written.expired) server_.forget(id);
  st_.next_renewal = now + core_.options.relay_lease / 3;
  if (expiry_due) {
    st_.next_expiry = now + 200ms;
    server_.prune_silent(now);
  }
  std::map<std::string, std::vector<QueueServer::Outgoing>> out;
  for (auto& [queue, rows] : written.leased)
    for (const auto& r : rows)
      out[queue].push_back({r.id, static_cast<int>(r.attempts), detail::event_of(r)});
  if (route_now) {
    std::map<std::uint64_t, const store::DomainEvent*> by_sequence;
    for (const auto& e : st_.batch) by_sequence[e.sequence] = &e;
    for (const auto& [queue, rows] : written.routed) {
      for (const auto& r : rows) {
        auto e = by_sequence.find(r.sequence);
        if (e != by_sequence.end()) out[queue].push_back({r.id, 0, *e->second});
      }
    }
    core_.counters.relayed.fetch_add(st_.batch.size());
    st_.batch.clear();
    st_.next_outbox_poll = now;  // more may be waiting
    st_.next_ready_poll = now;   // and the queues just grew
  }
  server_.dispatch(st_.queues, out);
}

void Relay::retain() {
  const auto now = Clock::now();
  if (!lease_.held() || now < st_.next_retention) return;
  const RetentionPolicy& r = core_.options.retention;
  const std::int64_t now_us = detail::now_us(core_.db);
  auto before = [&](std::chrono::microseconds window) { return now_us - window.count(); };
  std::size_t events = 0;
  std::size_t claims = 0;
  std::size_t letters = 0;
  {
    auto uow = core_.db.begin();
    if (r.outbox.count() > 0)
      events = detail::purge_relayed_events(uow, before(r.outbox), r.batch_size);
    if (r.processed.count() > 0)
      claims = detail::purge_processed_claims(uow, before(r.processed), r.batch_size);
    if (r.dead_letters.count() > 0)
      letters = detail::purge_dead_letters(uow, before(r.dead_letters), r.batch_size);
    uow.commit();
  }
  auto& counters = core_.counters;
  counters.purged_events.fetch_add(events);
  counters.purged_claims.fetch_add(claims);
  counters.purged_dead_letters.fetch_add(letters);
  const auto full = static_cast<std::size_t>(r.batch_size);
  st_.next_retention = events == full || claims == full || letters == full ? now : now + r.interval;
}

void Relay::drain() {
  while (detail::receive_frames(sockets_.router(), frames_))
    if (lease_.held()) server_.on_message(frames_);
}

void Relay::run() {
  Clock::time_point backoff_until{};
  while (!stop_.load()) {
    zmq::pollitem_t items[] = {{static_cast<void*>(sockets_.router()), 0, ZMQ_POLLIN, 0},
                               {static_cast<void*>(sockets_.publisher()), 0, ZMQ_POLLOUT, 0}};
    const bool blocked = st_.published < st_.batch.size();
    zmq::poll(items, blocked ? 2 : 1, lease_.held() ? idle_interval() : 50ms);
    // Activity is what the outbox and the queues hold (see round), not the consumers'
    // own chatter, which never stops.
    if (!blocked) note_idle(Clock::now());
    drain();
    if (Clock::now() < backoff_until) continue;
    try {
      round();
      core_.counters.outbox_pending.store(st_.batch.size() - st_.published);
      retain();
    } catch (const Error& e) {
      // The database is away or refused (a deadlock victim, a lost connection): nothing
      // was committed; pending answers stay pending and the round runs again shortly.
      core_.log(LogLevel::kWarning, "relay_round_failed", std::string("relay: ") + e.what());
      backoff_until = Clock::now() + 100ms;
    }
  }
  // Settle what the consumers gave back while stopping, then let another relay take over.
  const auto deadline = Clock::now() + 200ms;
  while (Clock::now() < deadline) {
    zmq::pollitem_t item{static_cast<void*>(sockets_.router()), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 20ms);
    drain();
  }
  settle_on_stop();
}

void Relay::settle_on_stop() {
  if (!lease_.held()) return;
  try {
    auto uow = core_.db.begin();
    const std::int64_t now_us = detail::now_us(uow);
    const auto& answers = server_.answers();
    detail::ack_messages(uow, answers.acks);
    detail::release_messages(uow, answers.releases, now_us);
    // What is still out has no consumer left in this process to ack it.
    detail::release_messages(uow, server_.held(), now_us);
    lease_.release(uow);
    uow.commit();
    lease_.let_go();
  } catch (const Error& e) {
    lease_.lose(std::string("could not settle on stop: ") + e.what());
  }
}

}  // namespace banyan::messaging::bus
