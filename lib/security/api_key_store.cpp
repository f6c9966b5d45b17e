#include "security/api_key_store.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

#include "banyan/errors.hpp"
#include "security/security_sql.hpp"
#include "store/entity.hpp"
#include "store/validation.hpp"
#include "util/encoding.hpp"

namespace banyan::security {
namespace {

using detail::int_param;
using detail::SqlFragment;
using detail::text_param;
using detail::tx_of;

// "bnk_" + 12 characters of prefix (9 random bytes) + "_" + 43 of secret (32 random bytes).
constexpr std::string_view kTag = "bnk_";
constexpr std::size_t kPrefixSize = 4 + 12;
constexpr std::size_t kSecretSize = kPrefixSize + 1 + 43;

std::string random_text(std::size_t bytes) {
  return util::base64url_encode(util::random_bytes(bytes));
}

using util::sha256_hex;

constexpr const char* kColumns =
    "id, user_id, name, prefix, created_at, last_used_at, revoked_at, secret_hash";
constexpr std::size_t kWidth = 8;

std::optional<Timestamp> when(const island::TextCell& cell) {
  const auto us = std::stoll(cell.text);
  return us == 0 ? std::nullopt : std::optional<Timestamp>(store::detail::timestamp(us));
}

struct Row {
  ApiKey key;
  std::string secret_hash;
};

std::vector<Row> select(store::UnitOfWork& uow, const SqlFragment& where) {
  SqlFragment q;
  q.text(std::string("SELECT ") + kColumns + " FROM security_api_keys WHERE ").append(where);
  const auto cells = island::query_text(tx_of(uow), q, kWidth);
  std::vector<Row> out;
  for (std::size_t i = 0; i + kWidth <= cells.size(); i += kWidth) {
    Row r;
    r.key.id = std::stoull(cells[i].text);
    r.key.user_id = std::stoull(cells[i + 1].text);
    r.key.name = cells[i + 2].text;
    r.key.prefix = cells[i + 3].text;
    r.key.created_at = store::detail::timestamp(std::stoll(cells[i + 4].text));
    r.key.last_used_at = when(cells[i + 5]);
    r.key.revoked_at = when(cells[i + 6]);
    r.secret_hash = cells[i + 7].text;
    out.push_back(std::move(r));
  }
  return out;
}

SqlFragment by_id(Id id) {
  SqlFragment where;
  where.text("id = ").param(int_param(static_cast<std::int64_t>(id)));
  return where;
}

}  // namespace

IssuedApiKey ApiKeyStore::create(store::UnitOfWork& uow, Id user, const std::string& name) const {
  if (name.empty() || name.size() > 100 || !store::detail::valid_utf8(name))
    throw ValidationError("name: an API key's name is 1 to 100 characters of UTF-8", "name");
  if (!detail::exists(uow, "users", user))
    throw NotFound("no user with id " + std::to_string(user));
  const std::string prefix = std::string(kTag) + random_text(9);
  const std::string secret = prefix + "_" + random_text(32);
  SqlFragment ins;
  ins.text(
         "INSERT INTO security_api_keys (user_id, name, prefix, secret_hash, created_at) VALUES (")
      .param(int_param(static_cast<std::int64_t>(user)))
      .text(", ")
      .param(text_param(name))
      .text(", ")
      .param(text_param(prefix))
      .text(", ")
      .param(text_param(sha256_hex(secret)))
      .text(", ")
      .param(int_param(store::detail::micros(store::Session(uow).now())))
      .text(")");
  island::execute(tx_of(uow), ins);
  SqlFragment where;
  where.text("prefix = ").param(text_param(prefix));
  IssuedApiKey issued{select(uow, where).at(0).key, secret};
  detail::audit_access(uow, "api_key_created", user, "api_key." + std::to_string(issued.key.id),
                       nullptr, issued.key.prefix + " " + name);
  return issued;
}

std::vector<ApiKey> ApiKeyStore::list(store::UnitOfWork& uow, std::optional<Id> user) const {
  SqlFragment where;
  if (user)
    where.text("user_id = ").param(int_param(static_cast<std::int64_t>(*user)));
  else
    where.text("1 = 1");
  where.text(" ORDER BY id DESC");
  std::vector<ApiKey> out;
  for (auto& r : select(uow, where)) out.push_back(std::move(r.key));
  return out;
}

ApiKey ApiKeyStore::get(store::UnitOfWork& uow, Id id) const {
  auto rows = select(uow, by_id(id));
  if (rows.empty()) throw NotFound("no API key with id " + std::to_string(id));
  return rows.front().key;
}

ApiKey ApiKeyStore::revoke(store::UnitOfWork& uow, Id id) const {
  SqlFragment upd;
  upd.text("UPDATE security_api_keys SET revoked_at = ")
      .param(int_param(store::detail::micros(store::Session(uow).now())))
      .text(" WHERE revoked_at = 0 AND ")
      .append(by_id(id));
  const ApiKey key = get(uow, id);
  if (island::execute(tx_of(uow), upd) > 0)
    detail::audit_access(uow, "api_key_revoked", key.user_id, "api_key." + std::to_string(id),
                         key.prefix + " " + key.name, nullptr);
  return get(uow, id);
}

std::optional<ApiKey> ApiKeyStore::authenticate(store::UnitOfWork& uow,
                                                std::string_view secret) const {
  if (secret.size() != kSecretSize || !secret.starts_with(kTag) || secret[kPrefixSize] != '_')
    return std::nullopt;
  SqlFragment where;
  where.text("prefix = ").param(text_param(std::string(secret.substr(0, kPrefixSize))));
  const auto rows = select(uow, where);
  const std::string hash = sha256_hex(secret);
  if (rows.empty() || rows.front().secret_hash.size() != hash.size()) return std::nullopt;
  if (CRYPTO_memcmp(hash.data(), rows.front().secret_hash.data(), hash.size()) != 0)
    return std::nullopt;
  if (rows.front().key.revoked_at) return std::nullopt;
  return rows.front().key;
}

bool ApiKeyStore::stale(const ApiKey& key, Timestamp now) noexcept {
  return !key.last_used_at || now - *key.last_used_at >= std::chrono::minutes(1);
}

void ApiKeyStore::touch(store::UnitOfWork& uow, const ApiKey& key) const {
  const Timestamp now = store::Session(uow).now();
  if (!stale(key, now)) return;
  SqlFragment upd;
  upd.text("UPDATE security_api_keys SET last_used_at = ")
      .param(int_param(store::detail::micros(now)))
      .text(" WHERE ")
      .append(by_id(key.id));
  island::execute(tx_of(uow), upd);
}

}  // namespace banyan::security
