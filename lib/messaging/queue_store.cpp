#include "messaging/queue_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "banyan/errors.hpp"
#include "messaging/event_feed_store.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/odb/island.hpp"
#include "store/outbox_writer.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::messaging::detail {

std::string id_list(const std::vector<std::uint64_t>& ids) {
  std::string out = "(";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + ")";
}

namespace {

using island::SqlFragment;
using store::detail::int_param;
using store::detail::text_param;

island::Transaction& tx_of(UnitOfWork& uow) { return store::Session(uow).tx(); }

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string join_types(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : "\n") + t;
  return out;
}

std::vector<std::string> split_types(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

QueueSpec spec_of(const odbrows::QueueSpecView& v) {
  QueueSpec s;
  s.name = v.name;
  s.event_types = split_types(v.event_types);
  s.retry.immediate_retries = static_cast<int>(v.immediate_retries);
  s.retry.max_attempts = static_cast<int>(v.max_attempts);
  s.retry.initial_delay = std::chrono::milliseconds(v.initial_delay_ms);
  s.retry.max_delay = std::chrono::milliseconds(v.max_delay_ms);
  s.retry.multiplier = v.multiplier;
  s.retry.jitter = v.jitter;
  s.lease = std::chrono::milliseconds(v.lease_ms);
  return s;
}

std::vector<odbrows::QueueSpecView> select_queues(UnitOfWork& uow,
                                                  const std::optional<std::string>& name) {
  SqlFragment q;
  q.text(
      "SELECT name, event_types, immediate_retries, max_attempts, initial_delay_ms, "
      "max_delay_ms, multiplier, jitter, lease_ms FROM message_queues");
  if (name) q.text(" WHERE name = ").param(text_param(*name));
  q.text(" ORDER BY name");
  return island::ViewStore<odbrows::QueueSpecView>::query(tx_of(uow), q);
}

}  // namespace

const char* insert_ignore(UnitOfWork& uow) { return store::Session(uow).insert_ignore(); }

std::int64_t now_us(const store::Database& db) { return store::detail::micros(db.clock().wall()); }
std::int64_t now_us(UnitOfWork& uow) { return store::detail::micros(store::Session(uow).now()); }

bool type_matches(const std::string& pattern, const std::string& type) noexcept {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.ends_with(".*"))
    return type.size() > pattern.size() - 1 &&
           type.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == type;
}

void validate_type_pattern(const std::string& pattern, const std::string& field) {
  // Event types have a dot inside ("contact.created"), so "x.y" and "x.*" are patterns
  // and "x", "x." or ".y" could never match one.
  const bool wild = pattern.ends_with(".*");
  const std::string body = wild ? pattern.substr(0, pattern.size() - 2) : pattern;
  const bool ok =
      pattern == "*" || (!body.empty() && body.size() <= 190 && body.front() != '.' &&
                         body.back() != '.' && (wild || body.find('.') != std::string::npos) &&
                         std::all_of(body.begin(), body.end(), valid_name_char));
  if (!ok)
    throw ValidationError(
        field + ": '" + pattern + "' is not an event type, a prefix ending in .* or *", field);
}

void validate(const QueueSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 190 ||
      !std::all_of(spec.name.begin(), spec.name.end(), valid_name_char)) {
    throw ValidationError("name: a queue name is 1 to 190 characters of A-Z a-z 0-9 . _ -", "name");
  }
  if (spec.event_types.empty())
    throw ValidationError("event_types: name at least one event type", "event_types");
  for (const auto& t : spec.event_types) validate_type_pattern(t, "event_types");
  spec.retry.validate();
  if (spec.lease < std::chrono::milliseconds(100) || spec.lease > std::chrono::hours(24))
    throw ValidationError("lease: must be between 100 ms and 24 hours", "lease");
}

std::string sanitize_error_text(const std::string& text) {
  std::string out = text.substr(0, 4000);
  // Keep what the database will store: valid UTF-8 only (MySQL refuses the rest).
  if (!store::detail::valid_utf8(out)) {
    for (char& c : out)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return out.empty() ? "(no message)" : out;
}

void upsert_queue(UnitOfWork& uow, const QueueSpec& spec) {
  validate(spec);
  auto& tx = tx_of(uow);
  SqlFragment del;
  del.text("DELETE FROM message_queues WHERE name = ").param(text_param(spec.name));
  island::execute(tx, del);
  SqlFragment ins;
  island::SqlParam multiplier, jitter;
  multiplier.kind = jitter.kind = island::SqlParam::Kind::kReal;
  multiplier.d = spec.retry.multiplier;
  jitter.d = spec.retry.jitter;
  ins.text(
         "INSERT INTO message_queues (name, event_types, immediate_retries, max_attempts, "
         "initial_delay_ms, max_delay_ms, multiplier, jitter, lease_ms, updated_at) VALUES (")
      .param(text_param(spec.name))
      .text(", ")
      .param(text_param(join_types(spec.event_types)))
      .text(", ")
      .param(int_param(spec.retry.immediate_retries))
      .text(", ")
      .param(int_param(spec.retry.max_attempts))
      .text(", ")
      .param(int_param(spec.retry.initial_delay.count()))
      .text(", ")
      .param(int_param(spec.retry.max_delay.count()))
      .text(", ")
      .param(multiplier)
      .text(", ")
      .param(jitter)
      .text(", ")
      .param(int_param(spec.lease.count()))
      .text(", ")
      .param(int_param(now_us(uow)))
      .text(")");
  island::execute(tx, ins);
}

std::vector<QueueSpec> load_queues(UnitOfWork& uow) {
  std::vector<QueueSpec> out;
  for (const auto& v : select_queues(uow, std::nullopt)) out.push_back(spec_of(v));
  return out;
}

std::optional<QueueSpec> find_queue(UnitOfWork& uow, const std::string& name) {
  auto rows = select_queues(uow, name);
  if (rows.empty()) return std::nullopt;
  return spec_of(rows.front());
}

std::optional<Lease> read_lease(UnitOfWork& uow, const std::string& name) {
  SqlFragment q;
  q.text(
       "SELECT holder, expires_at, work_endpoint, publish_endpoint FROM messaging_leases "
       "WHERE name = ")
      .param(text_param(name));
  auto rows = island::ViewStore<odbrows::LeaseView>::query(tx_of(uow), q);
  if (rows.empty()) return std::nullopt;
  return Lease{rows[0].holder, rows[0].expires_at, rows[0].work_endpoint, rows[0].publish_endpoint};
}

bool hold_lease(UnitOfWork& uow, const std::string& name, const std::string& holder,
                std::int64_t now, std::int64_t until, const std::string& work_endpoint,
                const std::string& publish_endpoint) {
  auto& tx = tx_of(uow);
  // The common case, one statement: we hold it and it has not run out.
  SqlFragment renew;
  renew.text("UPDATE messaging_leases SET expires_at = ")
      .param(int_param(until))
      .text(" WHERE name = ")
      .param(text_param(name))
      .text(" AND holder = ")
      .param(text_param(holder))
      .text(" AND expires_at >= ")
      .param(int_param(now))
      .text(" AND expires_at <> ")
      .param(int_param(until));
  if (island::execute(tx, renew) == 1) return true;
  SqlFragment ins;
  ins.text(insert_ignore(uow))
      .text(
          "messaging_leases (name, holder, expires_at, work_endpoint, "
          "publish_endpoint) VALUES (")
      .param(text_param(name))
      .text(", ")
      .param(text_param(holder))
      .text(", ")
      .param(int_param(until))
      .text(", ")
      .param(text_param(work_endpoint))
      .text(", ")
      .param(text_param(publish_endpoint))
      .text(")");
  if (island::execute(tx, ins) == 1) return true;
  SqlFragment upd;
  upd.text("UPDATE messaging_leases SET holder = ")
      .param(text_param(holder))
      .text(", expires_at = ")
      .param(int_param(until))
      .text(", work_endpoint = ")
      .param(text_param(work_endpoint))
      .text(", publish_endpoint = ")
      .param(text_param(publish_endpoint))
      .text(" WHERE name = ")
      .param(text_param(name))
      .text(" AND (holder = ")
      .param(text_param(holder))
      .text(" OR expires_at < ")
      .param(int_param(now))
      .text(")");
  island::execute(tx, upd);
  // MySQL counts only changed rows, so read the outcome back (the row is ours to read:
  // the update above locked it).
  auto lease = read_lease(uow, name);
  return lease && lease->holder == holder && lease->expires_at == until;
}

void release_lease(UnitOfWork& uow, const std::string& name, const std::string& holder) {
  SqlFragment upd;
  upd.text("UPDATE messaging_leases SET expires_at = 0 WHERE name = ")
      .param(text_param(name))
      .text(" AND holder = ")
      .param(text_param(holder));
  island::execute(tx_of(uow), upd);
}

std::vector<store::DomainEvent> pending_events(UnitOfWork& uow, int limit) {
  SqlFragment clause;
  clause.text("relayed_at IS NULL ORDER BY id LIMIT " + std::to_string(limit));
  std::vector<store::DomainEvent> out;
  for (const auto& row : island::RowStore<odbrows::OutboxEventRow>::select(tx_of(uow), clause))
    out.push_back(store::detail::event_of(row));
  return out;
}

std::uint64_t count_pending_events(UnitOfWork& uow) {
  SqlFragment q;
  q.text("SELECT COUNT(*) FROM outbox_events WHERE relayed_at IS NULL");
  return static_cast<std::uint64_t>(island::query_int(tx_of(uow), q));
}

std::map<std::string, std::vector<Routed>> route_events(
    UnitOfWork& uow, const std::vector<QueueSpec>& queues,
    const std::vector<store::DomainEvent>& events, std::int64_t now,
    const std::map<std::string, LeaseNow>& lease_now, const std::string& holder) {
  std::map<std::string, std::vector<Routed>> leased;
  if (events.empty()) return leased;
  auto& tx = tx_of(uow);
  // One statement per queue and state; the body stays in the outbox (payload '').
  auto insert = [&](const std::string& queue, const std::vector<std::uint64_t>& ids, bool lease,
                    std::int64_t until) {
    if (ids.empty()) return;
    SqlFragment ins;
    ins.text(insert_ignore(uow))
        .text("queue_messages (queue, ")
        .text(kEventColumns)
        .text(", state, attempts, available_at, enqueued_at, lease_expires_at, leased_to) SELECT ")
        .param(text_param(queue))
        .text(
            ", event_id, id, event_type, aggregate_type, aggregate_id, aggregate_version, "
            "occurred_at, COALESCE(actor_id, 0), '', ")
        .text(lease ? "1" : "0")
        .text(", 0, ")
        .param(int_param(now))
        .text(", ")
        .param(int_param(now))
        .text(", ")
        .param(int_param(lease ? until : 0))
        .text(", ")
        .param(text_param(lease ? holder : ""))
        .text(" FROM outbox_events WHERE id IN " + id_list(ids) + " ORDER BY id");
    island::execute(tx, ins);
  };
  for (const auto& queue : queues) {
    std::vector<std::uint64_t> ids;
    for (const auto& e : events) {
      if (std::any_of(queue.event_types.begin(), queue.event_types.end(),
                      [&](const std::string& p) { return type_matches(p, e.type); }))
        ids.push_back(e.sequence);
    }
    if (ids.empty()) continue;
    const auto room = lease_now.find(queue.name);
    const LeaseNow lease = room == lease_now.end() ? LeaseNow{} : room->second;
    const auto n =
        static_cast<std::ptrdiff_t>(std::min<std::size_t>(ids.size(), std::max(0, lease.count)));
    insert(queue.name, {ids.begin(), ids.begin() + n}, true, lease.until);
    insert(queue.name, {ids.begin() + n, ids.end()}, false, 0);
    if (n == 0) continue;
    // What this statement leased: `until` is this lease's alone. (An event routed before,
    // by a relay that died, was ignored above; it is leased from the ready ones.)
    SqlFragment q;
    q.text("SELECT id, event_sequence FROM queue_messages WHERE state = 1 AND lease_expires_at = ")
        .param(int_param(lease.until))
        .text(" AND leased_to = ")
        .param(text_param(holder))
        .text(" AND queue = ")
        .param(text_param(queue.name))
        .text(" ORDER BY id");
    const auto pairs = island::query_ints(tx, q, 2);
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2)
      leased[queue.name].push_back(
          {static_cast<std::uint64_t>(pairs[i]), static_cast<std::uint64_t>(pairs[i + 1])});
  }
  std::vector<std::uint64_t> all;
  all.reserve(events.size());
  for (const auto& e : events) all.push_back(e.sequence);
  // Marked relayed and given their feed positions (in id order, after every earlier one)
  // in one statement.
  const std::uint64_t base = reserve_feed_positions(uow, all.front(), all.back());
  SqlFragment mark;
  mark.text("UPDATE outbox_events SET relayed_at = ")
      .param(int_param(now))
      .text(", feed_position = ")
      .param(int_param(static_cast<std::int64_t>(base)))
      .text(" + (id - ")
      .param(int_param(static_cast<std::int64_t>(all.front())))
      .text(") WHERE id IN " + id_list(all));
  island::execute(tx, mark);
  return leased;
}

namespace {
// A queue message's event columns, its body taken from the outbox when it was not copied.
constexpr const char* kQueueEventSelect =
    "q.event_id, q.event_sequence, q.event_type, q.aggregate_type, q.aggregate_id, "
    "q.aggregate_version, q.occurred_at, q.actor_id, "
    "CASE WHEN q.payload = '' THEN COALESCE(o.payload, '') ELSE q.payload END";
constexpr const char* kQueueFrom =
    " FROM queue_messages q LEFT JOIN outbox_events o ON q.payload = '' AND o.id = "
    "q.event_sequence";

std::vector<odbrows::QueueMessageView> select_messages(UnitOfWork& uow, const SqlFragment& where) {
  SqlFragment q;
  q.text("SELECT q.id, q.queue, ")
      .text(kQueueEventSelect)
      .text(", q.attempts, q.first_failed_at")
      .text(kQueueFrom)
      .text(" WHERE ")
      .append(where);
  return island::ViewStore<odbrows::QueueMessageView>::query(tx_of(uow), q);
}
}  // namespace

std::vector<QueueBacklog> backlog_by_queue(UnitOfWork& uow, const std::string& rows,
                                           const std::string& time_column) {
  SqlFragment q;
  const std::string from = rows.substr(0, rows.find(' '));
  const std::string where = rows.size() > from.size() ? rows.substr(from.size()) : std::string();
  q.text("SELECT queue, COUNT(*), MIN(" + time_column + ") FROM " + from + where +
         " GROUP BY queue ORDER BY queue");
  const std::int64_t now = now_us(uow);
  std::vector<QueueBacklog> out;
  for (const auto& v : island::ViewStore<odbrows::QueueDepthView>::query(tx_of(uow), q))
    out.push_back(
        {v.queue, v.depth, std::chrono::microseconds(std::max<std::int64_t>(0, now - v.oldest))});
  return out;
}

std::vector<odbrows::QueueMessageView> ready_messages(UnitOfWork& uow, const std::string& queue,
                                                      std::int64_t now, int limit) {
  SqlFragment where;
  where.text("q.queue = ")
      .param(text_param(queue))
      .text(" AND q.state = 0 AND q.available_at <= ")
      .param(int_param(now))
      .text(" ORDER BY q.available_at, q.id LIMIT " + std::to_string(limit));
  return select_messages(uow, where);
}

std::optional<odbrows::QueueMessageView> queue_message(UnitOfWork& uow, std::uint64_t id) {
  SqlFragment where;
  where.text("q.id = " + std::to_string(id));
  auto rows = select_messages(uow, where);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<std::uint64_t> lease_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids,
                                          std::int64_t until, const std::string& leased_to) {
  if (ids.empty()) return {};
  SqlFragment upd;
  upd.text("UPDATE queue_messages SET state = 1, lease_expires_at = ")
      .param(int_param(until))
      .text(", leased_to = ")
      .param(text_param(leased_to))
      .text(" WHERE state = 0 AND id IN " + id_list(ids));
  if (island::execute(tx_of(uow), upd) == ids.size()) return ids;
  // Someone else changed some of them (a replay racing, a former relay): keep only ours.
  SqlFragment q;
  q.text("SELECT id FROM queue_messages WHERE state = 1 AND leased_to = ")
      .param(text_param(leased_to))
      .text(" AND lease_expires_at = ")
      .param(int_param(until))
      .text(" AND id IN " + id_list(ids));
  return island::query_ids(tx_of(uow), q);
}

void ack_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids) {
  if (ids.empty()) return;
  island::execute(tx_of(uow), "DELETE FROM queue_messages WHERE id IN " + id_list(ids));
}

void release_messages(UnitOfWork& uow, const std::vector<std::uint64_t>& ids, std::int64_t now) {
  if (ids.empty()) return;
  SqlFragment upd;
  upd.text("UPDATE queue_messages SET state = 0, leased_to = '', available_at = ")
      .param(int_param(now))
      .text(" WHERE state = 1 AND id IN " + id_list(ids));
  island::execute(tx_of(uow), upd);
}

void dead_letter(UnitOfWork& uow, std::uint64_t id, int attempts, ErrorClass error_class,
                 const std::string& error, const std::string& consumer, std::int64_t now) {
  auto& tx = tx_of(uow);
  SqlFragment ins;
  ins.text("INSERT INTO dead_letters (queue, ")
      .text(kEventColumns)
      .text(
          ", attempts, first_failed_at, last_failed_at, last_error, error_class, consumer, "
          "dead_at) "
          "SELECT q.queue, ")
      .text(kQueueEventSelect)
      .text(", ")
      .param(int_param(attempts))
      .text(", CASE WHEN q.first_failed_at = 0 THEN ")
      .param(int_param(now))
      .text(" ELSE q.first_failed_at END, ")
      .param(int_param(now))
      .text(", ")
      .param(text_param(sanitize_error_text(error)))
      .text(", ")
      .param(text_param(to_string(error_class)))
      .text(", ")
      .param(text_param(consumer))
      .text(", ")
      .param(int_param(now))
      .text(kQueueFrom)
      .text(" WHERE q.id = " + std::to_string(id));
  island::execute(tx, ins);
  island::execute(tx, "DELETE FROM queue_messages WHERE id = " + std::to_string(id));
}

FailureOutcome record_failure(UnitOfWork& uow, const Failure& failure, const QueueSpec& queue,
                              std::int64_t now, double unit) {
  auto row = queue_message(uow, failure.id);
  if (!row) return FailureOutcome::kGone;  // acked meanwhile by an earlier lease holder
  const int attempts = static_cast<int>(row->attempts) + std::max(failure.tries, 1);
  if (failure.error_class == ErrorClass::kPermanent || attempts >= queue.retry.max_attempts) {
    dead_letter(uow, failure.id, attempts, failure.error_class, failure.error, failure.consumer,
                now);
    return FailureOutcome::kDeadLettered;
  }
  // Delayed rounds so far, counting this one: the first delivery had its immediate retries.
  const int round = std::max(1, attempts - (1 + queue.retry.immediate_retries) + 1);
  const auto delay = queue.retry.delay_after(round, unit);
  SqlFragment upd;
  upd.text("UPDATE queue_messages SET state = 0, leased_to = '', attempts = ")
      .param(int_param(attempts))
      .text(", available_at = ")
      .param(int_param(now + std::chrono::microseconds(delay).count()))
      .text(", first_failed_at = CASE WHEN first_failed_at = 0 THEN ")
      .param(int_param(now))
      .text(" ELSE first_failed_at END WHERE id = " + std::to_string(failure.id));
  island::execute(tx_of(uow), upd);
  return FailureOutcome::kRetry;
}

std::vector<std::uint64_t> expired_leases(UnitOfWork& uow, std::int64_t now, int limit) {
  SqlFragment q;
  q.text("SELECT id FROM queue_messages WHERE state = 1 AND lease_expires_at < ")
      .param(int_param(now))
      .text(" ORDER BY lease_expires_at, id LIMIT " + std::to_string(limit));
  return island::query_ids(tx_of(uow), q);
}

void enqueue(UnitOfWork& uow, const std::string& queue, const store::DomainEvent& m,
             std::int64_t available_at) {
  SqlFragment ins;
  ins.text("INSERT INTO queue_messages (queue, ")
      .text(kEventColumns)
      .text(", state, attempts, available_at, enqueued_at) VALUES (")
      .param(text_param(queue))
      .text(", ")
      .param(text_param(m.id))
      .text(", ")
      .param(int_param(static_cast<std::int64_t>(m.sequence)))
      .text(", ")
      .param(text_param(m.type))
      .text(", ")
      .param(text_param(std::string(to_string(m.aggregate_type))))
      .text(", ")
      .param(int_param(static_cast<std::int64_t>(m.aggregate_id)))
      .text(", ")
      .param(int_param(static_cast<std::int64_t>(m.aggregate_version)))
      .text(", ")
      .param(int_param(store::detail::micros(m.occurred_at)))
      .text(", ")
      .param(int_param(static_cast<std::int64_t>(m.actor.value_or(0))))
      .text(", ")
      .param(text_param(m.payload))
      .text(", 0, 0, ")
      .param(int_param(available_at))
      .text(", ")
      .param(int_param(now_us(uow)))
      .text(")");
  island::execute(tx_of(uow), ins);
}

namespace {
// Queue messages and dead letters carry the same event columns.
template <typename View>
store::DomainEvent event_of_view(const View& row) {
  store::DomainEvent e;
  e.sequence = row.event_sequence;
  e.id = row.event_id;
  e.type = row.event_type;
  e.aggregate_type = parse_object_type(row.aggregate_type);
  e.aggregate_id = row.aggregate_id;
  e.aggregate_version = row.aggregate_version;
  e.occurred_at = store::detail::timestamp(row.occurred_at);
  if (row.actor_id != 0) e.actor = row.actor_id;
  e.payload = row.payload;
  return e;
}
}  // namespace

store::DomainEvent event_of(const odbrows::QueueMessageView& row) { return event_of_view(row); }
store::DomainEvent event_of(const odbrows::DeadLetterView& row) { return event_of_view(row); }

}  // namespace banyan::messaging::detail
