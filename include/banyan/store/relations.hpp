// Many-to-many relations between records: contacts and companies, deals and contacts,
// activities and the records they concern, tags and any record.
#pragma once

#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

struct BANYAN_EXPORT ContactCompanyLink {
  Id contact_id = 0;
  Id company_id = 0;
  bool primary = false;
  friend bool operator==(const ContactCompanyLink&, const ContactCompanyLink&) = default;
};

struct BANYAN_EXPORT DealContactLink {
  Id deal_id = 0;
  Id contact_id = 0;
  DealRole role = DealRole::kOther;
  friend bool operator==(const DealContactLink&, const DealContactLink&) = default;
};

// Obtain from Database::relations(); valid while the Database lives. Every call checks
// that the records it links exist (NotFound otherwise) and works in the caller's unit of
// work. Linking twice is idempotent (it updates the primary flag or role); unlinking
// what is not linked is a no-op.
class BANYAN_EXPORT Relations {
 public:
  explicit Relations(detail::DatabaseState* db) noexcept : db_(db) {}

  // Links a contact to a company. `primary` makes it the contact's only primary company.
  void link_company(UnitOfWork& uow, Id contact_id, Id company_id, bool primary = false) const;
  void unlink_company(UnitOfWork& uow, Id contact_id, Id company_id) const;
  // Ordered with the primary first, then by company id.
  std::vector<ContactCompanyLink> companies_of(UnitOfWork& uow, Id contact_id) const;
  std::vector<ContactCompanyLink> contacts_of(UnitOfWork& uow, Id company_id) const;

  void add_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id, DealRole role) const;
  void remove_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id) const;
  std::vector<DealContactLink> deal_contacts(UnitOfWork& uow, Id deal_id) const;

  // Links an activity to a record it concerns (any type but activity).
  void link_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  void unlink_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const;
  std::vector<ObjectRef> activity_targets(UnitOfWork& uow, Id activity_id) const;
  std::vector<Id> activities_of(UnitOfWork& uow, ObjectRef target) const;

  void tag(UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  void untag(UnitOfWork& uow, Id tag_id, ObjectRef target) const;
  std::vector<Id> tags_of(UnitOfWork& uow, ObjectRef target) const;
  std::vector<ObjectRef> tagged_with(UnitOfWork& uow, Id tag_id) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
