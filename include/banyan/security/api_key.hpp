// API keys for service accounts: shown once, stored only as a hash, revocable. The Engine
// issues, lists and revokes them (AdminService); the store is internal (lib/security).
#pragma once

#include <optional>
#include <string>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::security {

struct BANYAN_EXPORT ApiKey {
  Id id = 0;
  Id user_id = 0;  // the (service account) user the key acts as
  std::string name;
  // The public part of the key ("bnk_" and 12 characters), safe to show and log.
  std::string prefix;
  Timestamp created_at{};
  // To the minute: a key used again within a minute is not written again.
  std::optional<Timestamp> last_used_at;
  std::optional<Timestamp> revoked_at;

  friend bool operator==(const ApiKey&, const ApiKey&) = default;
};

// A key as created: the only time its secret exists outside the caller's hands.
struct BANYAN_EXPORT IssuedApiKey {
  ApiKey key;
  std::string secret;  // "bnk_<prefix>_<43 random characters>"
};

}  // namespace banyan::security
