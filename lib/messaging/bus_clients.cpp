// The bus's consumers (a DEALER to the relay's ROUTER: HELLO, deliveries, ACK, NACK,
// RELEASE, PING) and subscribers (a SUB to the relay's PUB).
#include <exception>

#include "messaging/bus_impl.hpp"

namespace banyan::messaging {

using bus::Clock;
using bus::Frames;
using bus::is_tcp;
using bus::kRelayLease;
using namespace std::chrono_literals;

namespace {

// The SUB prefix that lets through every type a pattern matches (exact types are
// checked again on receipt: "deal.created" is also a prefix of "deal.created_x").
std::string subscription_prefix(const std::string& pattern) {
  if (pattern == "*") return "";
  if (pattern.ends_with(".*")) return pattern.substr(0, pattern.size() - 1);
  return pattern;
}

}  // namespace

void MessageBus::Impl::consumer_main(Consumer& c) {
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
    const bool moved = follow_relay(link, zmq::socket_type::dealer, true, [&](zmq::socket_t& sock) {
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

void MessageBus::Impl::handle(Consumer& c, const std::string& who, zmq::socket_t& socket,
                              const Delivery& d) {
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

void MessageBus::Impl::subscriber_main(Subscriber& s) {
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
        log(LogLevel::kError, "subscriber_failed",
            "a subscriber to " + s.pattern + " failed on " + event.type + ": " + e.what());
      } catch (...) {
        log(LogLevel::kError, "subscriber_failed",
            "a subscriber to " + s.pattern + " failed on " + event.type);
      }
    }
  }
}
}  // namespace banyan::messaging
