// RelationService: the links between records (store::Relations) as a principal may make,
// break and list them. Obtain one from Engine (engine.relations(who)).
#pragma once

#include <memory>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/record.hpp"
#include "banyan/record_service.hpp"
#include "banyan/security/access_policy.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/database.hpp"
#include "banyan/store/relations.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan {

// A light value valid while its Database lives; every method works in the caller's unit
// of work and fails like store::Relations, plus:
//  - every record named must be one the principal may read, else NotFound as if it did
//    not exist (and the refused read is noted for the audit trail, as RecordService
//    does);
//  - linking and unlinking change the owning side, so they need update on it: the
//    contact of a contact-company link, the deal of a deal contact, the activity of an
//    activity target, the tagged record of a tag (PermissionDenied otherwise, nothing
//    changed); the other end needs read only;
//  - a list names only the linked records the principal may read: the others are left
//    out, unnoted (listing what one may see is not probing);
//  - a link or unlink returns true when it changed something, and then its event and its
//    audit entry are in the unit of work (store::Relations says which); linking what is
//    linked alike, or unlinking what is not linked, changes nothing and notes nothing.
class BANYAN_EXPORT RelationService {
 public:
  RelationService(const store::Database& db, security::Principal who,
                  std::shared_ptr<const security::AccessPolicy> policy,
                  ServiceHooks hooks = {}) noexcept;

  bool link_company(store::UnitOfWork& uow, Id contact_id, Id company_id,
                    bool primary = false) const;
  bool unlink_company(store::UnitOfWork& uow, Id contact_id, Id company_id) const;
  std::vector<store::ContactCompanyLink> companies_of(store::UnitOfWork& uow, Id contact_id) const;
  std::vector<store::ContactCompanyLink> contacts_of(store::UnitOfWork& uow, Id company_id) const;

  bool add_deal_contact(store::UnitOfWork& uow, Id deal_id, Id contact_id, DealRole role) const;
  bool remove_deal_contact(store::UnitOfWork& uow, Id deal_id, Id contact_id) const;
  std::vector<store::DealContactLink> deal_contacts(store::UnitOfWork& uow, Id deal_id) const;
  // The deals a contact takes part in (those the principal may read).
  std::vector<store::DealContactLink> deals_of(store::UnitOfWork& uow, Id contact_id) const;

  bool link_activity(store::UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  bool unlink_activity(store::UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  std::vector<ObjectRef> activity_targets(store::UnitOfWork& uow, Id activity_id) const;
  std::vector<Id> activities_of(store::UnitOfWork& uow, ObjectRef target) const;

  bool tag(store::UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  bool untag(store::UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  std::vector<Id> tags_of(store::UnitOfWork& uow, ObjectRef target) const;
  std::vector<ObjectRef> tagged_with(store::UnitOfWork& uow, Id tag_id) const;

  const security::Principal& principal() const noexcept { return who_; }

 private:
  // Where `record` stands, when the principal may read it; NotFound (noted) otherwise.
  security::RecordScope readable(store::UnitOfWork& uow, ObjectRef record) const;
  // `items` without those whose record (`ref_of(item)`) the principal may not read.
  template <typename Item, typename RefOf>
  std::vector<Item> readable_only(store::UnitOfWork& uow, std::vector<Item> items,
                                  RefOf ref_of) const;
  // `record` readable and changeable by the principal; the other end readable.
  void require_link(store::UnitOfWork& uow, ObjectRef owner, ObjectRef other) const;

  const store::Database* db_;
  security::Principal who_;
  std::shared_ptr<const security::AccessPolicy> policy_;
  ServiceHooks hooks_;
};

}  // namespace banyan
