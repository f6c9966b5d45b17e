#include "messaging/queue_server.hpp"

#include <algorithm>

namespace banyan::messaging::bus {

using namespace std::chrono_literals;

const QueueSpec* find_spec(const std::vector<QueueSpec>& queues, const std::string& name) {
  for (const auto& q : queues)
    if (q.name == name) return &q;
  return nullptr;
}

void QueueServer::Answers::clear() {
  acks.clear();
  releases.clear();
  failures.clear();
}

QueueServer::QueueServer(Core& core, zmq::socket_t& router) : core_(core), router_(router) {}

void QueueServer::reset() {
  peers_.clear();
  owner_.clear();
  answers_.clear();
}

void QueueServer::hello(const std::string& peer_id, const Frames& f) {
  const std::uint64_t prefetch = detail::uint_or(f[4], 1);
  Peer& p = peers_[peer_id];
  for (auto held : p.in_flight) owner_.erase(held);
  p = Peer{f[2],
           f[3],
           static_cast<int>(std::clamp<std::uint64_t>(prefetch, 1, 10000)),
           {},
           Clock::now()};
}

bool QueueServer::holds(const std::string& peer_id, std::uint64_t id) {
  const auto holder = owner_.find(id);
  return holder != owner_.end() && holder->second == peer_id;
}

void QueueServer::on_message(const Frames& f) {
  if (f.size() < 2) return;
  const std::string& peer_id = f[0];
  const std::string& verb = f[1];
  if (verb == "HELLO" && f.size() == 5) {
    hello(peer_id, f);
    return;
  }
  auto peer = peers_.find(peer_id);
  if (peer != peers_.end()) {
    peer->second.last_seen = Clock::now();
  } else {
    detail::send_or_drop(router_, {peer_id, "WHO"});
  }
  std::uint64_t id = 0;
  const bool settles = verb == "ACK" || verb == "RELEASE" || verb == "NACK";
  if (!settles || f.size() < 3 || !detail::parse_uint(f[2], id)) return;
  // Only the peer that holds a message's lease settles it: another peer's word for it
  // is ignored (its lease runs out and it is delivered again).
  if (!holds(peer_id, id)) {
    core_.counters.foreign_settlements.fetch_add(1);
    return;
  }
  if (verb == "ACK" && f.size() == 3) {
    answers_.acks.push_back(id);
  } else if (verb == "RELEASE" && f.size() == 3) {
    answers_.releases.push_back(id);
  } else if (verb == "NACK" && f.size() == 7) {
    const std::uint64_t tries = detail::uint_or(f[3], 1);
    answers_.failures.push_back(
        {id, static_cast<int>(std::min<std::uint64_t>(tries, 1000)),
         f[4] == "permanent" ? ErrorClass::kPermanent : ErrorClass::kTransient, f[5], f[6]});
  } else {
    return;  // malformed: the message stays out until its lease runs out
  }
  forget(id);
}

std::map<std::string, int> QueueServer::free_credit() const {
  std::map<std::string, int> credit;
  for (const auto& [id, p] : peers_)
    credit[p.queue] += std::max(0, p.prefetch - static_cast<int>(p.in_flight.size()));
  return credit;
}

bool QueueServer::send(const QueueSpec* spec, const Outgoing& row,
                       const std::vector<std::string>& peers, std::size_t& next) {
  for (std::size_t n = 0; n < peers.size(); ++n) {
    const std::string& peer_id = peers[(next + n) % peers.size()];
    Peer& p = peers_[peer_id];
    if (static_cast<int>(p.in_flight.size()) >= p.prefetch) continue;
    const int before = row.attempts;
    // A first delivery carries the queue's immediate retries, run by the consumer.
    const int tries = before == 0 && spec
                          ? std::min(1 + spec->retry.immediate_retries, spec->retry.max_attempts)
                          : 1;
    bool sent = false;
    try {
      sent = detail::send_parts(
          router_, {peer_id, "MSG", std::to_string(row.id), std::to_string(before),
                    std::to_string(tries), detail::event_header(row.event), row.event.payload});
    } catch (const zmq::error_t&) {
      sent = false;  // the peer is gone
    }
    if (sent) {
      p.in_flight.insert(row.id);
      owner_[row.id] = peer_id;
      next = (next + n + 1) % peers.size();
      core_.counters.delivered.fetch_add(1);
      return true;
    }
  }
  return false;
}

void QueueServer::dispatch(const std::vector<QueueSpec>& queues,
                           const std::map<std::string, std::vector<Outgoing>>& leased) {
  for (const auto& [queue, rows] : leased) {
    const QueueSpec* spec = find_spec(queues, queue);
    std::vector<std::string> peers;
    for (const auto& [peer_id, p] : peers_)
      if (p.queue == queue) peers.push_back(peer_id);
    std::size_t next = 0;
    for (const auto& row : rows)
      if (!send(spec, row, peers, next)) answers_.releases.push_back(row.id);
  }
}

void QueueServer::forget(std::uint64_t id) {
  auto it = owner_.find(id);
  if (it == owner_.end()) return;
  auto peer = peers_.find(it->second);
  if (peer != peers_.end()) peer->second.in_flight.erase(id);
  owner_.erase(it);
}

void QueueServer::prune_silent(Clock::time_point now) {
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_seen < 30s) {
      ++it;
      continue;
    }
    for (auto id : it->second.in_flight) owner_.erase(id);
    it = peers_.erase(it);
  }
}

std::vector<std::uint64_t> QueueServer::held() const {
  std::vector<std::uint64_t> ids;
  ids.reserve(owner_.size());
  for (const auto& [id, peer] : owner_) ids.push_back(id);
  return ids;
}

}  // namespace banyan::messaging::bus
