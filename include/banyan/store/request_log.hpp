// Responses kept by idempotency key, so that a client retrying a request (the same key)
// gets the first answer and nothing is done twice. Written in the same unit of work as
// the request's own writes: either both commit or neither does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

struct BANYAN_EXPORT StoredResponse {
  // What identifies the request the key was first used with (a hash of method, path and
  // body): the same key with another request is refused, not answered.
  std::string fingerprint{};
  int status = 0;
  std::string headers{};  // as the caller encoded them (the server: a JSON object)
  std::string body{};
  Timestamp created_at{};
};

// Obtain from Database::request_log(); valid while the Database lives.
class BANYAN_EXPORT RequestLog {
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
