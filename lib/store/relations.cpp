#include "store/relations.hpp"

#include <algorithm>
#include <string>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

using namespace detail;  // NOLINT(google-build-using-namespace): internal helpers only

namespace {

void require(island::Transaction& tx, ObjectType type, Id id, const char* field) {
  if (!exists(tx, table_of(type), id)) {
    throw NotFound(std::string(field) + ": no " + std::string(to_string(type)) + " with id " +
                       std::to_string(id),
                   field);
  }
}

island::SqlFragment where_ids(std::initializer_list<std::pair<const char*, Id>> columns,
                              std::string_view order_by = "id") {
  island::SqlFragment q;
  bool first = true;
  for (const auto& [col, id] : columns) {
    q.text(first ? "" : " AND ");
    q.text(std::string(col) + " = ");
    q.param(int_param(static_cast<std::int64_t>(id)));
    first = false;
  }
  q.text(" ORDER BY " + std::string(order_by));
  return q;
}

island::SqlFragment where_object(const char* id_column, Id id, std::optional<ObjectRef> target) {
  island::SqlFragment q;
  if (id_column != nullptr) {
    q.text(std::string(id_column) + " = ");
    q.param(int_param(static_cast<std::int64_t>(id)));
  }
  if (target) {
    q.text(id_column != nullptr ? " AND " : "");
    q.text("object_type = ");
    q.param(text_param(std::string(to_string(target->type))));
    q.text(" AND object_id = ");
    q.param(int_param(static_cast<std::int64_t>(target->id)));
  }
  q.text(" ORDER BY id");
  return q;
}

}  // namespace

void Relations::link_company(UnitOfWork& uow, Id contact_id, Id company_id, bool primary) const {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  island::Transaction& tx = Session(uow).tx();
  require(tx, ObjectType::kContact, contact_id, "contact_id");
  require(tx, ObjectType::kCompany, company_id, "company_id");
  // One primary per contact: making this one primary demotes the others.
  for (auto& row : Rows::select(tx, where_ids({{"contact_id", contact_id}}))) {
    const bool is_this = row.company_id == company_id;
    if (is_this && row.is_primary == primary) return;
    if (is_this || (primary && row.is_primary)) {
      row.is_primary = is_this && primary;
      Rows::update(tx, row);
      if (is_this) return;
    }
  }
  odbrows::ContactCompanyRow row;
  row.contact_id = contact_id;
  row.company_id = company_id;
  row.is_primary = primary;
  Rows::insert(tx, row);
}

void Relations::unlink_company(UnitOfWork& uow, Id contact_id, Id company_id) const {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  island::Transaction& tx = Session(uow).tx();
  for (const auto& row :
       Rows::select(tx, where_ids({{"contact_id", contact_id}, {"company_id", company_id}})))
    Rows::erase(tx, row.id);
}

namespace {
std::vector<ContactCompanyLink> company_links(island::Transaction& tx, const char* column, Id id) {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  std::vector<ContactCompanyLink> out;
  for (const auto& row : Rows::select(tx, where_ids({{column, id}}, "is_primary DESC, id")))
    out.push_back({row.contact_id, row.company_id, row.is_primary});
  return out;
}
}  // namespace

std::vector<ContactCompanyLink> Relations::companies_of(UnitOfWork& uow, Id contact_id) const {
  return company_links(Session(uow).tx(), "contact_id", contact_id);
}

std::vector<ContactCompanyLink> Relations::contacts_of(UnitOfWork& uow, Id company_id) const {
  return company_links(Session(uow).tx(), "company_id", company_id);
}

void Relations::add_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id, DealRole role) const {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  island::Transaction& tx = Session(uow).tx();
  require(tx, ObjectType::kDeal, deal_id, "deal_id");
  require(tx, ObjectType::kContact, contact_id, "contact_id");
  const std::string role_name(to_string(role));
  auto rows = Rows::select(tx, where_ids({{"deal_id", deal_id}, {"contact_id", contact_id}}));
  if (!rows.empty()) {
    if (rows.front().role != role_name) {
      rows.front().role = role_name;
      Rows::update(tx, rows.front());
    }
    return;
  }
  odbrows::DealContactRow row;
  row.deal_id = deal_id;
  row.contact_id = contact_id;
  row.role = role_name;
  Rows::insert(tx, row);
}

void Relations::remove_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id) const {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  island::Transaction& tx = Session(uow).tx();
  for (const auto& row :
       Rows::select(tx, where_ids({{"deal_id", deal_id}, {"contact_id", contact_id}})))
    Rows::erase(tx, row.id);
}

std::vector<DealContactLink> Relations::deal_contacts(UnitOfWork& uow, Id deal_id) const {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  std::vector<DealContactLink> out;
  for (const auto& row : Rows::select(Session(uow).tx(), where_ids({{"deal_id", deal_id}})))
    out.push_back({row.deal_id, row.contact_id, parse_deal_role(row.role)});
  return out;
}

namespace {

// Links from an owning record (an activity, a tag) to any record: one shape, two tables.
template <typename Row, std::uint64_t Row::*kOwner>
struct ObjectLinks {
  using Rows = island::RowStore<Row>;
  ObjectType owner_type;
  const char* owner_column;

  void link(island::Transaction& tx, Id owner, ObjectRef target) const {
    if (target.type == owner_type) {
      throw ValidationError("target: a " + std::string(to_string(owner_type)) +
                                " cannot be linked to another " +
                                std::string(to_string(owner_type)),
                            "target");
    }
    require(tx, owner_type, owner, owner_column);
    require(tx, target.type, target.id, "target");
    if (!Rows::select(tx, where_object(owner_column, owner, target)).empty()) return;
    Row row;
    row.*kOwner = owner;
    row.object_type = std::string(to_string(target.type));
    row.object_id = target.id;
    Rows::insert(tx, row);
  }

  void unlink(island::Transaction& tx, Id owner, ObjectRef target) const {
    for (const auto& row : Rows::select(tx, where_object(owner_column, owner, target)))
      Rows::erase(tx, row.id);
  }

  std::vector<ObjectRef> targets(island::Transaction& tx, Id owner) const {
    std::vector<ObjectRef> out;
    for (const auto& row : Rows::select(tx, where_object(owner_column, owner, std::nullopt)))
      out.push_back({parse_object_type(row.object_type), row.object_id});
    return out;
  }

  std::vector<Id> owners(island::Transaction& tx, ObjectRef target) const {
    std::vector<Id> out;
    for (const auto& row : Rows::select(tx, where_object(nullptr, 0, target)))
      out.push_back(row.*kOwner);
    return out;
  }
};

constexpr ObjectLinks<odbrows::ActivityLinkRow, &odbrows::ActivityLinkRow::activity_id>
    kActivityLinks{ObjectType::kActivity, "activity_id"};
constexpr ObjectLinks<odbrows::TagLinkRow, &odbrows::TagLinkRow::tag_id> kTagLinks{ObjectType::kTag,
                                                                                   "tag_id"};

}  // namespace

void Relations::link_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const {
  kActivityLinks.link(Session(uow).tx(), activity_id, target);
}
void Relations::unlink_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const {
  kActivityLinks.unlink(Session(uow).tx(), activity_id, target);
}
std::vector<ObjectRef> Relations::activity_targets(UnitOfWork& uow, Id activity_id) const {
  return kActivityLinks.targets(Session(uow).tx(), activity_id);
}
std::vector<Id> Relations::activities_of(UnitOfWork& uow, ObjectRef target) const {
  return kActivityLinks.owners(Session(uow).tx(), target);
}

void Relations::tag(UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  kTagLinks.link(Session(uow).tx(), tag_id, target);
}
void Relations::untag(UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  kTagLinks.unlink(Session(uow).tx(), tag_id, target);
}
std::vector<Id> Relations::tags_of(UnitOfWork& uow, ObjectRef target) const {
  return kTagLinks.owners(Session(uow).tx(), target);
}
std::vector<ObjectRef> Relations::tagged_with(UnitOfWork& uow, Id tag_id) const {
  return kTagLinks.targets(Session(uow).tx(), tag_id);
}

}  // namespace banyan::store
