// RequestLog: responses kept by idempotency key.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/request_log.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::request_log(); valid while the Database lives.
class RequestLog {
 public:
  explicit RequestLog(detail::DatabaseState* db) noexcept : db_(db) {}

  // Keys are 1 to 255 printable ASCII characters (else ValidationError("key")).
  std::optional<StoredResponse> find(UnitOfWork& uow, const std::string& key) const;
  // Conflict when the key was stored meanwhile (a concurrent request with it committed
  // first): roll back and find() it.
  void save(UnitOfWork& uow, const std::string& key, const StoredResponse& response) const;
  // Forgets responses stored before `cutoff`; returns how many.
  std::uint64_t purge_older_than(UnitOfWork& uow, Timestamp cutoff) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
