// Authenticator: turns a bearer credential into the principal it stands for.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "banyan/export.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/database.hpp"

namespace banyan::security {

struct BANYAN_EXPORT AuthenticatorOptions {
  // How long a resolved credential serves before the database is asked again: a revoked
  // key, a deactivated user or a changed role takes effect within this time.
  std::chrono::milliseconds cache_ttl{5000};
  // At most this many credentials are remembered; past it the cache starts afresh.
  std::size_t cache_size = 10000;
};

// Thread-safe. Does not own the Database, which must outlive it. API keys
// (ApiKeyStore) are what it accepts; a key acts as its user, as a service account.
class BANYAN_EXPORT Authenticator {
 public:
  explicit Authenticator(store::Database& db, AuthenticatorOptions options = {});
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // The principal `credential` (the text after "Bearer ") stands for, or nothing when it
  // is not a valid credential: unknown, revoked, malformed, or its user deactivated.
  // Notes the key's use (to the minute). Throws Unavailable or PoolExhausted when the
  // database cannot answer, so an outage is not mistaken for a bad credential.
  std::optional<Principal> authenticate(std::string_view credential);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace banyan::security
