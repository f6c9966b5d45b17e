// CustomFieldService: custom field definitions (store::CustomFieldRegistry) as a principal
// may read and change them. Obtain one from Engine (engine.custom_fields(who)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/custom_field.hpp"
#include "banyan/model/record.hpp"
#include "banyan/security/access_policy.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/database.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan {

namespace store {
class Database;
}

// A light value valid while its Database lives. Definitions belong to a record type as
// a whole: reading one needs read on its type at some scope, changing one needs admin on
// its type (PermissionDenied otherwise, nothing changed). Each call works in the caller's
// unit of work, but for seal_sensitive_values, and fails like store::CustomFieldRegistry
// (ValidationError, Conflict, NotFound).
class BANYAN_EXPORT CustomFieldService {
 public:
  CustomFieldService(store::Database& db, security::Principal who,
                     std::shared_ptr<const security::AccessPolicy> policy) noexcept;

  // The definitions of `type` (PermissionDenied without read on it), or, without a type,
  // of every type the principal reads; in type, then name order.
  std::vector<CustomFieldDefinition> list(store::UnitOfWork& uow,
                                          std::optional<ObjectType> type = std::nullopt) const;
  CustomFieldDefinition get(store::UnitOfWork& uow, Id id) const;
  // The definition `id`, when the principal administers its type (PermissionDenied
  // otherwise): for a change prepared before it is made.
  CustomFieldDefinition administered(store::UnitOfWork& uow, Id id) const;

  CustomFieldDefinition define(store::UnitOfWork& uow,
                               const CustomFieldDefinition& definition) const;
  // As CustomFieldRegistry::update (the version must match). A field that becomes
  // sensitive masks its values at once; seal_sensitive_values seals what is stored.
  CustomFieldDefinition update(store::UnitOfWork& uow,
                               const CustomFieldDefinition& definition) const;
  CustomFieldDefinition rename(store::UnitOfWork& uow, Id id, const std::string& new_name) const;
  CustomFieldDefinition change_type(store::UnitOfWork& uow, Id id, CustomFieldType new_type) const;
  CustomFieldDefinition deprecate(store::UnitOfWork& uow, Id id, bool deprecated = true) const;
  void remove(store::UnitOfWork& uow, Id id) const;

  // Seals the values `type`'s sensitive custom fields hold as given (after a field became
  // sensitive), in transactions of its own, `batch` records each; returns how many
  // records it rewrote (0 without encryption keys). Needs admin on `type`.
  std::uint64_t seal_sensitive_values(ObjectType type, std::size_t batch = 200) const;

  const security::Principal& principal() const noexcept { return who_; }

 private:
  // PermissionDenied unless the principal holds `action` on `type` at some scope.
  void require(security::Action action, ObjectType type) const;

  store::Database* db_;
  security::Principal who_;
  std::shared_ptr<const security::AccessPolicy> policy_;
};

}  // namespace banyan
