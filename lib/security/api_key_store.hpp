// Where API keys are kept (internal: the Engine's AdminService and the Authenticator use it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/security/api_key.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::security {

// Stateless: every method works in the caller's unit of work and checks nothing about
// who calls it (the Engine does).
class ApiKeyStore {
 public:
  // A new key acting as `user`. The secret has 256 random bits and is kept only as its
  // SHA-256. NotFound for no such user; ValidationError (field "name") unless the name is
  // 1 to 100 characters.
  [[nodiscard]] IssuedApiKey create(store::UnitOfWork& uow, Id user, const std::string& name) const;
  // Every key, or those of one user; newest first.
  std::vector<ApiKey> list(store::UnitOfWork& uow, std::optional<Id> user = std::nullopt) const;
  // NotFound for no such key.
  ApiKey get(store::UnitOfWork& uow, Id id) const;
  // Idempotent; the first revocation time stays. NotFound for no such key.
  ApiKey revoke(store::UnitOfWork& uow, Id id) const;
  // The key `secret` belongs to when it is one and is not revoked, else nothing (any
  // malformed text included). Only reads, so a read-only unit of work serves. The
  // comparison takes the same time however much of the secret is right.
  [[nodiscard]] std::optional<ApiKey> authenticate(store::UnitOfWork& uow,
                                                   std::string_view secret) const;
  // Whether touch() would write: the key's last use was noted over a minute ago or never.
  [[nodiscard]] static bool stale(const ApiKey& key, Timestamp now) noexcept;
  // Notes that the key was used now, when it is stale (see above), in a unit of work that
  // may write.
  void touch(store::UnitOfWork& uow, const ApiKey& key) const;
};

}  // namespace banyan::security
