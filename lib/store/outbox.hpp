// Outbox: appends domain events and reads them back for the relay.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/outbox.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::outbox(); valid while the Database lives.
class Outbox {
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

  // An event's payload with the sealed values of its record's type opened (sensitive
  // standard fields, custom values), as a record read shows them. Unavailable when one is
  // sealed with a key the database does not hold.
  std::string opened_payload(const DomainEvent& event) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
