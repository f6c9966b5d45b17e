#include "messaging/consumer.hpp"

#include <algorithm>
#include <exception>

namespace banyan::messaging::bus {

using namespace std::chrono_literals;

Consumer::Consumer(Core& core, std::string queue, MessageHandler handler, ConsumerOptions options)
    : core_(core),
      queue_(std::move(queue)),
      handler_(std::move(handler)),
      options_(std::move(options)),
      who_(core.options.node + "/" + options_.name),
      link_(core, zmq::socket_type::dealer, true, [prefetch = options_.prefetch](zmq::socket_t& s) {
        s.set(zmq::sockopt::linger, 2000);
        s.set(zmq::sockopt::rcvhwm, prefetch + 16);
      }) {}

Consumer::~Consumer() {
  request_stop();
  join();
}

void Consumer::start() {
  thread_ = std::thread([this] { run(); });
}

void Consumer::join() {
  if (thread_.joinable()) thread_.join();
}

void Consumer::hello() {
  detail::send_or_drop(*link_.socket(), {"HELLO", queue_, who_, std::to_string(options_.prefetch)});
}

void Consumer::receive() {
  zmq::socket_t* socket = link_.socket();
  while (socket && detail::receive_frames(*socket, frames_)) {
    if (frames_.size() == 1 && frames_[0] == "WHO") {
      hello();
    } else if (frames_.size() == 4 + detail::kEventFrames && frames_[0] == "MSG") {
      Delivery d;
      std::uint64_t before = 0;
      std::uint64_t tries = 0;
      if (detail::parse_uint(frames_[1], d.id) && detail::parse_uint(frames_[2], before) &&
          detail::parse_uint(frames_[3], tries) && detail::parse_event(frames_, 4, d.event)) {
        d.attempts_before = static_cast<int>(before);
        d.tries_allowed = std::max(1, static_cast<int>(tries));
        prefetched_.push_back(std::move(d));
      }
    }
  }
}

void Consumer::run() {
  Clock::time_point next_ping{};
  while (!stop_.load()) {
    if (link_.follow()) {
      // Messages prefetched from a relay that is gone are not ours any more: their
      // leases run out and the new relay delivers them again.
      prefetched_.clear();
      if (link_.socket()) hello();
    }
    zmq::socket_t* socket = link_.socket();
    if (!socket) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    if (prefetched_.empty()) {
      zmq::pollitem_t item{static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 50ms);
    }
    receive();
    if (!prefetched_.empty()) {
      Delivery d = std::move(prefetched_.front());
      prefetched_.pop_front();
      handle(d);
    }
    if (Clock::now() >= next_ping) {
      next_ping = Clock::now() + 500ms;
      detail::send_or_drop(*socket, {"PING"});
    }
  }
  // Give back what we hold unhandled, without counting an attempt.
  if (zmq::socket_t* socket = link_.socket()) {
    receive();
    for (const auto& d : prefetched_)
      detail::send_or_drop(*socket, {"RELEASE", std::to_string(d.id)});
  }
}

void Consumer::handle(const Delivery& d) {
  zmq::socket_t& socket = *link_.socket();
  Message m{d.event, queue_, d.attempts_before + 1};
  int tries = 0;
  ErrorClass error_class = ErrorClass::kTransient;
  std::string error;
  while (tries < d.tries_allowed) {
    m.attempt = d.attempts_before + tries + 1;
    ++tries;
    try {
      handler_(m);
      core_.counters.handled.fetch_add(1);
      detail::send_or_drop(socket, {"ACK", std::to_string(d.id)});
      return;
    } catch (const std::exception& e) {
      error_class = classify(e);
      error = e.what();
    } catch (...) {
      error_class = ErrorClass::kTransient;
      error = "a handler threw something that is not a std::exception";
    }
    if (error_class == ErrorClass::kPermanent || stop_.load()) break;
  }
  detail::send_or_drop(socket, {"NACK", std::to_string(d.id), std::to_string(tries),
                                to_string(error_class), error, who_});
}

}  // namespace banyan::messaging::bus
