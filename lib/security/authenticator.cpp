#include "banyan/security/authenticator.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "banyan/errors.hpp"
#include "security/api_key_store.hpp"
#include "security/directory.hpp"
#include "security/issuer_keys.hpp"
#include "security/string_hash.hpp"

namespace banyan::security {

struct Authenticator::Impl {
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Principal principal;
    Clock::time_point expires;
  };

  Impl(store::Database& database, AuthenticatorOptions opts)
      : db(database), options(std::move(opts)) {
    if (options.oidc) issuer_keys = std::make_unique<detail::IssuerKeys>(*options.oidc);
  }

  store::Database& db;
  AuthenticatorOptions options;
  std::unique_ptr<detail::IssuerKeys> issuer_keys;  // with OIDC
  std::mutex mutex;
  // credential -> principal; guarded by mutex
  std::unordered_map<std::string, Entry, detail::StringHash, std::equal_to<>> cache;

  std::optional<Principal> cached(std::string_view credential, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(credential);
    if (it == cache.end() || it->second.expires <= now) return std::nullopt;
    return it->second.principal;
  }

  // Remembered for the cache's time, or until `until` if sooner (a token's expiry).
  void remember(std::string_view credential, const Principal& principal, Clock::time_point now,
                Clock::time_point until = Clock::time_point::max()) {
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= options.cache_size) cache.clear();
    cache[std::string(credential)] = Entry{principal, std::min(now + options.cache_ttl, until)};
  }

  static void say(std::string* why, std::string reason) {
    if (why != nullptr) *why = std::move(reason);
  }

  std::optional<Principal> api_key(std::string_view credential, Clock::time_point now,
                                   std::string* why);
  std::optional<Principal> token(std::string_view credential, Clock::time_point now,
                                 std::string* why);
};

std::optional<Principal> Authenticator::Impl::api_key(std::string_view credential,
                                                      Clock::time_point now, std::string* why) {
  const ApiKeyStore keys;
  std::optional<ApiKey> key;
  std::optional<Principal> principal;
  db.read([&](store::UnitOfWork& uow) {
    key = keys.authenticate(uow, credential);
    if (!key) return say(why, "no such API key, or revoked");
    try {
      principal = Directory().principal(uow, key->user_id, Principal::Kind::kServiceAccount);
    } catch (const PermissionDenied&) {
      say(why, "the API key's user is deactivated");
    } catch (const NotFound&) {  // deleted between the two reads
      say(why, "the API key's user is gone");
    }
  });
  if (!principal) return std::nullopt;
  if (ApiKeyStore::stale(*key, std::chrono::time_point_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now()))) {
    try {
      db.transact([&](store::UnitOfWork& uow) { keys.touch(uow, *key); });
    } catch (const Error&) {
      // The last-used time is a convenience: a busy database does not refuse the request.
    }
  }
  remember(credential, *principal, now);
  return principal;
}

std::optional<Principal> Authenticator::Impl::token(std::string_view credential,
                                                    Clock::time_point now, std::string* why) {
  const auto wall =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto verifier = issuer_keys->current();
  TokenCheck check = verifier->verify(credential, wall);
  if (!check.token && check.unknown_key) {
    // Perhaps the issuer rotated its keys: fetch them again, once per interval.
    if (auto fresh = issuer_keys->refresh(verifier)) check = fresh->verify(credential, wall);
  }
  if (!check.token) {
    say(why, check.reason);
    return std::nullopt;
  }
  const VerifiedToken& t = *check.token;
  const auto client = t.claims.find("client_id");
  // Client credentials: the token's subject is the client itself (RFC 9068, section 2.2).
  const bool service = client != t.claims.end() && client->second == t.subject;
  std::optional<Principal> principal;
  db.read([&](store::UnitOfWork& uow) {
    const Directory directory;
    const auto user = directory.user_of(uow, Identity{t.issuer, t.subject});
    if (!user) return say(why, "no user is linked to subject '" + t.subject + "' of " + t.issuer);
    try {
      principal = directory.principal(
          uow, *user, service ? Principal::Kind::kServiceAccount : Principal::Kind::kUser);
    } catch (const PermissionDenied&) {
      say(why, "the token's user is deactivated");
    } catch (const NotFound&) {
      say(why, "the token's user is gone");
    }
  });
  if (!principal) return std::nullopt;
  remember(credential, *principal, now,
           now + std::chrono::duration_cast<Clock::duration>(t.expires_at - wall));
  return principal;
}

Authenticator::Authenticator(store::Database& db, AuthenticatorOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(options))) {}
Authenticator::~Authenticator() = default;

std::optional<Principal> Authenticator::authenticate(std::string_view credential,
                                                     std::string* why) {
  const auto now = Impl::Clock::now();
  if (auto hit = impl_->cached(credential, now)) return hit;
  // A JWT is three base64url parts joined by dots; an API key has none.
  if (impl_->issuer_keys && credential.find('.') != std::string_view::npos)
    return impl_->token(credential, now, why);
  return impl_->api_key(credential, now, why);
}

KeyStats Authenticator::key_stats() const {
  return impl_->issuer_keys ? impl_->issuer_keys->stats() : KeyStats{};
}

}  // namespace banyan::security
