#include "banyan/messaging/dead_letter_store.hpp"

#include "banyan/errors.hpp"
#include "messaging/queue_store.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::messaging {
namespace {

using island::SqlFragment;
using store::detail::int_param;
using store::detail::text_param;

const std::string kColumns = std::string("id, queue, ") + detail::kEventColumns +
                             ", attempts, first_failed_at, last_failed_at, last_error, "
                             "error_class, consumer, dead_at, replayed_at, replay_count";

// Escapes LIKE wildcards so error_contains matches its text literally.
std::string like_contains(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out + "%";
}

SqlFragment where(store::UnitOfWork& uow, const DeadLetterFilter& f) {
  SqlFragment w;
  w.text("1 = 1");
  if (f.queue) w.text(" AND queue = ").param(text_param(*f.queue));
  if (f.event_type) w.text(" AND event_type = ").param(text_param(*f.event_type));
  if (f.error_contains)
    w.text(" AND last_error LIKE ")
        .param(text_param(like_contains(*f.error_contains)))
        .text(" ESCAPE '!'");
  const std::int64_t now = detail::now_us(uow);
  if (f.older_than) w.text(" AND dead_at <= ").param(int_param(now - f.older_than->count()));
  if (f.newer_than) w.text(" AND dead_at >= ").param(int_param(now - f.newer_than->count()));
  if (!f.include_replayed) w.text(" AND replayed_at = 0");
  return w;
}

DeadLetter letter_of(const odbrows::DeadLetterView& v) {
  DeadLetter d;
  d.id = v.id;
  d.queue = v.queue;
  d.event = detail::event_of(v);
  d.attempts = static_cast<int>(v.attempts);
  d.first_failed_at = store::detail::timestamp(v.first_failed_at);
  d.last_failed_at = store::detail::timestamp(v.last_failed_at);
  d.last_error = v.last_error;
  d.error_class = v.error_class == "permanent" ? ErrorClass::kPermanent : ErrorClass::kTransient;
  d.consumer = v.consumer;
  d.dead_at = store::detail::timestamp(v.dead_at);
  if (v.replayed_at != 0) d.replayed_at = store::detail::timestamp(v.replayed_at);
  d.replays = static_cast<int>(v.replay_count);
  return d;
}

std::vector<DeadLetter> select(store::UnitOfWork& uow, const SqlFragment& rest) {
  SqlFragment q;
  q.text("SELECT " + kColumns + " FROM dead_letters WHERE ").append(rest);
  std::vector<DeadLetter> out;
  for (const auto& v :
       island::ViewStore<odbrows::DeadLetterView>::query(store::Session(uow).tx(), q))
    out.push_back(letter_of(v));
  return out;
}

// Replays one dead letter as the guard decides: the refusal's reason, or nothing once it
// is replayed. Conflict when it was replayed already.
std::optional<std::string> replay_one(store::UnitOfWork& uow, const DeadLetter& letter,
                                      const ReplayGuard& guard) {
  auto& tx = store::Session(uow).tx();
  const std::uint64_t id = letter.id;
  if (letter.replayed_at)
    throw Conflict("dead letter " + std::to_string(id) + " was replayed already", "id");
  const ReplayDecision decision = guard ? guard(uow, letter) : ReplayDecision{};
  if (decision.kind == ReplayDecision::Kind::kRefuse) return decision.reason;
  const std::int64_t now = detail::now_us(uow);
  SqlFragment mark;
  mark.text("UPDATE dead_letters SET replayed_at = ")
      .param(int_param(now))
      .text(", replay_count = replay_count + 1 WHERE replayed_at = 0 AND id = " +
            std::to_string(id));
  if (island::execute(tx, mark) != 1)
    throw Conflict("dead letter " + std::to_string(id) + " was replayed already", "id");
  if (decision.kind == ReplayDecision::Kind::kHandled) return std::nullopt;
  // A copy already back in the queue (replayed through another entry) stays as it is.
  SqlFragment ins;
  ins.text(detail::insert_ignore(uow))
      .text("queue_messages (queue, ")
      .text(detail::kEventColumns)
      .text(", state, attempts, available_at, enqueued_at) SELECT queue, ")
      .text(detail::kEventColumns)
      .text(", 0, 0, ")
      .param(int_param(now))
      .text(", ")
      .param(int_param(now))
      .text(" FROM dead_letters WHERE id = " + std::to_string(id));
  island::execute(tx, ins);
  return std::nullopt;
}

void check_limit(std::size_t limit) {
  if (limit < 1 || limit > 10000)
    throw ValidationError("limit: must be between 1 and 10000", "limit");
}

}  // namespace

DeadLetterStore detail::dead_letter_store(store::Database& db, ReplayGuard guard) {
  return {db, std::move(guard)};
}

std::vector<DeadLetter> DeadLetterStore::list(const DeadLetterFilter& filter, std::size_t limit,
                                              std::optional<std::uint64_t> before_id) const {
  check_limit(limit);
  auto uow = db_->begin(std::nullopt, store::Access::kReadOnly);
  SqlFragment rest = where(uow, filter);
  if (before_id) rest.text(" AND id < " + std::to_string(*before_id));
  rest.text(" ORDER BY id DESC LIMIT " + std::to_string(limit));
  return select(uow, rest);
}

DeadLetter DeadLetterStore::get(std::uint64_t id) const {
  auto uow = db_->begin(std::nullopt, store::Access::kReadOnly);
  SqlFragment rest;
  rest.text("id = " + std::to_string(id));
  auto rows = select(uow, rest);
  if (rows.empty()) throw NotFound("no dead letter " + std::to_string(id), "id");
  return std::move(rows.front());
}

std::vector<DeadLetter> DeadLetterStore::history(const std::string& queue,
                                                 const std::string& event_id) const {
  auto uow = db_->begin(std::nullopt, store::Access::kReadOnly);
  SqlFragment rest;
  rest.text("queue = ")
      .param(text_param(queue))
      .text(" AND event_id = ")
      .param(text_param(event_id))
      .text(" ORDER BY id");
  return select(uow, rest);
}

void DeadLetterStore::replay(std::uint64_t id) {
  db_->transact([&](store::UnitOfWork& uow) {
    SqlFragment rest;
    rest.text("id = " + std::to_string(id));
    const auto rows = select(uow, rest);
    if (rows.empty()) throw NotFound("no dead letter " + std::to_string(id), "id");
    if (auto refused = replay_one(uow, rows.front(), guard_))
      throw Conflict("dead letter " + std::to_string(id) + " cannot be replayed: " + *refused,
                     "id");
  });
}

ReplayReport DeadLetterStore::replay(const DeadLetterFilter& filter) {
  DeadLetterFilter active = filter;
  active.include_replayed = false;
  return db_->transact([&](store::UnitOfWork& uow) {
    SqlFragment rest = where(uow, active);
    rest.text(" ORDER BY id");
    ReplayReport report;
    for (const auto& letter : select(uow, rest)) {
      if (auto refused = replay_one(uow, letter, guard_))
        report.refused.push_back({letter.id, *refused});
      else
        ++report.replayed;
    }
    return report;
  });
}

bool DeadLetterStore::purge(std::uint64_t id) {
  return db_->transact([&](store::UnitOfWork& uow) {
    return island::execute(store::Session(uow).tx(),
                           "DELETE FROM dead_letters WHERE id = " + std::to_string(id)) == 1;
  });
}

std::size_t DeadLetterStore::purge(const DeadLetterFilter& filter) {
  return db_->transact([&](store::UnitOfWork& uow) {
    SqlFragment del;
    del.text("DELETE FROM dead_letters WHERE ").append(where(uow, filter));
    return static_cast<std::size_t>(island::execute(store::Session(uow).tx(), del));
  });
}

std::size_t DeadLetterStore::purge_older_than(std::chrono::microseconds age) {
  if (age.count() < 0) throw ValidationError("age: must not be negative", "age");
  DeadLetterFilter f;
  f.older_than = age;
  f.include_replayed = true;
  return purge(f);
}

std::vector<DeadLetterQueueStats> DeadLetterStore::stats() const {
  auto uow = db_->begin(std::nullopt, store::Access::kReadOnly);
  return detail::backlog_by_queue(uow, "dead_letters WHERE replayed_at = 0", "dead_at");
}

}  // namespace banyan::messaging
