// Repository<T>: create, read, update, archive, restore, delete, upsert and query one
// record type; obtained from Stores (stores(db).contacts(), ...).
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include <cstdint>
#include <optional>

#include "banyan/model/patch.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/query.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// A light handle (one pointer) valid while its Database lives. Every method works in
// the caller's unit of work, so several calls commit or roll back together. Errors:
// ValidationError (bad input; the field is named), NotFound, Conflict (stale version,
// duplicate unique key, a reference that forbids deletion), Unavailable and
// PoolExhausted from the database. A failed call changes nothing in the database, but
// the unit of work it ran in should then be rolled back.
template <typename T>
class Repository {
 public:
  explicit Repository(detail::DatabaseState* db) noexcept : db_(db) {}

  // Stores a new record. Ignores the id, version, timestamps and archived_at it is
  // given (created_at and created_by are kept where given with Creation::kSupplied);
  // returns the stored record with those set (version 1).
  T create(UnitOfWork& uow, const T& record, Creation creation = Creation::kNow) const;
  // The record, archived or not; NotFound if there is none with this id.
  T get(UnitOfWork& uow, Id id) const;
  std::optional<T> find(UnitOfWork& uow, Id id) const;
  std::optional<T> find_by_external_id(UnitOfWork& uow, const std::string& external_id) const;
  // Writes every caller-settable field. `record.version` must be the stored version,
  // else Conflict. Returns the stored record: its version incremented, or as it was when
  // the record already held every value given (then nothing is written: no version, no
  // event, no audit entry). Rules that hold only for what a write touches (a required
  // custom field, a deal's stage and status) apply to the fields whose values change.
  T update(UnitOfWork& uow, const T& record) const;
  // Changes the fields the patch names and keeps the rest (see model/patch.hpp), under
  // the version check when the patch carries one (Conflict "version"). Touched fields are
  // the ones it names or changes. A patch that changes nothing writes nothing (kUnchanged).
  WriteResult<T> patch(UnitOfWork& uow, Id id, const Patch<T>& patch) const;
  // Soft delete and its undo. Idempotent; each real change bumps the version.
  T archive(UnitOfWork& uow, Id id) const;
  T restore(UnitOfWork& uow, Id id) const;
  // Hard delete, with the record's tag and activity links. NotFound if absent;
  // Conflict if other records still refer to it (a stage's deals, a pipeline's stages).
  void remove(UnitOfWork& uow, Id id) const;
  // Creates the record, or updates the one with the same external_id (which must be
  // set, else ValidationError), ignoring the version it is given. The update writes every
  // field, as update() does: to change only some, upsert a Patch.
  T upsert(UnitOfWork& uow, const T& record) const;
  // By patch.values.external_id (required, else ValidationError): a patch of the record
  // that has it (kUpdated or kUnchanged), else a create of patch.values with patch.custom
  // as its custom values (kCreated). patch.expected_version applies to an update only.
  WriteResult<T> upsert(UnitOfWork& uow, const Patch<T>& patch) const;

  Page<T> query(UnitOfWork& uow, const PageRequest& request) const;
  std::uint64_t count(UnitOfWork& uow, const Filter& filter = {},
                      bool include_archived = false) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
