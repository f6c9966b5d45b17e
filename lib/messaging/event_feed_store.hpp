// The event feed's SQL: positions the relay gives events as it relays them (in the order
// their commits became visible), the retention floor, and reads by position.
#pragma once

#include <cstdint>
#include <vector>

#include "banyan/store/outbox.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::messaging::detail {

// Reserves feed positions for events `first`..`last` (ids, being relayed in this unit of
// work): returns `base`, and event `id` takes position base + (id - first), above every
// position given before.
std::uint64_t reserve_feed_positions(store::UnitOfWork& uow, std::uint64_t first,
                                     std::uint64_t last);

// Notes that retention deleted events up to `position`: a cursor below it may miss some.
void raise_feed_floor(store::UnitOfWork& uow, std::uint64_t position);

// The highest position retention has deleted (0: none).
std::uint64_t feed_floor(store::UnitOfWork& uow);

struct PositionedEvent {
  std::uint64_t position = 0;
  store::DomainEvent event;
};

// Relayed events with a position above `after`, by position, at most `limit`.
std::vector<PositionedEvent> feed_after(store::UnitOfWork& uow, std::uint64_t after, int limit);

}  // namespace banyan::messaging::detail
