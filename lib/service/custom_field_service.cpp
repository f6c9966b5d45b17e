#include "banyan/custom_field_service.hpp"

#include "store/stores.hpp"

namespace banyan {

using security::Action;

CustomFieldService::CustomFieldService(
    store::Database& db, security::Principal who,
    std::shared_ptr<const security::AccessPolicy> policy) noexcept
    : db_(&db), who_(std::move(who)), policy_(std::move(policy)) {}

void CustomFieldService::require(Action action, ObjectType type) const {
  (void)policy_->list_scope(who_, action, type);  // PermissionDenied when no scope at all
}

CustomFieldDefinition CustomFieldService::administered(store::UnitOfWork& uow, Id id) const {
  auto definition = store::stores(*db_).custom_fields().get(uow, id);
  require(Action::kAdmin, definition.object_type);
  return definition;
}

std::vector<CustomFieldDefinition> CustomFieldService::list(store::UnitOfWork& uow,
                                                            std::optional<ObjectType> type) const {
  if (type) {
    require(Action::kRead, *type);
    return store::stores(*db_).custom_fields().list(uow, *type);
  }
  std::vector<CustomFieldDefinition> out;
  for (int t = 0; t <= static_cast<int>(ObjectType::kActivity); ++t) {
    const auto each = static_cast<ObjectType>(t);
    if (policy_->scope(who_, Action::kRead, each) == security::Scope::kNone) continue;
    for (auto& d : store::stores(*db_).custom_fields().list(uow, each)) out.push_back(std::move(d));
  }
  return out;
}

CustomFieldDefinition CustomFieldService::get(store::UnitOfWork& uow, Id id) const {
  auto definition = store::stores(*db_).custom_fields().get(uow, id);
  require(Action::kRead, definition.object_type);
  return definition;
}

CustomFieldDefinition CustomFieldService::define(store::UnitOfWork& uow,
                                                 const CustomFieldDefinition& definition) const {
  require(Action::kAdmin, definition.object_type);
  return store::stores(*db_).custom_fields().define(uow, definition);
}

CustomFieldDefinition CustomFieldService::update(store::UnitOfWork& uow,
                                                 const CustomFieldDefinition& definition) const {
  administered(uow, definition.id);  // the stored type's administrator (it cannot change)
  return store::stores(*db_).custom_fields().update(uow, definition);
}

CustomFieldDefinition CustomFieldService::rename(store::UnitOfWork& uow, Id id,
                                                 const std::string& new_name) const {
  administered(uow, id);
  return store::stores(*db_).custom_fields().rename(uow, id, new_name);
}

CustomFieldDefinition CustomFieldService::change_type(store::UnitOfWork& uow, Id id,
                                                      CustomFieldType new_type) const {
  administered(uow, id);
  return store::stores(*db_).custom_fields().change_type(uow, id, new_type);
}

CustomFieldDefinition CustomFieldService::deprecate(store::UnitOfWork& uow, Id id,
                                                    bool deprecated) const {
  administered(uow, id);
  return store::stores(*db_).custom_fields().deprecate(uow, id, deprecated);
}

void CustomFieldService::remove(store::UnitOfWork& uow, Id id) const {
  administered(uow, id);
  store::stores(*db_).custom_fields().remove(uow, id);
}

std::uint64_t CustomFieldService::seal_sensitive_values(ObjectType type, std::size_t batch) const {
  require(Action::kAdmin, type);
  return db_->seal_sensitive_values(type, batch);
}

}  // namespace banyan
