#include "banyan/security/authenticator.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

#include "banyan/errors.hpp"
#include "banyan/security/api_key_store.hpp"
#include "banyan/security/directory.hpp"
#include "security/string_hash.hpp"

namespace banyan::security {

struct Authenticator::Impl {
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Principal principal;
    Clock::time_point expires;
  };

  Impl(store::Database& database, AuthenticatorOptions opts) : db(database), options(opts) {}

  store::Database& db;
  AuthenticatorOptions options;
  std::mutex mutex;
  // credential -> principal; guarded by mutex
  std::unordered_map<std::string, Entry, detail::StringHash, std::equal_to<>> cache;

  std::optional<Principal> cached(std::string_view credential, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(credential);
    if (it == cache.end() || it->second.expires <= now) return std::nullopt;
    return it->second.principal;
  }

  void remember(std::string_view credential, const Principal& principal, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= options.cache_size) cache.clear();
    cache[std::string(credential)] = Entry{principal, now + options.cache_ttl};
  }
};

Authenticator::Authenticator(store::Database& db, AuthenticatorOptions options)
    : impl_(std::make_unique<Impl>(db, options)) {}
Authenticator::~Authenticator() = default;

std::optional<Principal> Authenticator::authenticate(std::string_view credential) {
  const auto now = Impl::Clock::now();
  if (auto hit = impl_->cached(credential, now)) return hit;
  const ApiKeyStore keys;
  std::optional<ApiKey> key;
  std::optional<Principal> principal;
  impl_->db.read([&](store::UnitOfWork& uow) {
    key = keys.authenticate(uow, credential);
    if (!key) return;
    try {
      principal = Directory().principal(uow, key->user_id, Principal::Kind::kServiceAccount);
    } catch (const PermissionDenied&) {  // the user is deactivated
    } catch (const NotFound&) {          // deleted between the two reads
    }
  });
  if (!principal) return std::nullopt;
  if (ApiKeyStore::stale(*key, std::chrono::time_point_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now()))) {
    try {
      impl_->db.transact([&](store::UnitOfWork& uow) { keys.touch(uow, *key); });
    } catch (const Error&) {
      // The last-used time is a convenience: a busy database does not refuse the request.
    }
  }
  impl_->remember(credential, *principal, now);
  return principal;
}

}  // namespace banyan::security
