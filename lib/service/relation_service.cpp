#include "banyan/relation_service.hpp"

#include <algorithm>
#include <string>

#include "banyan/errors.hpp"
#include "model/record_types.hpp"
#include "store/session.hpp"
#include "store/stores.hpp"

namespace banyan {

using security::Action;

RelationService::RelationService(const store::Database& db, security::Principal who,
                                 std::shared_ptr<const security::AccessPolicy> policy,
                                 ServiceHooks hooks) noexcept
    : db_(&db), who_(std::move(who)), policy_(std::move(policy)), hooks_(std::move(hooks)) {}

namespace {

// Where `record` stands; nullopt when it does not exist.
std::optional<security::RecordScope> scope_of(store::UnitOfWork& uow, ObjectRef record) {
  std::optional<security::RecordScope> scope;
  banyan::detail::with_record_type(record.type, [&]<typename T>() {
    if (auto found = store::Session(uow).records<T>().find(uow, record.id))
      scope = security::RecordScope::of(*found);
  });
  return scope;
}

}  // namespace

security::RecordScope RelationService::readable(store::UnitOfWork& uow, ObjectRef record) const {
  const auto scope = scope_of(uow, record);
  const bool hidden = scope && !policy_->allows(who_, Action::kRead, record.type, *scope);
  if (hidden && hooks_.denied) hooks_.denied(who_, record);
  if (!scope || hidden)
    throw NotFound("no " + std::string(to_string(record.type)) + " with id " +
                   std::to_string(record.id));
  return *scope;
}

template <typename Item, typename RefOf>
std::vector<Item> RelationService::readable_only(store::UnitOfWork& uow, std::vector<Item> items,
                                                 RefOf ref_of) const {
  std::erase_if(items, [&](const Item& item) {
    const ObjectRef record = ref_of(item);
    const auto scope = scope_of(uow, record);
    return !scope || !policy_->allows(who_, Action::kRead, record.type, *scope);
  });
  return items;
}

void RelationService::require_link(store::UnitOfWork& uow, ObjectRef owner, ObjectRef other) const {
  const auto place = readable(uow, owner);
  readable(uow, other);
  policy_->require(who_, Action::kUpdate, owner.type, place);
}

bool RelationService::link_company(store::UnitOfWork& uow, Id contact_id, Id company_id,
                                   bool primary) const {
  require_link(uow, {ObjectType::kContact, contact_id}, {ObjectType::kCompany, company_id});
  return store::stores(*db_).relations().link_company(uow, contact_id, company_id, primary);
}

bool RelationService::unlink_company(store::UnitOfWork& uow, Id contact_id, Id company_id) const {
  require_link(uow, {ObjectType::kContact, contact_id}, {ObjectType::kCompany, company_id});
  return store::stores(*db_).relations().unlink_company(uow, contact_id, company_id);
}

std::vector<store::ContactCompanyLink> RelationService::companies_of(store::UnitOfWork& uow,
                                                                     Id contact_id) const {
  readable(uow, {ObjectType::kContact, contact_id});
  return readable_only(uow, store::stores(*db_).relations().companies_of(uow, contact_id),
                       [](const auto& l) {
                         return ObjectRef{ObjectType::kCompany, l.company_id};
                       });
}

std::vector<store::ContactCompanyLink> RelationService::contacts_of(store::UnitOfWork& uow,
                                                                    Id company_id) const {
  readable(uow, {ObjectType::kCompany, company_id});
  return readable_only(uow, store::stores(*db_).relations().contacts_of(uow, company_id),
                       [](const auto& l) {
                         return ObjectRef{ObjectType::kContact, l.contact_id};
                       });
}

bool RelationService::add_deal_contact(store::UnitOfWork& uow, Id deal_id, Id contact_id,
                                       DealRole role) const {
  require_link(uow, {ObjectType::kDeal, deal_id}, {ObjectType::kContact, contact_id});
  return store::stores(*db_).relations().add_deal_contact(uow, deal_id, contact_id, role);
}

bool RelationService::remove_deal_contact(store::UnitOfWork& uow, Id deal_id, Id contact_id) const {
  require_link(uow, {ObjectType::kDeal, deal_id}, {ObjectType::kContact, contact_id});
  return store::stores(*db_).relations().remove_deal_contact(uow, deal_id, contact_id);
}

std::vector<store::DealContactLink> RelationService::deal_contacts(store::UnitOfWork& uow,
                                                                   Id deal_id) const {
  readable(uow, {ObjectType::kDeal, deal_id});
  return readable_only(uow, store::stores(*db_).relations().deal_contacts(uow, deal_id),
                       [](const auto& l) {
                         return ObjectRef{ObjectType::kContact, l.contact_id};
                       });
}

std::vector<store::DealContactLink> RelationService::deals_of(store::UnitOfWork& uow,
                                                              Id contact_id) const {
  readable(uow, {ObjectType::kContact, contact_id});
  return readable_only(uow, store::stores(*db_).relations().deals_of(uow, contact_id),
                       [](const auto& l) {
                         return ObjectRef{ObjectType::kDeal, l.deal_id};
                       });
}

bool RelationService::link_activity(store::UnitOfWork& uow, Id activity_id,
                                    ObjectRef target) const {
  require_link(uow, {ObjectType::kActivity, activity_id}, target);
  return store::stores(*db_).relations().link_activity(uow, activity_id, target);
}

bool RelationService::unlink_activity(store::UnitOfWork& uow, Id activity_id,
                                      ObjectRef target) const {
  require_link(uow, {ObjectType::kActivity, activity_id}, target);
  return store::stores(*db_).relations().unlink_activity(uow, activity_id, target);
}

std::vector<ObjectRef> RelationService::activity_targets(store::UnitOfWork& uow,
                                                         Id activity_id) const {
  readable(uow, {ObjectType::kActivity, activity_id});
  return readable_only(uow, store::stores(*db_).relations().activity_targets(uow, activity_id),
                       [](ObjectRef t) { return t; });
}

std::vector<Id> RelationService::activities_of(store::UnitOfWork& uow, ObjectRef target) const {
  readable(uow, target);
  return readable_only(uow, store::stores(*db_).relations().activities_of(uow, target), [](Id id) {
    return ObjectRef{ObjectType::kActivity, id};
  });
}

bool RelationService::tag(store::UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  require_link(uow, target, {ObjectType::kTag, tag_id});
  return store::stores(*db_).relations().tag(uow, tag_id, target);
}

bool RelationService::untag(store::UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  require_link(uow, target, {ObjectType::kTag, tag_id});
  return store::stores(*db_).relations().untag(uow, tag_id, target);
}

std::vector<Id> RelationService::tags_of(store::UnitOfWork& uow, ObjectRef target) const {
  readable(uow, target);
  return readable_only(uow, store::stores(*db_).relations().tags_of(uow, target), [](Id id) {
    return ObjectRef{ObjectType::kTag, id};
  });
}

std::vector<ObjectRef> RelationService::tagged_with(store::UnitOfWork& uow, Id tag_id) const {
  readable(uow, {ObjectType::kTag, tag_id});
  return readable_only(uow, store::stores(*db_).relations().tagged_with(uow, tag_id),
                       [](ObjectRef t) { return t; });
}

}  // namespace banyan
