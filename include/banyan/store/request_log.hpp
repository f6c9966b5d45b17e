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

struct BANYAN_EXPORT StoredResponse {
  // What identifies the request the key was first used with (a hash of method, path and
  // body): the same key with another request is refused, not answered.
  std::string fingerprint{};
  int status = 0;
  std::string headers{};  // as the caller encoded them (the server: a JSON object)
  std::string body{};
  Timestamp created_at{};
};

}  // namespace banyan::store
