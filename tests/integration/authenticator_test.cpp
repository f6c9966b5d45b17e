// The Authenticator on both backends: API keys, and JWTs checked against a JWKS file that
// is read again when a token names a key it lacks (the rotation of a file-based issuer).
#include "banyan/security/authenticator.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "jwt_signer.hpp"
#include "security/api_key_store.hpp"
#include "security/directory.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using nlohmann::json;
using security::Principal;

const std::string kIssuer = "https://id.example.com";

class AuthenticatorTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    jwks_path_ =
        (std::filesystem::temp_directory_path() /
         ("banyan-jwks-" + std::to_string(::getpid()) + "-" + backend_name(GetParam()) + ".json"))
            .string();
    first_ = generate("EC");
    second_ = generate("RSA");
    publish({jwk(*first_, "first")});
    bot_ = linked_user("bot@example.com", "integration", {kIssuer, "sync-client"});
    ann_ = linked_user("ann@example.com", "read_only", {kIssuer, "ann"});
  }
  void TearDown() override {
    std::filesystem::remove(jwks_path_);
    StoreTest::TearDown();
  }

  void publish(const std::vector<json>& keys) {
    std::ofstream(jwks_path_) << json{{"keys", keys}}.dump();
  }
  security::AuthenticatorOptions options() const {
    security::OidcOptions oidc;
    oidc.issuer = kIssuer;
    oidc.audience = "banyan";
    oidc.jwks_file = jwks_path_;
    oidc.key_refresh_interval = std::chrono::seconds(0);
    security::AuthenticatorOptions o;
    o.oidc = oidc;
    return o;
  }
  static json claims(const std::string& subject) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return {
        {"iss", kIssuer}, {"aud", "banyan"}, {"sub", subject}, {"exp", now + 300}, {"iat", now}};
  }
  std::string es256(const json& payload, const std::string& kid = "first") const {
    return token(*first_, {{"alg", "ES256"}, {"kid", kid}}, payload);
  }

  std::string jwks_path_;
  std::unique_ptr<KeyPair> first_, second_;
  Id bot_ = 0, ann_ = 0;
};
BANYAN_ON_BOTH_BACKENDS(AuthenticatorTest);

TEST_P(AuthenticatorTest, AnApiKeyActsAsItsUserAsAServiceAccount) {
  security::Authenticator auth(db());
  const std::string secret = db().transact([&](store::UnitOfWork& uow) {
    return security::ApiKeyStore().create(uow, bot_, "ci").secret;
  });
  const auto p = auth.authenticate(secret);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, bot_);
  EXPECT_EQ(p->kind, Principal::Kind::kServiceAccount);
  EXPECT_EQ(p->roles, std::vector<std::string>{"integration"});
  std::string why;
  EXPECT_FALSE(auth.authenticate("bnk_notakey", &why));
  EXPECT_EQ(why, "no such API key, or revoked");
  EXPECT_FALSE(auth.authenticate(es256(claims("sync-client"))))
      << "no OIDC configured: a JWT is no key";
}

TEST_P(AuthenticatorTest, ATokenActsAsTheUserLinkedToItsIssuerAndSubject) {
  security::Authenticator auth(db(), options());
  json service = claims("sync-client");
  service["client_id"] = "sync-client";
  const auto bot = auth.authenticate(es256(service));
  ASSERT_TRUE(bot);
  EXPECT_EQ(bot->user_id, bot_);
  EXPECT_EQ(bot->kind, Principal::Kind::kServiceAccount)
      << "client credentials: the subject is the client";
  const auto ann = auth.authenticate(es256(claims("ann")));
  ASSERT_TRUE(ann);
  EXPECT_EQ(ann->user_id, ann_);
  EXPECT_EQ(ann->kind, Principal::Kind::kUser);
  EXPECT_EQ(ann->roles, std::vector<std::string>{"read_only"});

  std::string why;
  EXPECT_FALSE(auth.authenticate(es256(claims("nobody")), &why));
  EXPECT_EQ(why, "no user is linked to subject 'nobody' of " + kIssuer);
  json expired = claims("ann");
  expired["exp"] = expired["iat"].get<std::int64_t>() - 120;
  EXPECT_FALSE(auth.authenticate(es256(expired), &why));
  EXPECT_EQ(why, "expired");
  json foreign = claims("ann");
  foreign["iss"] = "https://evil.example.com";
  EXPECT_FALSE(auth.authenticate(es256(foreign), &why));
  EXPECT_EQ(why, "wrong issuer");
  EXPECT_EQ(auth.key_stats().refreshes, 1u) << "the file was read once";
}

TEST_P(AuthenticatorTest, KeysPublishedLaterAreReadOnTheFirstTokenThatNamesThem) {
  security::Authenticator auth(db(), options());
  EXPECT_TRUE(auth.authenticate(es256(claims("ann"))));
  const std::string rotated = token(*second_, {{"alg", "RS256"}, {"kid", "second"}}, claims("ann"));
  std::string why;
  EXPECT_FALSE(auth.authenticate(rotated, &why)) << "not published yet";
  EXPECT_EQ(auth.key_stats().refreshes, 2u) << "the unknown kid read the file again";
  publish({jwk(*second_, "second")});
  const auto p = auth.authenticate(rotated, &why);
  ASSERT_TRUE(p) << why;
  EXPECT_EQ(p->user_id, ann_);
  EXPECT_EQ(auth.key_stats().refreshes, 3u);
  // The first key is withdrawn: a token signed with it (not seen before) is refused.
  json later = claims("ann");
  later["jti"] = "another";
  EXPECT_FALSE(auth.authenticate(es256(later), &why));
}

TEST_P(AuthenticatorTest, KeysThatCannotBeHadAreAnOutageNotABadToken) {
  std::filesystem::remove(jwks_path_);
  security::Authenticator auth(db(), options());
  EXPECT_THROW(auth.authenticate(es256(claims("ann"))), Unavailable);
  EXPECT_EQ(auth.key_stats().refresh_failures, 1u);
  std::ofstream(jwks_path_) << "not json";
  EXPECT_THROW(auth.authenticate(es256(claims("ann"))), Unavailable)
      << "a malformed key set is no key set";
  publish({jwk(*first_, "first")});
  EXPECT_TRUE(auth.authenticate(es256(claims("ann"))));
}

}  // namespace
}  // namespace banyan::test
