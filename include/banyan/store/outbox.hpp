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

}  // namespace banyan::store
