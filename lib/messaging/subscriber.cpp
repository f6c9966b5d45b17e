#include "messaging/subscriber.hpp"

#include <exception>

#include "messaging/queue_store.hpp"

namespace banyan::messaging::bus {

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

Subscriber::Subscriber(Core& core, std::string pattern, EventHandler handler)
    : core_(core),
      pattern_(std::move(pattern)),
      handler_(std::move(handler)),
      link_(core, zmq::socket_type::sub, false,
            [hwm = core.options.high_water_mark,
             prefix = subscription_prefix(pattern_)](zmq::socket_t& s) {
              s.set(zmq::sockopt::linger, 0);
              s.set(zmq::sockopt::rcvhwm, hwm);
              s.set(zmq::sockopt::subscribe, prefix);
            }) {}

Subscriber::~Subscriber() {
  request_stop();
  join();
}

void Subscriber::start() {
  thread_ = std::thread([this] { run(); });
}

void Subscriber::join() {
  if (thread_.joinable()) thread_.join();
}

void Subscriber::run() {
  Frames frames;
  store::DomainEvent event;
  while (!stop_.load()) {
    link_.follow();
    zmq::socket_t* socket = link_.socket();
    if (!socket) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    zmq::pollitem_t item{static_cast<void*>(*socket), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 50ms);
    while (detail::receive_frames(*socket, frames)) {
      if (frames.size() == 1 + detail::kEventFrames && detail::parse_event(frames, 1, event) &&
          detail::type_matches(pattern_, event.type))
        deliver(event);
    }
  }
}

void Subscriber::deliver(const store::DomainEvent& event) {
  try {
    handler_(event);
  } catch (const std::exception& e) {
    core_.log(LogLevel::kError, "subscriber_failed",
              "a subscriber to " + pattern_ + " failed on " + event.type + ": " + e.what());
  } catch (...) {
    core_.log(LogLevel::kError, "subscriber_failed",
              "a subscriber to " + pattern_ + " failed on " + event.type);
  }
}

}  // namespace banyan::messaging::bus
