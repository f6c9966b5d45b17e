#include "store/relations.hpp"

#include <algorithm>
#include <string>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/outbox_writer.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

using namespace detail;  // NOLINT(google-build-using-namespace): internal helpers only
using nlohmann::json;

namespace {

// The record's version; NotFound (naming `field`) when there is no such record.
std::uint64_t require(island::Transaction& tx, ObjectType type, Id id, const char* field) {
  island::SqlFragment q;
  q.text("SELECT version FROM " + std::string(table_of(type)) + " WHERE id = ");
  q.param(int_param(static_cast<std::int64_t>(id)));
  const auto versions = island::query_ints(tx, q, 1);
  if (versions.empty()) {
    throw NotFound(std::string(field) + ": no " + std::string(to_string(type)) + " with id " +
                       std::to_string(id),
                   field);
  }
  return static_cast<std::uint64_t>(versions.front());
}

// A link made, changed or broken: its event (`<owner type>.<what>`) in this unit of work's
// outbox, and its audit entry on the owning record, whose changes name the link (`key`)
// with what it was and is (null where there was or is none).
void note_link(UnitOfWork& uow, ObjectRef owner, std::uint64_t version, std::string_view what,
               json payload, const std::string& key, const json& before, const json& after) {
  append_event(uow, std::string(to_string(owner.type)) + "." + std::string(what), owner, version,
               payload);
  Session(uow).audit(after.is_null() ? "unlinked" : "linked", owner, json{{key, before}},
                     json{{key, after}});
}

// The version of a record named as an owner, for an unlink's event (0 when it is gone).
std::uint64_t version_or_zero(island::Transaction& tx, ObjectType type, Id id) {
  try {
    return require(tx, type, id, "id");
  } catch (const NotFound&) {
    return 0;
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

std::string company_key(Id company_id) { return "company." + std::to_string(company_id); }
std::string contact_key(Id contact_id) { return "contact." + std::to_string(contact_id); }
std::string record_key(ObjectRef r) {
  return std::string(to_string(r.type)) + "." + std::to_string(r.id);
}

}  // namespace

bool Relations::link_company(UnitOfWork& uow, Id contact_id, Id company_id, bool primary) const {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  island::Transaction& tx = Session(uow).tx();
  const auto version = require(tx, ObjectType::kContact, contact_id, "contact_id");
  require(tx, ObjectType::kCompany, company_id, "company_id");
  const ObjectRef contact{ObjectType::kContact, contact_id};
  const json payload{{"contact_id", contact_id}, {"company_id", company_id}, {"primary", primary}};
  auto note = [&](const json& before) {
    note_link(uow, contact, version, "company_linked", payload, company_key(company_id), before,
              json{{"primary", primary}});
  };
  // One primary per contact: making this one primary demotes the others.
  std::optional<odbrows::ContactCompanyRow> existing;
  for (auto& row : Rows::select(tx, where_ids({{"contact_id", contact_id}}))) {
    if (row.company_id == company_id) {
      existing = row;
    } else if (primary && row.is_primary) {
      row.is_primary = false;
      Rows::update(tx, row);
      note_link(
          uow, contact, version, "company_linked",
          json{{"contact_id", contact_id}, {"company_id", row.company_id}, {"primary", false}},
          company_key(row.company_id), json{{"primary", true}}, json{{"primary", false}});
    }
  }
  if (existing) {
    if (existing->is_primary == primary) return false;
    const json before{{"primary", existing->is_primary}};
    existing->is_primary = primary;
    Rows::update(tx, *existing);
    note(before);
    return true;
  }
  odbrows::ContactCompanyRow row;
  row.contact_id = contact_id;
  row.company_id = company_id;
  row.is_primary = primary;
  Rows::insert(tx, row);
  note(nullptr);
  return true;
}

bool Relations::unlink_company(UnitOfWork& uow, Id contact_id, Id company_id) const {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  island::Transaction& tx = Session(uow).tx();
  const auto rows =
      Rows::select(tx, where_ids({{"contact_id", contact_id}, {"company_id", company_id}}));
  if (rows.empty()) return false;
  for (const auto& row : rows) Rows::erase(tx, row.id);
  note_link(uow, {ObjectType::kContact, contact_id},
            version_or_zero(tx, ObjectType::kContact, contact_id), "company_unlinked",
            json{{"contact_id", contact_id}, {"company_id", company_id}}, company_key(company_id),
            json{{"primary", rows.front().is_primary}}, nullptr);
  return true;
}

namespace {
std::vector<ContactCompanyLink> company_links(island::Transaction& tx, const char* column, Id id) {
  using Rows = island::RowStore<odbrows::ContactCompanyRow>;
  std::vector<ContactCompanyLink> out;
  for (const auto& row : Rows::select(tx, where_ids({{column, id}}, "is_primary DESC, id")))
    out.push_back({row.contact_id, row.company_id, row.is_primary});
  return out;
}

std::vector<DealContactLink> deal_links(island::Transaction& tx, const char* column, Id id) {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  std::vector<DealContactLink> out;
  for (const auto& row : Rows::select(tx, where_ids({{column, id}})))
    out.push_back({row.deal_id, row.contact_id, parse_deal_role(row.role)});
  return out;
}
}  // namespace

std::vector<ContactCompanyLink> Relations::companies_of(UnitOfWork& uow, Id contact_id) const {
  return company_links(Session(uow).tx(), "contact_id", contact_id);
}

std::vector<ContactCompanyLink> Relations::contacts_of(UnitOfWork& uow, Id company_id) const {
  return company_links(Session(uow).tx(), "company_id", company_id);
}

bool Relations::add_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id, DealRole role) const {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  island::Transaction& tx = Session(uow).tx();
  const auto version = require(tx, ObjectType::kDeal, deal_id, "deal_id");
  require(tx, ObjectType::kContact, contact_id, "contact_id");
  const std::string role_name(to_string(role));
  auto note = [&](const json& before) {
    note_link(uow, {ObjectType::kDeal, deal_id}, version, "contact_linked",
              json{{"deal_id", deal_id}, {"contact_id", contact_id}, {"role", role_name}},
              contact_key(contact_id), before, json{{"role", role_name}});
  };
  auto rows = Rows::select(tx, where_ids({{"deal_id", deal_id}, {"contact_id", contact_id}}));
  if (!rows.empty()) {
    if (rows.front().role == role_name) return false;
    const json before{{"role", rows.front().role}};
    rows.front().role = role_name;
    Rows::update(tx, rows.front());
    note(before);
    return true;
  }
  odbrows::DealContactRow row;
  row.deal_id = deal_id;
  row.contact_id = contact_id;
  row.role = role_name;
  Rows::insert(tx, row);
  note(nullptr);
  return true;
}

bool Relations::remove_deal_contact(UnitOfWork& uow, Id deal_id, Id contact_id) const {
  using Rows = island::RowStore<odbrows::DealContactRow>;
  island::Transaction& tx = Session(uow).tx();
  const auto rows = Rows::select(tx, where_ids({{"deal_id", deal_id}, {"contact_id", contact_id}}));
  if (rows.empty()) return false;
  for (const auto& row : rows) Rows::erase(tx, row.id);
  note_link(uow, {ObjectType::kDeal, deal_id}, version_or_zero(tx, ObjectType::kDeal, deal_id),
            "contact_unlinked", json{{"deal_id", deal_id}, {"contact_id", contact_id}},
            contact_key(contact_id), json{{"role", rows.front().role}}, nullptr);
  return true;
}

std::vector<DealContactLink> Relations::deal_contacts(UnitOfWork& uow, Id deal_id) const {
  return deal_links(Session(uow).tx(), "deal_id", deal_id);
}

std::vector<DealContactLink> Relations::deals_of(UnitOfWork& uow, Id contact_id) const {
  return deal_links(Session(uow).tx(), "contact_id", contact_id);
}

namespace {

// Links from an owning record (an activity, a tag) to any record: one shape, two tables.
// An activity's links are the activity's (activity.target_linked, on the activity); a
// tag's belong to the record tagged (<type>.tagged, on that record).
template <typename Row, std::uint64_t Row::*kOwner>
struct ObjectLinks {
  using Rows = island::RowStore<Row>;
  ObjectType owner_type;
  const char* owner_column;
  bool owned_by_target;      // whose event and audit entry a change is
  const char* linked_event;  // "target_linked", "tagged"
  const char* unlinked_event;

  // The record a change is noted on, and the name of the link there.
  std::pair<ObjectRef, std::string> noted(Id owner, ObjectRef target) const {
    if (owned_by_target) return {target, record_key({owner_type, owner})};
    return {ObjectRef{owner_type, owner}, record_key(target)};
  }
  json payload(Id owner, ObjectRef target) const {
    return json{{std::string(owner_column), owner},
                {"object_type", std::string(to_string(target.type))},
                {"object_id", target.id}};
  }

  bool link(UnitOfWork& uow, Id owner, ObjectRef target) const {
    island::Transaction& tx = Session(uow).tx();
    if (target.type == owner_type) {
      throw ValidationError("target: a " + std::string(to_string(owner_type)) +
                                " cannot be linked to another " +
                                std::string(to_string(owner_type)),
                            "target");
    }
    const auto owner_version = require(tx, owner_type, owner, owner_column);
    const auto target_version = require(tx, target.type, target.id, "target");
    if (!Rows::select(tx, where_object(owner_column, owner, target)).empty()) return false;
    Row row;
    row.*kOwner = owner;
    row.object_type = std::string(to_string(target.type));
    row.object_id = target.id;
    Rows::insert(tx, row);
    const auto [on, key] = noted(owner, target);
    note_link(uow, on, owned_by_target ? target_version : owner_version, linked_event,
              payload(owner, target), key, nullptr, true);
    return true;
  }

  bool unlink(UnitOfWork& uow, Id owner, ObjectRef target) const {
    island::Transaction& tx = Session(uow).tx();
    const auto rows = Rows::select(tx, where_object(owner_column, owner, target));
    if (rows.empty()) return false;
    for (const auto& row : rows) Rows::erase(tx, row.id);
    const auto [on, key] = noted(owner, target);
    note_link(uow, on, version_or_zero(tx, on.type, on.id), unlinked_event, payload(owner, target),
              key, true, nullptr);
    return true;
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
    kActivityLinks{ObjectType::kActivity, "activity_id", false, "target_linked", "target_unlinked"};
constexpr ObjectLinks<odbrows::TagLinkRow, &odbrows::TagLinkRow::tag_id> kTagLinks{
    ObjectType::kTag, "tag_id", true, "tagged", "untagged"};

}  // namespace

bool Relations::link_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const {
  return kActivityLinks.link(uow, activity_id, target);
}
bool Relations::unlink_activity(UnitOfWork& uow, Id activity_id, ObjectRef target) const {
  return kActivityLinks.unlink(uow, activity_id, target);
}
std::vector<ObjectRef> Relations::activity_targets(UnitOfWork& uow, Id activity_id) const {
  return kActivityLinks.targets(Session(uow).tx(), activity_id);
}
std::vector<Id> Relations::activities_of(UnitOfWork& uow, ObjectRef target) const {
  return kActivityLinks.owners(Session(uow).tx(), target);
}

bool Relations::tag(UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  return kTagLinks.link(uow, tag_id, target);
}
bool Relations::untag(UnitOfWork& uow, Id tag_id, ObjectRef target) const {
  return kTagLinks.unlink(uow, tag_id, target);
}
std::vector<Id> Relations::tags_of(UnitOfWork& uow, ObjectRef target) const {
  return kTagLinks.owners(Session(uow).tx(), target);
}
std::vector<ObjectRef> Relations::tagged_with(UnitOfWork& uow, Id tag_id) const {
  return kTagLinks.targets(Session(uow).tx(), tag_id);
}

}  // namespace banyan::store
