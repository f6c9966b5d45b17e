// Stores: the per-type stores of a Database, unchecked (they know no principal). Internal
// to the library: banyan::Engine, the layers beneath it and the tests reach records
// through them; hosts, bindings and users go through Engine, which checks the principal.
#pragma once

#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"
#include "banyan/store/database.hpp"
#include "store/audit_log.hpp"
#include "store/custom_field_registry.hpp"
#include "store/deal_stages.hpp"
#include "store/duplicates.hpp"
#include "store/lead_converter.hpp"
#include "store/outbox.hpp"
#include "store/relations.hpp"
#include "store/repository.hpp"
#include "store/request_log.hpp"
#include "store/search.hpp"

namespace banyan::store {

// Light handles (one pointer each), valid while the Database lives.
class Stores {
 public:
  explicit Stores(const Database& db) noexcept : db_(db.state_.get()) {}

  template <typename T>
  Repository<T> records() const noexcept {
    return Repository<T>(db_);
  }
  Repository<User> users() const noexcept { return records<User>(); }
  Repository<Team> teams() const noexcept { return records<Team>(); }
  Repository<Tag> tags() const noexcept { return records<Tag>(); }
  Repository<Company> companies() const noexcept { return records<Company>(); }
  Repository<Contact> contacts() const noexcept { return records<Contact>(); }
  Repository<Lead> leads() const noexcept { return records<Lead>(); }
  Repository<Pipeline> pipelines() const noexcept { return records<Pipeline>(); }
  Repository<Stage> stages() const noexcept { return records<Stage>(); }
  Repository<Deal> deals() const noexcept { return records<Deal>(); }
  Repository<Activity> activities() const noexcept { return records<Activity>(); }
  Relations relations() const noexcept { return Relations(db_); }
  CustomFieldRegistry custom_fields() const noexcept { return CustomFieldRegistry(db_); }
  Duplicates duplicates() const noexcept { return Duplicates(db_); }
  Outbox outbox() const noexcept { return Outbox(db_); }
  RequestLog request_log() const noexcept { return RequestLog(db_); }
  // Every write and refused access, hash-chained (see banyan/store/audit_log.hpp).
  AuditLog audit() const noexcept { return AuditLog(db_); }
  Search search() const noexcept { return Search(db_); }
  DealStages deal_stages() const noexcept { return DealStages(db_); }
  LeadConverter lead_converter() const noexcept { return LeadConverter(db_); }

 private:
  detail::DatabaseState* db_;
};

// stores(db).contacts(), ...
inline Stores stores(const Database& db) noexcept { return Stores(db); }

}  // namespace banyan::store
