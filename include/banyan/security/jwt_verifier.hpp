// JwtVerifier: checks OAuth2/OIDC bearer tokens (JWS compact JWTs) against a key set.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::security {

// The public keys of an issuer, from its JWKS document (RFC 7517): RSA ("kty": "RSA",
// n and e) and P-256 EC ("kty": "EC", "crv": "P-256", x and y) signing keys with a
// "kid". Keys of other types or uses are skipped. Immutable; share it freely.
class BANYAN_EXPORT JsonWebKeySet {
 public:
  // ValidationError when the text is not a JWKS document or a usable key is malformed.
  static std::shared_ptr<const JsonWebKeySet> parse(std::string_view jwks_json);
  ~JsonWebKeySet();
  JsonWebKeySet(const JsonWebKeySet&) = delete;
  JsonWebKeySet& operator=(const JsonWebKeySet&) = delete;

  bool has(std::string_view kid) const;
  std::size_t size() const;

  struct Impl;

 private:
  friend class JwtVerifier;
  explicit JsonWebKeySet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct BANYAN_EXPORT JwtPolicy {
  std::string issuer;                   // "iss" must equal it
  std::string audience;                 // "aud" (a string or a list) must hold it
  std::chrono::seconds clock_skew{60};  // allowed for exp, nbf and iat
  // Claims that must be present besides iss, aud and exp.
  std::vector<std::string> required_claims{"sub"};
  std::size_t max_token_bytes = 8192;
};

struct BANYAN_EXPORT VerifiedToken {
  std::string subject;
  std::string issuer;
  std::string key_id;
  std::string algorithm;  // RS256 or ES256
  Timestamp expires_at{};
  // The token's other string claims ("client_id", "scope", "email", ...).
  std::map<std::string, std::string> claims;
};

struct BANYAN_EXPORT TokenCheck {
  std::optional<VerifiedToken> token;  // set when valid
  std::string reason;                  // why not, for logs (never for the client)
  bool unknown_key = false;            // the kid is not in the key set (time to refresh it)
};

// Thread-safe (immutable). Accepts RS256 and ES256 only: "none", HMAC ("HS256": the
// classic key-confusion attack against RSA keys) and anything else are refused, as is a
// kid the key set does not hold, a key of another type than the algorithm's, a bad
// signature, a wrong issuer or audience, an expired or not-yet-valid token, a missing
// required claim, and anything malformed or oversized.
class BANYAN_EXPORT JwtVerifier {
 public:
  JwtVerifier(JwtPolicy policy, std::shared_ptr<const JsonWebKeySet> keys);

  TokenCheck verify(std::string_view token, Timestamp now) const;
  const JwtPolicy& policy() const noexcept { return policy_; }

 private:
  JwtPolicy policy_;
  std::shared_ptr<const JsonWebKeySet> keys_;
};

}  // namespace banyan::security
