// Bearer JWTs: RS256 and ES256 accepted against a JWKS, every classic forgery refused.
// The keys are made here with OpenSSL; tokens are signed here too.
#include "banyan/security/jwt_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "jwt_signer.hpp"
#include "util/encoding.hpp"

namespace banyan::security {
namespace {

using nlohmann::json;
using test::generate;
using test::jwk;
using test::KeyPair;
using test::sign;
using test::token;
using util::base64url_encode;
using namespace std::chrono_literals;

const Timestamp kNow = Timestamp(std::chrono::seconds(1'800'000'000));
const std::int64_t kNowS = 1'800'000'000;

json claims() {
  return {{"iss", "https://id.example.com"},
          {"aud", "banyan"},
          {"sub", "svc-importer"},
          {"exp", kNowS + 300},
          {"iat", kNowS - 10},
          {"client_id", "importer"},
          {"scope", "crm"}};
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa = generate("RSA");
    ec = generate("EC");
    other = generate("RSA");
    keys = JsonWebKeySet::parse(json{{"keys", {jwk(*rsa, "rsa-1"), jwk(*ec, "ec-1")}}}.dump());
    verifier = std::make_unique<JwtVerifier>(JwtPolicy{"https://id.example.com", "banyan"}, keys);
  }
  TokenCheck check(const std::string& t, Timestamp now = kNow) const {
    return verifier->verify(t, now);
  }

  std::unique_ptr<KeyPair> rsa, ec, other;
  std::shared_ptr<const JsonWebKeySet> keys;
  std::unique_ptr<JwtVerifier> verifier;
};

TEST_F(JwtVerifierTest, AcceptsRs256AndEs256TokensFromTheKeySetWithTheirClaims) {
  const auto r = check(token(*rsa, {{"alg", "RS256"}, {"kid", "rsa-1"}, {"typ", "JWT"}}, claims()));
  ASSERT_TRUE(r.token) << r.reason;
  EXPECT_EQ(r.token->subject, "svc-importer");
  EXPECT_EQ(r.token->algorithm, "RS256");
  EXPECT_EQ(r.token->claims.at("client_id"), "importer");
  EXPECT_EQ(r.token->expires_at, kNow + 300s);
  const auto e = check(token(*ec, {{"alg", "ES256"}, {"kid", "ec-1"}}, claims()));
  ASSERT_TRUE(e.token) << e.reason;
  EXPECT_EQ(e.token->key_id, "ec-1");
  json listed = claims();
  listed["aud"] = {"other-api", "banyan"};
  EXPECT_TRUE(check(token(*rsa, {{"alg", "RS256"}, {"kid", "rsa-1"}}, listed)).token)
      << "aud as a list";
}

TEST_F(JwtVerifierTest, RefusesUnsignedHmacAndMismatchedAlgorithms) {
  const std::string body = base64url_encode(claims().dump());
  EXPECT_FALSE(
      check(base64url_encode(json{{"alg", "none"}, {"kid", "rsa-1"}}.dump()) + "." + body + ".")
          .token);
  // Key confusion: HS256 "signed" with the RSA public key's bytes as the HMAC secret.
  const std::string header = base64url_encode(json{{"alg", "HS256"}, {"kid", "rsa-1"}}.dump());
  const std::string secret = jwk(*rsa, "rsa-1").dump();
  unsigned char mac[32];
  unsigned int size = 0;
  const std::string data = header + "." + body;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  EXPECT_FALSE(
      check(data + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), size))).token);
  // An ES256 header over the RSA key's kid, and the other way round.
  EXPECT_FALSE(check(token(*ec, {{"alg", "ES256"}, {"kid", "rsa-1"}}, claims())).token);
  EXPECT_FALSE(check(token(*rsa, {{"alg", "RS256"}, {"kid", "ec-1"}}, claims())).token);
}

TEST_F(JwtVerifierTest, RefusesForgedTamperedAndForeignTokens) {
  const std::string good = token(*rsa, {{"alg", "RS256"}, {"kid", "rsa-1"}}, claims());
  // The payload swapped for one claiming another subject: the signature no longer fits.
  json admin = claims();
  admin["sub"] = "admin";
  const auto dot1 = good.find('.'), dot2 = good.rfind('.');
  EXPECT_EQ(
      check(good.substr(0, dot1 + 1) + base64url_encode(admin.dump()) + good.substr(dot2)).reason,
      "bad signature");
  // Signed by a second provider's key under a kid this set holds, or under its own kid.
  EXPECT_EQ(check(token(*other, {{"alg", "RS256"}, {"kid", "rsa-1"}}, claims())).reason,
            "bad signature");
  const auto foreign = check(token(*other, {{"alg", "RS256"}, {"kid", "their-key"}}, claims()));
  EXPECT_FALSE(foreign.token);
  EXPECT_TRUE(foreign.unknown_key) << "a kid the set lacks asks for a refresh";
}

TEST_F(JwtVerifierTest, RefusesWrongIssuerAudienceTimesAndMissingClaims) {
  auto with = [&](const char* name, const json& value) {
    json c = claims();
    if (value.is_null())
      c.erase(name);
    else
      c[name] = value;
    return check(token(*rsa, {{"alg", "RS256"}, {"kid", "rsa-1"}}, c));
  };
  EXPECT_EQ(with("iss", "https://evil.example.com").reason, "wrong issuer");
  EXPECT_EQ(with("aud", "another-api").reason, "wrong audience");
  EXPECT_EQ(with("aud", nullptr).reason, "wrong audience");
  EXPECT_EQ(with("exp", kNowS - 61).reason, "expired");
  EXPECT_EQ(with("exp", kNowS - 60).reason, "expired") << "a token is dead from exp (+ skew) on";
  EXPECT_TRUE(with("exp", kNowS - 59).token) << "within the clock skew";
  EXPECT_EQ(with("exp", nullptr).reason, "no exp");
  EXPECT_EQ(with("nbf", kNowS + 120).reason, "not yet valid");
  EXPECT_EQ(with("iat", kNowS + 120).reason, "issued in the future");
  EXPECT_EQ(with("sub", nullptr).reason, "no sub");
}

TEST_F(JwtVerifierTest, RefusesDateClaimsOfTheWrongTypeOrOutOfRange) {
  auto with = [&](const char* name, const json& value) {
    json c = claims();
    c[name] = value;
    return check(token(*rsa, {{"alg", "RS256"}, {"kid", "rsa-1"}}, c));
  };
  for (const char* name : {"exp", "nbf", "iat"}) {
    const std::string reason = std::string(name) + " is not a date";
    EXPECT_EQ(with(name, 1e300).reason, reason);  // the review's nbf: 1e300 passed
    EXPECT_EQ(with(name, -1e300).reason, reason);
    EXPECT_EQ(with(name, -1).reason, reason);
    EXPECT_EQ(with(name, 253402300800.0).reason, reason);  // past 9999
    EXPECT_EQ(with(name, std::to_string(kNowS)).reason, reason);
    EXPECT_EQ(with(name, true).reason, reason);
    EXPECT_EQ(with(name, nullptr).reason, reason) << "a null is present, not absent";
    EXPECT_EQ(with(name, json::array({kNowS})).reason, reason);
  }
  // Fractions are NumericDates too.
  EXPECT_TRUE(with("nbf", static_cast<double>(kNowS) - 0.5).token);
  EXPECT_TRUE(with("exp", static_cast<double>(kNowS) + 300.25).token);
}

TEST_F(JwtVerifierTest, RefusesMalformedAndOversizedTokens) {
  for (const std::string bad :
       {"", "abc", "a.b", "a.b.c.d", "...", "!!!.???.***", "e30.e30.", "W10.W10.AA"})
    EXPECT_FALSE(check(bad).token) << bad;
  EXPECT_EQ(check(std::string(9000, 'a')).reason, "empty or oversized");
}

TEST(JsonWebKeySet, RefusesDocumentsThatAreNotKeySetsAndWeakKeys) {
  EXPECT_THROW(JsonWebKeySet::parse("not json"), ValidationError);
  EXPECT_THROW(JsonWebKeySet::parse(R"({"keys": 3})"), ValidationError);
  EXPECT_THROW(JsonWebKeySet::parse(R"({"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]})"),
               ValidationError)
      << "a toy RSA modulus";
  EXPECT_THROW(
      JsonWebKeySet::parse(R"({"keys":[{"kty":"EC","kid":"k","crv":"P-256","x":"AA","y":"AA"}]})"),
      ValidationError);
  const auto skipped = JsonWebKeySet::parse(
      R"({"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"},{"kty":"RSA","use":"enc","kid":"e"}]})");
  EXPECT_EQ(skipped->size(), 0u) << "symmetric and encryption keys are never used to verify";
}

}  // namespace
}  // namespace banyan::security
