// The frames Banyan's bus exchanges over ZeroMQ. Internal: both ends are this library.
//
//   PUB -> SUB        [type] [event...]                       (topic = the event type)
//   ROUTER -> DEALER  ["MSG"] [delivery id] [attempts before] [tries allowed] [event...]
//                     ["WHO"]                                 (unknown peer: say HELLO)
//   DEALER -> ROUTER  ["HELLO"] [queue] [consumer] [prefetch]
//                     ["ACK"] [delivery id]
//                     ["NACK"] [delivery id] [tries] [transient|permanent] [error] [consumer]
//                     ["RELEASE"] [delivery id]               (given back unhandled)
//                     ["PING"]
//
// [event...] is two frames: a header of eight fields joined by ASCII unit separators
// (sequence, id, type, aggregate type, aggregate id, aggregate version, occurred at in µs,
// actor id or ""), then the payload.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "store/outbox.hpp"

namespace banyan::messaging::detail {

using Frames = std::vector<std::string>;

inline constexpr std::size_t kEventFrames = 2;

// The event's first frame; the payload is the second.
std::string event_header(const store::DomainEvent& e);
void append_event(Frames& frames, const store::DomainEvent& e);
// Reads the two event frames starting at `at`. False when they are malformed.
[[nodiscard]] bool parse_event(const Frames& frames, std::size_t at, store::DomainEvent& e);
[[nodiscard]] bool parse_uint(std::string_view text, std::uint64_t& out) noexcept;
// The number `text` holds, or `fallback` when it holds none (a peer's optional field).
std::uint64_t uint_or(std::string_view text, std::uint64_t fallback) noexcept;

// Sends every frame as one message. Returns false when the socket would block (high-water
// mark); throws zmq::error_t for real failures (EHOSTUNREACH for an unknown ROUTER peer).
[[nodiscard]] bool send_frames(zmq::socket_t& socket, const Frames& frames);
// Sends a control message whose loss the protocol recovers from, dropping it when the
// socket would block: an unsent HELLO is asked for again (WHO), a PING comes again, and an
// unsent ACK, NACK or RELEASE leaves the message leased until the lease expires, when it is
// delivered again (consumers are idempotent). Throws like send_frames.
void send_or_drop(zmq::socket_t& socket, const Frames& frames);
// The same for parts that live elsewhere (no copy but ZeroMQ's own).
[[nodiscard]] bool send_parts(zmq::socket_t& socket, std::initializer_list<std::string_view> parts);
// Receives one whole message without blocking; false when none is waiting.
[[nodiscard]] bool receive_frames(zmq::socket_t& socket, Frames& frames);

}  // namespace banyan::messaging::detail
