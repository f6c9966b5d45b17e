// Signing keys and JWTs for tests that play an identity provider: RSA-2048 and P-256
// keys made with OpenSSL, their public JWKs, and RS256/ES256 compact tokens.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace banyan::test {

struct KeyPair {
  EVP_PKEY* pkey = nullptr;
  KeyPair() = default;
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  ~KeyPair();
};

// "RSA" or "EC" (P-256).
std::unique_ptr<KeyPair> generate(const char* type);
// The public key as a JWK with this kid.
nlohmann::json jwk(const KeyPair& k, const std::string& kid);
// A SHA-256 signature of `data` as JWS wants it (raw r || s for EC).
std::string sign(const KeyPair& k, const std::string& data);
// header.payload.signature
std::string token(const KeyPair& k, const nlohmann::json& header, const nlohmann::json& payload);

}  // namespace banyan::test
