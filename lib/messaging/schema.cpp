// The messaging layer's tables: work queues, their messages, dead letters, consumers'
// claims and the relay's lease. Their rows are in odb/rows.hxx.
#include "messaging/schema.hpp"

#include <string>

namespace banyan::messaging::detail {
namespace {

// Version 7: the messaging tables. Absent values are 0 or '' rather than NULL, so the
// island's views of them (odb/rows.hxx) stay plain values.
void create_messaging_tables(island::Transaction& tx, island::Backend backend) {
  const store::detail::ColumnTypes c(backend);
  const std::string &pk = c.pk, &id = c.id, &time = c.time, &key = c.key, &text = c.text;
  const std::string long_text = "TEXT";
  const std::string &payload = c.payload, &engine = c.engine;
  // The event columns a queue message and a dead letter carry (a copy of the outbox row).
  const std::string event = "event_id " + key + " NOT NULL, event_sequence " + id +
                            " NOT NULL, event_type " + text + " NOT NULL, aggregate_type " + text +
                            " NOT NULL, aggregate_id " + id + " NOT NULL, aggregate_version " + id +
                            " NOT NULL, occurred_at " + time + " NOT NULL, actor_id " + id +
                            " NOT NULL DEFAULT 0, payload " + payload + " NOT NULL";
  island::execute(tx, "CREATE TABLE message_queues (name " + key +
                          " NOT NULL PRIMARY KEY, event_types " + long_text +
                          " NOT NULL, immediate_retries INTEGER NOT NULL, max_attempts INTEGER "
                          "NOT NULL, initial_delay_ms " +
                          time + " NOT NULL, max_delay_ms " + time +
                          " NOT NULL, multiplier DOUBLE PRECISION NOT NULL, jitter DOUBLE "
                          "PRECISION NOT NULL, lease_ms " +
                          time + " NOT NULL, updated_at " + time + " NOT NULL)" + engine);
  // state: 0 ready (deliverable from available_at), 1 leased (until lease_expires_at).
  // payload '': the body is the outbox row event_sequence. The relay routes events that
  // way, so routing writes a short row and never copies an event's body; messages put in
  // directly (saga steps, replays) carry their own.
  island::execute(
      tx, "CREATE TABLE queue_messages (" + pk + ", queue " + key + " NOT NULL, " + event +
              ", state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL "
              "DEFAULT 0, available_at " +
              time + " NOT NULL, lease_expires_at " + time + " NOT NULL DEFAULT 0, leased_to " +
              text + " NOT NULL DEFAULT '', first_failed_at " + time +
              " NOT NULL DEFAULT 0, enqueued_at " + time + " NOT NULL)" + engine);
  island::execute(tx,
                  "CREATE UNIQUE INDEX queue_messages_event_uq ON queue_messages (queue, "
                  "event_id)");
  island::execute(tx,
                  "CREATE INDEX queue_messages_ready_ix ON queue_messages (queue, state, "
                  "available_at, id)");
  island::execute(tx,
                  "CREATE INDEX queue_messages_lease_ix ON queue_messages (state, "
                  "lease_expires_at)");
  island::execute(tx, "CREATE TABLE dead_letters (" + pk + ", queue " + key + " NOT NULL, " +
                          event + ", attempts INTEGER NOT NULL, first_failed_at " + time +
                          " NOT NULL, last_failed_at " + time + " NOT NULL, last_error " +
                          long_text + " NOT NULL, error_class " + text + " NOT NULL, consumer " +
                          text + " NOT NULL, dead_at " + time + " NOT NULL, replayed_at " + time +
                          " NOT NULL DEFAULT 0, replay_count INTEGER NOT NULL DEFAULT 0)" + engine);
  island::execute(tx,
                  "CREATE INDEX dead_letters_queue_ix ON dead_letters (queue, replayed_at, "
                  "dead_at)");
  island::execute(tx, "CREATE INDEX dead_letters_event_ix ON dead_letters (event_id)");
  island::execute(tx, "CREATE TABLE processed_messages (consumer " + key +
                          " NOT NULL, message_id " + key + " NOT NULL, processed_at " + time +
                          " NOT NULL, PRIMARY KEY (consumer, message_id))" + engine);
  island::execute(tx, "CREATE TABLE messaging_leases (name " + key +
                          " NOT NULL PRIMARY KEY, holder " + text + " NOT NULL, expires_at " +
                          time + " NOT NULL, work_endpoint " + long_text +
                          " NOT NULL, publish_endpoint " + long_text + " NOT NULL)" + engine);
}

// Version 17: retention (messaging::RetentionPolicy) deletes claims and dead letters by
// age, a batch at a time: each batch finds its rows by index.
void index_retention(island::Transaction& tx, island::Backend) {
  island::execute(tx, "CREATE INDEX processed_messages_at_ix ON processed_messages (processed_at)");
  island::execute(tx, "CREATE INDEX dead_letters_dead_at_ix ON dead_letters (dead_at)");
}

// Version 19: the event feed (Engine::events). The relay gives each event it relays the
// next position (event_feed.next_position), so the feed reads in the order commits became
// visible, which on MySQL the sequence is not; retention notes how far it deleted
// (purged_through) so an older cursor is known to be expired. Events relayed before keep
// their sequence as their position.
void add_event_feed(island::Transaction& tx, island::Backend backend) {
  const store::detail::ColumnTypes c(backend);
  island::execute(tx, "ALTER TABLE outbox_events ADD COLUMN feed_position " + c.id + " NULL");
  island::execute(tx, "CREATE INDEX outbox_events_feed_ix ON outbox_events (feed_position)");
  island::execute(tx, "CREATE TABLE event_feed (id INTEGER NOT NULL PRIMARY KEY, next_position " +
                          c.id + " NOT NULL, purged_through " + c.id + " NOT NULL)" + c.engine);
  island::execute(tx, "UPDATE outbox_events SET feed_position = id WHERE relayed_at IS NOT NULL");
  island::execute(tx,
                  "INSERT INTO event_feed (id, next_position, purged_through) SELECT 1, "
                  "COALESCE(MAX(id), 0) + 1, 0 FROM outbox_events");
}

}  // namespace

store::detail::SchemaPart schema_part() {
  store::detail::SchemaPart part;
  part.owner = "messaging";
  part.create = [](island::Transaction& tx, island::Backend backend) {
    create_messaging_tables(tx, backend);
    index_retention(tx, backend);
    add_event_feed(tx, backend);
  };
  // Version 7 also gave the store's outbox its relay column (store/schema.cpp).
  part.migrations = {{7, create_messaging_tables}, {17, index_retention}, {19, add_event_feed}};
  return part;
}

}  // namespace banyan::messaging::detail
