// IssuerKeys: an OIDC issuer's signing keys as a verifier, fetched through its discovery
// document (or read from a JWKS file) and fetched again when they age or a token names a
// key they do not hold, at most once per refresh interval for the latter.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "banyan/security/authenticator.hpp"
#include "banyan/security/jwt_verifier.hpp"

namespace banyan::security::detail {

class IssuerKeys {
 public:
  using Clock = std::chrono::steady_clock;
  explicit IssuerKeys(OidcOptions options);

  // The verifier of the keys held now; loads them first when there are none (Unavailable
  // when they cannot be had) and, when they are older than key_max_age, tries to fetch
  // them again (keeping these on failure).
  std::shared_ptr<const JwtVerifier> current();
  // After `seen` found no key for a token's kid: the keys fetched again, or nothing when
  // another refresh happened less than key_refresh_interval ago or the fetch failed.
  // One thread fetches at a time; the others wait and use what it got.
  std::shared_ptr<const JwtVerifier> refresh(const std::shared_ptr<const JwtVerifier>& seen);

  KeyStats stats() const;

 private:
  std::shared_ptr<const JwtVerifier> snapshot() const;
  // Fetches and installs the keys; false (counted) when it cannot. Holds fetch_mutex_.
  bool fetch_locked();
  std::string fetch_jwks() const;

  const OidcOptions options_;
  const JwtPolicy policy_;
  mutable std::mutex mutex_;  // guards verifier_, fetched_at_, stats_
  std::shared_ptr<const JwtVerifier> verifier_;
  Clock::time_point fetched_at_{};
  KeyStats stats_;
  std::string last_failure_;          // why the last fetch failed; guarded by mutex_
  std::mutex fetch_mutex_;            // one fetch at a time
  Clock::time_point attempted_at_{};  // guarded by fetch_mutex_
  bool attempted_ = false;            // guarded by fetch_mutex_
};

}  // namespace banyan::security::detail
