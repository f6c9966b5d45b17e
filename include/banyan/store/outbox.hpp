// The transactional outbox: every write of the library appends its domain event here in
// the same transaction, so there is no event without its write and no write without its
// event. Writing it is the store's job (it is part of each write); publishing it is the
// messaging layer's (the relay reads it from here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// What happened to a record.
struct BANYAN_EXPORT DomainEvent {
  // The outbox's sequence number: increases with every event appended.
  std::uint64_t sequence = 0;
  // A unique id (32 hex digits), for consumers that must not apply an event twice.
  std::string id;
  // "<object>.<what>": contact.created, deal.updated, deal.stage_changed, lead.converted,
  // company.merged, contact.archived, contact.restored, contact.deleted, ...
  std::string type;
  ObjectType aggregate_type = ObjectType::kContact;
  Id aggregate_id = 0;
  // The record's version after the change (0 for a deletion).
  std::uint64_t aggregate_version = 0;
  Timestamp occurred_at{};
  std::optional<Id> actor;
  // JSON: the record as it is after the change (standard fields by column name, custom
  // values under "custom" by field name), or the facts of the event (a stage change, a
  // conversion, a merge, a deletion).
  std::string payload;

  friend bool operator==(const DomainEvent&, const DomainEvent&) = default;
};

// Obtain from Database::outbox(); valid while the Database lives.
class BANYAN_EXPORT Outbox {
 public:
  explicit Outbox(detail::DatabaseState* db) noexcept : db_(db) {}

  // Events with a sequence above `after`, in sequence order, at most `limit` (1..10000;
  // else ValidationError("limit")).
  std::vector<DomainEvent> read(UnitOfWork& uow, std::uint64_t after = 0,
                                std::size_t limit = 1000) const;

  // Appends an application's own event in the caller's transaction: it commits, and is
  // relayed in order with the library's events, or it rolls back with the caller's
  // writes. `type` is "<object>.<what>": 3 to 190 characters of A-Z a-z 0-9 . _ - with a
  // dot inside (else ValidationError("type")); `payload` is a JSON object of at most
  // 1 MiB, stored as given (else ValidationError("payload")). The actor is the unit of
  // work's. Returns the event as stored.
  DomainEvent append(UnitOfWork& uow, const std::string& type, ObjectRef aggregate,
                     const std::string& payload, std::uint64_t aggregate_version = 0) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
