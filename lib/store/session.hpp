// A unit of work as the code that keeps tables sees it: the store itself, and messaging,
// saga, security and the service layer, which own tables of their own. It is the one way
// into a UnitOfWork's inside (UnitOfWork keeps its state private and befriends only this).
//
// What it offers is narrow on purpose: the transaction, on which callers run statements
// (island::SqlFragment with typed parameters, island::execute and the query functions)
// and read rows (island::RowStore, island::ViewStore); the backend, for the few dialect
// differences; and the store's shared services, custom field definitions and the audit
// trail. The unit of work's own state (state(), database()) is for lib/store alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "store/database_state.hpp"
#include "store/odb/island.hpp"
#include "store/repository.hpp"

namespace banyan::store {

// A view of one unit of work; cheap to make, valid while the unit of work lives.
class Session {
 public:
  explicit Session(UnitOfWork& uow) noexcept : uow_(*uow.impl_) {}

  // The transaction. Conflict if the unit of work has already ended.
  island::Transaction& tx() { return uow_.live(); }
  island::Backend backend() const noexcept { return uow_.db->backend; }
  // Now by the database's clock (DatabaseOptions::clock), to the microsecond: what a
  // table's owner writes as the time of a change.
  Timestamp now() const { return uow_.db->clock->wall(); }
  // "INSERT OR IGNORE INTO " (SQLite) or "INSERT IGNORE INTO " (MySQL).
  const char* insert_ignore() const noexcept;

  // The custom field definitions of `type` as this unit of work sees them (its own
  // uncommitted changes included).
  std::shared_ptr<const detail::FieldSet> custom_fields(ObjectType type) {
    return detail::custom_fields_of(uow_, type);
  }
  // Notes a write of `object` for the audit trail (store/audit.hpp, audit_change).
  void audit(std::string action, ObjectRef object, const nlohmann::json& before,
             const nlohmann::json& after, std::int64_t at = 0, std::string detail = {});
  // Runs `done` once this unit of work has committed, not at all when it rolls back: for
  // what others may only see after the commit (a cache of what it changed dropped).
  // `done` must not throw.
  void after_commit(std::function<void()> done) { uow_.after_commit.push_back(std::move(done)); }
  // The repository of T in this unit of work's database.
  template <typename T>
  Repository<T> records() const noexcept {
    return Repository<T>(uow_.db);
  }

  // lib/store only: the unit of work's state and its database's.
  UnitOfWork::Impl& state() noexcept { return uow_; }
  detail::DatabaseState& database() const noexcept { return *uow_.db; }

 private:
  UnitOfWork::Impl& uow_;
};

}  // namespace banyan::store
