#include "messaging/wire.hpp"

#include <charconv>

#include "store/entity.hpp"

namespace banyan::messaging::detail {

void append_event(Frames& frames, const store::DomainEvent& e) {
  frames.push_back(std::to_string(e.sequence));
  frames.push_back(e.id);
  frames.push_back(e.type);
  frames.emplace_back(to_string(e.aggregate_type));
  frames.push_back(std::to_string(e.aggregate_id));
  frames.push_back(std::to_string(e.aggregate_version));
  frames.push_back(std::to_string(store::detail::micros(e.occurred_at)));
  frames.push_back(e.actor ? std::to_string(*e.actor) : std::string());
  frames.push_back(e.payload);
}

bool parse_uint(const std::string& text, std::uint64_t& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool parse_event(const Frames& f, std::size_t at, store::DomainEvent& e) {
  if (f.size() < at + kEventFrames) return false;
  std::uint64_t occurred = 0, actor = 0;
  if (!parse_uint(f[at], e.sequence) || !parse_uint(f[at + 4], e.aggregate_id) ||
      !parse_uint(f[at + 5], e.aggregate_version) || !parse_uint(f[at + 6], occurred))
    return false;
  e.id = f[at + 1];
  e.type = f[at + 2];
  try {
    e.aggregate_type = parse_object_type(f[at + 3]);
  } catch (...) {
    return false;
  }
  e.occurred_at = store::detail::timestamp(static_cast<std::int64_t>(occurred));
  e.actor.reset();
  if (!f[at + 7].empty()) {
    if (!parse_uint(f[at + 7], actor)) return false;
    e.actor = actor;
  }
  e.payload = f[at + 8];
  return true;
}

bool send_frames(zmq::socket_t& socket, const Frames& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const bool last = i + 1 == frames.size();
    auto flags = zmq::send_flags::dontwait | (last ? zmq::send_flags::none : zmq::send_flags::sndmore);
    auto sent = socket.send(zmq::buffer(frames[i]), flags);
    // Only the first frame can block: the rest of a started message always goes through.
    if (!sent) return false;
  }
  return true;
}

bool receive_frames(zmq::socket_t& socket, Frames& frames) {
  frames.clear();
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
  frames.emplace_back(part.to_string());
  while (part.more()) {
    (void)socket.recv(part, zmq::recv_flags::none);
    frames.emplace_back(part.to_string());
  }
  return true;
}

}  // namespace banyan::messaging::detail
