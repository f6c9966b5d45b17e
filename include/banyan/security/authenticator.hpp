// Authenticator: turns a bearer credential into the principal it stands for.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "banyan/export.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/database.hpp"

namespace banyan::security {

// Bearer JWTs from one OAuth2/OIDC issuer (RS256 or ES256).
struct BANYAN_EXPORT OidcOptions {
  // The tokens' "iss", exactly: an https:// URL. Its keys come from the "jwks_uri" of
  // its discovery document (issuer + "/.well-known/openid-configuration"), which must be
  // on the issuer's origin, unless jwks_file is set.
  std::string issuer;
  // Lets the issuer be plain http:// when its host is a loopback address (a development
  // or test issuer on this machine). Never a remote one.
  bool allow_http_loopback = false;
  std::string audience;                 // the tokens' "aud" must hold it
  std::string jwks_file;                // a JWKS document on disk instead, read again like a fetch
  std::chrono::seconds clock_skew{60};  // allowed for exp, nbf and iat
  // Keys older than this are fetched again (the old ones serve if that fails).
  std::chrono::seconds key_max_age{3600};
  // A token naming a key not held fetches the keys again (rotation), at most once per
  // this; within it such tokens are refused.
  std::chrono::seconds key_refresh_interval{30};
  std::chrono::milliseconds fetch_timeout{3000};
};

struct BANYAN_EXPORT KeyStats {
  std::uint64_t refreshes = 0;         // key sets fetched
  std::uint64_t refresh_failures = 0;  // fetches that failed
};

struct BANYAN_EXPORT AuthenticatorOptions {
  // How long a resolved credential serves before the database is asked again: a revoked
  // key, a deactivated user or a changed role takes effect within this time.
  std::chrono::milliseconds cache_ttl{5000};
  // At most this many credentials are remembered; past it the cache starts afresh.
  std::size_t cache_size = 10000;
  // Set: bearer JWTs from this issuer are accepted too, as the user linked to the
  // token's issuer and subject (Directory::link_identity).
  std::optional<OidcOptions> oidc;
};

// Thread-safe. Does not own the Database, which must outlive it. Accepts API keys
// (ApiKeyStore; a key acts as its user, as a service account) and, when configured, JWTs
// of the OIDC issuer (a client-credentials token, whose subject is its client, acts as a
// service account; any other as a user).
class BANYAN_EXPORT Authenticator {
 public:
  explicit Authenticator(store::Database& db, AuthenticatorOptions options = {});
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // The principal `credential` (the text after "Bearer ") stands for, or nothing when it
  // is not a valid credential: unknown, revoked, malformed, expired, for another
  // audience or issuer, signed by a key the issuer does not have, linked to no user, or
  // its user deactivated; then `why` (if given) says which, for logs. Notes an API key's
  // use (to the minute). Throws Unavailable or PoolExhausted when the database or the
  // issuer's keys cannot be had, so an outage is not mistaken for a bad credential.
  [[nodiscard]] std::optional<Principal> authenticate(std::string_view credential,
                                                      std::string* why = nullptr);

  // The OIDC issuer's key fetches so far (zero without OIDC).
  KeyStats key_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace banyan::security
