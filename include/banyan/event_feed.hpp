// The event feed: the outbox's events in the order their commits became visible, for an
// integration that keeps another system in step (Engine::events, GET /v1/events).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/store/outbox.hpp"

namespace banyan {

struct BANYAN_EXPORT EventFeedRequest {
  // The `next` of the previous page; 0 starts at the oldest event retention kept.
  std::uint64_t after = 0;
  // Type patterns as queues take them ("contact.*", "deal.won", "*"); empty: every type.
  std::vector<std::string> types;
  std::size_t limit = 100;  // 1..1000, else ValidationError("limit")
};

struct BANYAN_EXPORT FeedEvent {
  std::uint64_t position = 0;
  // The payload masked as the principal sees the record (sensitive values null when it
  // may not read them, sealed ones opened when it may).
  store::DomainEvent event;
};

struct BANYAN_EXPORT EventFeedPage {
  std::vector<FeedEvent> items;
  // Pass back as `after`: the position of the last event looked at, shown or not (never
  // below `after`).
  std::uint64_t next = 0;
  // More events follow `next` now: ask again at once rather than wait.
  bool more = false;
  // `after` is older than what retention kept: events after it may be gone, so the
  // page is empty; start again from 0 (and reconcile) or from `oldest`.
  bool expired = false;
  // The lowest `after` that is not expired.
  std::uint64_t oldest = 0;
};

}  // namespace banyan
