#include "banyan/security/jwt_verifier.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "util/encoding.hpp"

namespace banyan::security {
namespace {

using nlohmann::json;

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct Key {
  std::string kty;  // "RSA" or "EC"
  Pkey pkey;
};

// A string member, or "" when it is absent or not a string. (Through get_ptr: GCC's
// -Wnull-dereference misfires on json::value() and get<std::string>() once optimized.)
std::string text_of(const json& object, const char* member) {
  const auto it = object.find(member);
  if (it == object.end()) return {};
  const auto* text = it->get_ptr<const std::string*>();
  return text == nullptr ? std::string() : *text;
}

std::string b64(const json& key, const char* member) {
  const std::string encoded = text_of(key, member);
  if (encoded.empty())
    throw ValidationError(std::string("jwks: a key has no '") + member + "'", "jwks");
  std::string out;
  if (!util::base64url_decode(encoded, out))
    throw ValidationError(std::string("jwks: '") + member + "' is not base64url", "jwks");
  return out;
}

template <typename Build>
Pkey from_params(const char* type, Build&& build) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> numbers;
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  EVP_PKEY* pkey = nullptr;
  const bool ok = bld != nullptr && build(bld, numbers) &&
                  (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
                  (ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr)) != nullptr &&
                  EVP_PKEY_fromdata_init(ctx) == 1 &&
                  EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* n : numbers) BN_free(n);
  if (!ok) {
    EVP_PKEY_free(pkey);
    throw ValidationError(std::string("jwks: an unusable ") + type + " key", "jwks");
  }
  return Pkey(pkey);
}

Pkey rsa_key(const json& key) {
  const std::string n = b64(key, "n"), e = b64(key, "e");
  if (n.size() < 256) throw ValidationError("jwks: RSA keys must have at least 2048 bits", "jwks");
  return from_params("RSA", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>& numbers) {
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                             static_cast<int>(n.size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                             static_cast<int>(e.size()), nullptr);
    numbers = {bn_n, bn_e};
    return bn_n != nullptr && bn_e != nullptr &&
           OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1;
  });
}

Pkey ec_key(const json& key) {
  if (text_of(key, "crv") != "P-256")
    throw ValidationError("jwks: only P-256 EC keys are supported", "jwks");
  const std::string x = b64(key, "x"), y = b64(key, "y");
  if (x.size() != 32 || y.size() != 32)
    throw ValidationError("jwks: a P-256 point is 32-byte x and y", "jwks");
  std::string point = "\x04" + x + y;
  return from_params("EC", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>&) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size()) == 1;
  });
}

// ES256 signatures are r || s (32 bytes each); OpenSSL verifies DER.
std::string der_of_raw_ecdsa(const std::string& raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  std::string out;
  if (sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    unsigned char* der = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &der);
    if (n > 0) out.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return out;
}

bool verify_signature(EVP_PKEY* key, std::string_view data, const std::string& signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

TokenCheck refused(std::string reason, bool unknown_key = false) {
  TokenCheck c;
  c.reason = std::move(reason);
  c.unknown_key = unknown_key;
  return c;
}

std::optional<json> decoded_json(std::string_view part) {
  std::string text;
  if (!util::base64url_decode(part, text)) return std::nullopt;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

}  // namespace

struct JsonWebKeySet::Impl {
  std::map<std::string, Key, std::less<>> keys;
};

JsonWebKeySet::JsonWebKeySet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonWebKeySet::~JsonWebKeySet() = default;

std::shared_ptr<const JsonWebKeySet> JsonWebKeySet::parse(std::string_view jwks_json) {
  const json doc = json::parse(jwks_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
    throw ValidationError("jwks: not a JWKS document (an object with a \"keys\" list)", "jwks");
  auto impl = std::make_unique<Impl>();
  for (const json& key : doc["keys"]) {
    if (!key.is_object()) continue;
    const std::string kid = text_of(key, "kid");
    if (kid.empty() || (key.contains("use") && key["use"] != "sig")) continue;
    const std::string kty = text_of(key, "kty");
    if (kty == "RSA")
      impl->keys[kid] = Key{kty, rsa_key(key)};
    else if (kty == "EC")
      impl->keys[kid] = Key{kty, ec_key(key)};
  }
  return std::shared_ptr<const JsonWebKeySet>(new JsonWebKeySet(std::move(impl)));
}

bool JsonWebKeySet::has(std::string_view kid) const {
  return impl_->keys.find(kid) != impl_->keys.end();
}
std::size_t JsonWebKeySet::size() const { return impl_->keys.size(); }

JwtVerifier::JwtVerifier(JwtPolicy policy, std::shared_ptr<const JsonWebKeySet> keys)
    : policy_(std::move(policy)), keys_(std::move(keys)) {}

TokenCheck JwtVerifier::verify(std::string_view token, Timestamp now) const {
  if (token.empty() || token.size() > policy_.max_token_bytes) return refused("empty or oversized");
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refused("not a JWS compact token");
  const auto header = decoded_json(token.substr(0, dot1));
  const auto payload = decoded_json(token.substr(dot1 + 1, dot2 - dot1 - 1));
  std::string signature;
  if (!header || !payload || !util::base64url_decode(token.substr(dot2 + 1), signature))
    return refused("malformed");
  const std::string alg = text_of(*header, "alg");
  if (alg != "RS256" && alg != "ES256") return refused("algorithm '" + alg + "' is not accepted");
  const std::string kid = text_of(*header, "kid");
  if (kid.empty()) return refused("no kid");
  const auto key = keys_->impl_->keys.find(kid);
  if (key == keys_->impl_->keys.end()) return refused("unknown kid '" + kid + "'", true);
  if ((alg == "RS256") != (key->second.kty == "RSA"))
    return refused("the key's type does not match " + alg);
  if (alg == "ES256") {
    if (signature.size() != 64) return refused("an ES256 signature is 64 bytes");
    signature = der_of_raw_ecdsa(signature);
  }
  if (!verify_signature(key->second.pkey.get(), token.substr(0, dot2), signature))
    return refused("bad signature");

  const json& claims = *payload;
  auto text = [&](const char* name) -> std::optional<std::string> {
    if (!claims.contains(name) || !claims[name].is_string()) return std::nullopt;
    return text_of(claims, name);
  };
  // A NumericDate (RFC 7519, section 2): a JSON number of seconds. Absent: nullopt.
  // Present but not a number, or outside 1970 to 9999 (`nbf: 1e300` would overflow the
  // comparison and pass): the token is refused.
  constexpr double kLatestDate = 253402300799.0;  // 9999-12-31T23:59:59Z
  std::string bad_date;
  auto seconds = [&](const char* name) -> std::optional<std::int64_t> {
    const auto it = claims.find(name);
    if (it == claims.end()) return std::nullopt;
    const double v = it->is_number() ? it->get<double>() : -1.0;
    if (!(v >= 0.0 && v <= kLatestDate)) {
      if (bad_date.empty()) bad_date = std::string(name) + " is not a date";
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  };
  if (text("iss") != policy_.issuer) return refused("wrong issuer");
  bool audience = false;
  if (claims.contains("aud")) {
    const json& aud = claims["aud"];
    if (aud.is_string()) audience = aud == policy_.audience;
    if (aud.is_array())
      audience =
          std::any_of(aud.begin(), aud.end(), [&](const json& a) { return a == policy_.audience; });
  }
  if (!audience) return refused("wrong audience");
  const auto exp = seconds("exp");
  const auto nbf = seconds("nbf");
  const auto iat = seconds("iat");
  if (!bad_date.empty()) return refused(bad_date);
  if (!exp) return refused("no exp");
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto skew = policy_.clock_skew.count();
  if (now_s >= *exp + skew) return refused("expired");  // RFC 7519 4.1.4: on or after exp
  if (nbf && now_s + skew < *nbf) return refused("not yet valid");
  if (iat && now_s + skew < *iat) return refused("issued in the future");
  for (const auto& name : policy_.required_claims)
    if (!claims.contains(name)) return refused("no " + name);

  VerifiedToken t;
  t.subject = text("sub").value_or("");
  t.issuer = policy_.issuer;
  t.key_id = kid;
  t.algorithm = alg;
  t.expires_at = Timestamp(std::chrono::seconds(*exp));
  for (const auto& [name, value] : claims.items())
    if (const auto* string = value.get_ptr<const std::string*>()) t.claims[name] = *string;
  TokenCheck ok;
  ok.token = std::move(t);
  return ok;
}

}  // namespace banyan::security
