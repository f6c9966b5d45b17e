// Retention: relayed outbox events, processed-message claims and dead letters deleted
// past their window, a bounded batch per call; and the size of each messaging table.
#include "messaging/queue_store.hpp"

#include <algorithm>
#include <vector>

#include "banyan/errors.hpp"
#include "messaging/event_feed_store.hpp"

#include "store/database_state.hpp"
#include "store/odb/island.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::messaging::detail {

namespace {

using island::SqlFragment;
using store::detail::int_param;

island::Transaction& tx_of(UnitOfWork& uow) { return store::Session(uow).tx(); }

// Deletes at most `limit` rows of `table` matching `where` (one statement: SQLite has no
// DELETE ... LIMIT unless built for it, MySQL no LIMIT in a subquery of the same table).
std::size_t delete_some(UnitOfWork& uow, const std::string& table, const SqlFragment& where,
                        int limit) {
  SqlFragment del;
  if (store::Session(uow).backend() == island::Backend::kSqlite) {
    del.text("DELETE FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table + " WHERE ")
        .append(where)
        .text(" LIMIT " + std::to_string(limit) + ")");
  } else {
    del.text("DELETE FROM " + table + " WHERE ")
        .append(where)
        .text(" LIMIT " + std::to_string(limit));
  }
  return static_cast<std::size_t>(island::execute(tx_of(uow), del));
}
}  // namespace

std::size_t purge_relayed_events(UnitOfWork& uow, std::int64_t relayed_before, int limit) {
  // Routed messages read their body from the outbox (payload ''): keep every event from
  // the oldest such message on.
  SqlFragment oldest;
  oldest.text("SELECT COALESCE(MIN(event_sequence), 0) FROM queue_messages WHERE payload = ''");
  const std::int64_t needed = island::query_int(tx_of(uow), oldest);
  // The oldest relayed first (the order of their feed positions), so the feed's floor is
  // the highest position deleted.
  SqlFragment pick;
  pick.text(
          "SELECT id, COALESCE(feed_position, 0) FROM outbox_events WHERE relayed_at IS NOT "
          "NULL AND relayed_at < ")
      .param(int_param(relayed_before));
  if (needed > 0) pick.text(" AND id < " + std::to_string(needed));
  pick.text(" ORDER BY relayed_at, id LIMIT " + std::to_string(limit));
  const auto pairs = island::query_ints(tx_of(uow), pick, 2);
  if (pairs.empty()) return 0;
  std::vector<std::uint64_t> ids;
  std::uint64_t through = 0;
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    ids.push_back(static_cast<std::uint64_t>(pairs[i]));
    through = std::max(through, static_cast<std::uint64_t>(pairs[i + 1]));
  }
  raise_feed_floor(uow, through);
  return static_cast<std::size_t>(
      island::execute(tx_of(uow), "DELETE FROM outbox_events WHERE id IN " + id_list(ids)));
}

std::size_t purge_processed_claims(UnitOfWork& uow, std::int64_t processed_before, int limit) {
  SqlFragment where;
  where.text("processed_at < ").param(int_param(processed_before));
  return delete_some(uow, "processed_messages", where, limit);
}

std::size_t purge_dead_letters(UnitOfWork& uow, std::int64_t dead_before, int limit) {
  SqlFragment where;
  where.text("dead_at < ").param(int_param(dead_before));
  return delete_some(uow, "dead_letters", where, limit);
}

std::vector<TableSize> table_sizes(UnitOfWork& uow) {
  std::vector<TableSize> out;
  for (const char* table :
       {"outbox_events", "queue_messages", "dead_letters", "processed_messages"}) {
    SqlFragment q;
    q.text(std::string("SELECT COUNT(*) FROM ") + table);
    out.push_back({table, island::query_int(tx_of(uow), q)});
  }
  return out;
}

}  // namespace banyan::messaging::detail
