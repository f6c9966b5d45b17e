#include "messaging/event_feed_store.hpp"

#include <map>
#include <string>

#include "messaging/queue_store.hpp"
#include "store/odb/island.hpp"
#include "store/outbox_writer.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::messaging::detail {
namespace {

using island::SqlFragment;
using store::detail::int_param;

island::Transaction& tx_of(store::UnitOfWork& uow) { return store::Session(uow).tx(); }

}  // namespace

std::uint64_t reserve_feed_positions(store::UnitOfWork& uow, std::uint64_t first,
                                     std::uint64_t last) {
  auto& tx = tx_of(uow);
  // One relay writes at a time (its lease), so reading the counter and moving it on in
  // the same transaction cannot race another relay.
  const auto base = static_cast<std::uint64_t>(island::query_int(
      tx, SqlFragment().text("SELECT next_position FROM event_feed WHERE id = 1")));
  SqlFragment next;
  next.text("UPDATE event_feed SET next_position = ")
      .param(int_param(static_cast<std::int64_t>(base + (last - first) + 1)))
      .text(" WHERE id = 1");
  island::execute(tx, next);
  return base;
}

void raise_feed_floor(store::UnitOfWork& uow, std::uint64_t position) {
  const auto p = int_param(static_cast<std::int64_t>(position));
  SqlFragment up;
  up.text("UPDATE event_feed SET purged_through = ")
      .param(p)
      .text(" WHERE id = 1 AND purged_through < ")
      .param(p);
  island::execute(tx_of(uow), up);
}

std::uint64_t feed_floor(store::UnitOfWork& uow) {
  return static_cast<std::uint64_t>(island::query_int(
      tx_of(uow), SqlFragment().text("SELECT purged_through FROM event_feed WHERE id = 1")));
}

std::vector<PositionedEvent> feed_after(store::UnitOfWork& uow, std::uint64_t after, int limit) {
  auto& tx = tx_of(uow);
  SqlFragment q;
  q.text("SELECT id, feed_position FROM outbox_events WHERE feed_position > ")
      .param(int_param(static_cast<std::int64_t>(after)))
      .text(" ORDER BY feed_position LIMIT " + std::to_string(limit));
  const auto pairs = island::query_ints(tx, q, 2);
  if (pairs.empty()) return {};
  std::vector<std::uint64_t> ids;
  std::map<std::uint64_t, std::uint64_t> position_of;
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    ids.push_back(static_cast<std::uint64_t>(pairs[i]));
    position_of[ids.back()] = static_cast<std::uint64_t>(pairs[i + 1]);
  }
  std::map<std::uint64_t, store::DomainEvent> events;
  SqlFragment rows;
  rows.text("id IN " + id_list(ids));
  for (const auto& row : island::RowStore<odbrows::OutboxEventRow>::select(tx, rows))
    events.emplace(row.id, store::detail::event_of(row));
  std::vector<PositionedEvent> out;
  for (std::uint64_t id : ids) {
    auto e = events.find(id);
    if (e != events.end()) out.push_back({position_of[id], std::move(e->second)});
  }
  return out;
}

}  // namespace banyan::messaging::detail
