// Relations: the links between records (contacts and companies, deals and contacts,
// activities and their records, tags and any record), unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/relations.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::relations(); valid while the Database lives. Every call checks
// that the records it links exist (NotFound otherwise) and works in the caller's unit of
// work. Linking twice is idempotent (it updates the primary flag or role); unlinking
// what is not linked is a no-op. A link or unlink that changes something returns true
// and, in the same unit of work, appends its event and an audit entry ("linked",
// "unlinked") on the owning record, whose changes name the link ("company.<id>",
// "contact.<id>", "<type>.<id>", "tag.<id>") with what it was and is:
//   contact.company_linked / contact.company_unlinked   {contact_id, company_id, primary}
//     (also when the primary flag changes, for each link whose flag changed)
//   deal.contact_linked / deal.contact_unlinked         {deal_id, contact_id, role}
//   activity.target_linked / activity.target_unlinked   {activity_id, object_type, object_id}
//   <type>.tagged / <type>.untagged, on the record      {tag_id, object_type, object_id}
class Relations {
 public:
  explicit Relations(detail::DatabaseState* db) noexcept : db_(db) {}

  // Links a contact to a company. `primary` makes it the contact's only primary company.
  bool link_company(UnitOfWork& uow, Id contact_id, Id company_id, bool primary = false) const;
  bool unlink_company(UnitOfWork& uow, Id contact_id, Id company_id) const;
  // Ordered with the primary first, then by company id.
  std::vector<ContactCompanyLink> companies_of(UnitOfWork& uow, Id contact_id) const;
  std::vector<ContactCompanyLink> contacts_of(UnitOfWork& uow, Id company_id) const;

  bool add_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id, DealRole role) const;
  bool remove_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id) const;
  std::vector<DealContactLink> deal_contacts(UnitOfWork& uow, Id deal_id) const;
  // The deals a contact takes part in, by deal id.
  std::vector<DealContactLink> deals_of(UnitOfWork& uow, Id contact_id) const;

  // Links an activity to a record it concerns (any type but activity).
  bool link_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  bool unlink_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  std::vector<ObjectRef> activity_targets(UnitOfWork& uow, Id activity_id) const;
  std::vector<Id> activities_of(UnitOfWork& uow, ObjectRef target) const;

  bool tag(UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  bool untag(UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  std::vector<Id> tags_of(UnitOfWork& uow, ObjectRef target) const;
  std::vector<ObjectRef> tagged_with(UnitOfWork& uow, Id tag_id) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
