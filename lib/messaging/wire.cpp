#include "messaging/wire.hpp"

#include <charconv>

#include "store/entity.hpp"

namespace banyan::messaging::detail {

namespace {
constexpr char kSeparator = '\x1f';  // ASCII unit separator: in no id, type or number
}

std::string event_header(const store::DomainEvent& e) {
  std::string h;
  h.reserve(128);
  auto field = [&](std::string_view v) {
    h.append(v);
    h += kSeparator;
  };
  field(std::to_string(e.sequence));
  field(e.id);
  field(e.type);
  field(to_string(e.aggregate_type));
  field(std::to_string(e.aggregate_id));
  field(std::to_string(e.aggregate_version));
  field(std::to_string(store::detail::micros(e.occurred_at)));
  if (e.actor) h += std::to_string(*e.actor);
  return h;
}

void append_event(Frames& frames, const store::DomainEvent& e) {
  frames.push_back(event_header(e));
  frames.push_back(e.payload);
}

bool parse_uint(std::string_view text, std::uint64_t& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::uint64_t uint_or(std::string_view text, std::uint64_t fallback) noexcept {
  std::uint64_t n = 0;
  return parse_uint(text, n) ? n : fallback;
}

bool parse_event(const Frames& f, std::size_t at, store::DomainEvent& e) {
  if (f.size() < at + kEventFrames) return false;
  std::string_view fields[8];
  std::string_view rest = f[at];
  for (int i = 0; i < 7; ++i) {
    const auto end = rest.find(kSeparator);
    if (end == std::string_view::npos) return false;
    fields[i] = rest.substr(0, end);
    rest.remove_prefix(end + 1);
  }
  if (rest.find(kSeparator) != std::string_view::npos) return false;
  fields[7] = rest;
  std::uint64_t occurred = 0, actor = 0;
  if (!parse_uint(fields[0], e.sequence) || !parse_uint(fields[4], e.aggregate_id) ||
      !parse_uint(fields[5], e.aggregate_version) || !parse_uint(fields[6], occurred))
    return false;
  e.id = fields[1];
  e.type = fields[2];
  try {
    e.aggregate_type = parse_object_type(fields[3]);
  } catch (...) {
    return false;
  }
  e.occurred_at = store::detail::timestamp(static_cast<std::int64_t>(occurred));
  e.actor.reset();
  if (!fields[7].empty()) {
    if (!parse_uint(fields[7], actor)) return false;
    e.actor = actor;
  }
  e.payload = f[at + 1];
  return true;
}

bool send_parts(zmq::socket_t& socket, std::initializer_list<std::string_view> parts) {
  std::size_t i = 0;
  for (std::string_view part : parts) {
    const bool last = ++i == parts.size();
    auto flags =
        zmq::send_flags::dontwait | (last ? zmq::send_flags::none : zmq::send_flags::sndmore);
    auto sent = socket.send(zmq::const_buffer(part.data(), part.size()), flags);
    // Only the first frame can block: the rest of a started message always goes through.
    if (!sent) return false;
  }
  return true;
}

bool send_frames(zmq::socket_t& socket, const Frames& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const bool last = i + 1 == frames.size();
    auto flags =
        zmq::send_flags::dontwait | (last ? zmq::send_flags::none : zmq::send_flags::sndmore);
    auto sent = socket.send(zmq::buffer(frames[i]), flags);
    if (!sent) return false;
  }
  return true;
}

void send_or_drop(zmq::socket_t& socket, const Frames& frames) {
  [[maybe_unused]] const bool sent =
      send_frames(socket, frames);  // false: dropped (see the header)
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
