#include "jwt_signer.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "util/encoding.hpp"

namespace banyan::test {

using util::base64url_encode;

KeyPair::~KeyPair() { EVP_PKEY_free(pkey); }

std::unique_ptr<KeyPair> generate(const char* type) {
  auto k = std::make_unique<KeyPair>();
  k->pkey = std::string(type) == "RSA" ? EVP_RSA_gen(2048) : EVP_EC_gen("prime256v1");
  return k;
}

namespace {

std::string bn_bytes(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(pkey, name, &bn);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

nlohmann::json jwk(const KeyPair& k, const std::string& kid) {
  if (EVP_PKEY_is_a(k.pkey, "RSA")) {
    return nlohmann::json{{"kty", "RSA"},
                          {"kid", kid},
                          {"use", "sig"},
                          {"alg", "RS256"},
                          {"n", base64url_encode(bn_bytes(k.pkey, OSSL_PKEY_PARAM_RSA_N))},
                          {"e", base64url_encode(bn_bytes(k.pkey, OSSL_PKEY_PARAM_RSA_E))}};
  }
  unsigned char point[65];
  std::size_t size = 0;
  EVP_PKEY_get_octet_string_param(k.pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &size);
  const std::string p(reinterpret_cast<char*>(point), size);
  return nlohmann::json{{"kty", "EC"},
                        {"kid", kid},
                        {"crv", "P-256"},
                        {"x", base64url_encode(p.substr(1, 32))},
                        {"y", base64url_encode(p.substr(33, 32))}};
}

std::string sign(const KeyPair& k, const std::string& data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, k.pkey);
  std::size_t size = 0;
  EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(size, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &size,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(size);
  EVP_MD_CTX_free(ctx);
  if (!EVP_PKEY_is_a(k.pkey, "EC")) return sig;
  // DER to the raw r || s that JWS uses.
  const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ec = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ec), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ec), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ec);
  return raw;
}

std::string token(const KeyPair& k, const nlohmann::json& header, const nlohmann::json& payload) {
  const std::string data = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
  return data + "." + base64url_encode(sign(k, data));
}

}  // namespace banyan::test
