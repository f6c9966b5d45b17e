// RecordService<T>: one record type's use cases as a principal may run them. The
// repository's operations, each checked against the access policy first, with sensitive
// fields masked on the way out. Obtain one from Engine (engine.contacts(who), ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "banyan/export.hpp"
#include "banyan/model/patch.hpp"
#include "banyan/security/access_policy.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/store/audit_log.hpp"
#include "banyan/store/database.hpp"
#include "banyan/store/query.hpp"

namespace banyan {

// What the Engine watches on a service's reads; both may be empty.
struct BANYAN_EXPORT ServiceHooks {
  // A read refused for scope (the record exists; it answered NotFound).
  std::function<void(const security::Principal&, ObjectRef)> denied;
  // `count` records of `type` a list is about to hand the principal; throws
  // (PermissionDenied) to refuse them, so nothing is handed out.
  std::function<void(const security::Principal&, ObjectType type, std::size_t count)> listed;
};

// A light value (the database, the principal and a shared policy) valid while its
// Database lives. Every method works in the caller's unit of work, like the repository's,
// and fails like it (ValidationError, NotFound, Conflict, ...), plus:
//  - a record the principal may not read is NotFound, as if it did not exist, so ids do
//    not reveal what is stored;
//  - a readable record the principal may not change, or a right it lacks entirely, is
//    PermissionDenied, and nothing is changed;
//  - sensitive fields (security::sensitive_fields, and custom fields defined sensitive)
//    of records the principal may not see them on come back empty; updating one, or
//    filtering or sorting on one, is PermissionDenied naming the field. (A create may set
//    them: it reveals nothing.)
//  - a read refused for scope (the record exists; it answered NotFound) is noted for the
//    audit trail (`hooks.denied`, when given: Engine's, see Engine::record_denied_reads);
//  - a list is counted against the principal's export allowance (`hooks.listed`: Engine's,
//    see EngineOptions::export_allowance) before it is handed out;
//  - external ids are unique across every record of a type, so writing one (create,
//    update, patch, upsert) needs read on every record of the type (scope all): anyone
//    else is refused (PermissionDenied naming external_id) before anything is looked up,
//    so a write cannot probe for the external ids of hidden records.
template <typename T>
class BANYAN_EXPORT RecordService {
 public:
  RecordService(const store::Database& db, security::Principal who,
                std::shared_ptr<const security::AccessPolicy> policy,
                ServiceHooks hooks = {}) noexcept;

  T get(store::UnitOfWork& uow, Id id) const;
  std::optional<T> find(store::UnitOfWork& uow, Id id) const;
  // The record with this external id, when there is one the principal may read (a hidden
  // one is nullopt, as a missing one is).
  std::optional<T> find_by_external_id(store::UnitOfWork& uow,
                                       const std::string& external_id) const;
  // Only the records the principal may read.
  store::Page<T> query(store::UnitOfWork& uow, const store::PageRequest& request) const;
  std::uint64_t count(store::UnitOfWork& uow, const store::Filter& filter = {},
                      bool include_archived = false) const;

  // A record with no owner becomes the principal's own (when it is a user). Needs create
  // reaching the record's owner and team; with Creation::kSupplied and a created_at or
  // created_by given, import reaching them too (PermissionDenied naming the field).
  T create(store::UnitOfWork& uow, const T& record, Creation creation = Creation::kNow) const;
  // Needs update reaching the stored record and, when the owner or team changes, the
  // new place too. A sensitive field the principal cannot see keeps its stored value
  // when it comes back empty.
  T update(store::UnitOfWork& uow, const T& record) const;
  // Archiving and restoring are deleting and its undo: they need delete.
  T archive(store::UnitOfWork& uow, Id id) const;
  T restore(store::UnitOfWork& uow, Id id) const;
  void remove(store::UnitOfWork& uow, Id id) const;
  // An update of the record with the same external id when there is one (an owner or
  // team left unset keeps the stored one), else a create.
  T upsert(store::UnitOfWork& uow, const T& record) const;

  // A partial update (model/patch.hpp), checked as update() is: naming a sensitive field
  // the principal cannot see is PermissionDenied, even to clear it. Unchanged when the
  // patch asks for what is stored (nothing written; the principal still needs update).
  WriteResult<T> patch(store::UnitOfWork& uow, Id id, const Patch<T>& patch) const;
  // By patch.values.external_id: a patch of the record with that external id when there
  // is one, else a create of patch.values and patch.custom (with patch.creation, checked
  // as create() checks it, before anything is looked up).
  WriteResult<T> upsert(store::UnitOfWork& uow, const Patch<T>& patch) const;

  // The record as it was at `when`, rebuilt from the audit trail, if the principal may
  // read it as it stood then (masked as get() masks); NotFound when it may not, or when
  // the record did not exist then.
  T as_of(store::UnitOfWork& uow, Id id, Timestamp when) const;
  // Every change to the record's fields (or to `field`), oldest first, for a record the
  // principal may read now; values of fields it may not see come back as "null".
  std::vector<store::FieldChange> history(store::UnitOfWork& uow, Id id,
                                          std::string_view field = {}) const;

  const security::Principal& principal() const noexcept { return who_; }

 private:
  // The stored record when the principal may read it, else NotFound.
  T readable(store::UnitOfWork& uow, Id id) const;
  // Whether the principal sees the sensitive fields of a record standing there.
  bool sees_sensitive(const T& record) const;
  // The names of the type's custom fields defined sensitive.
  std::vector<std::string> sensitive_custom(store::UnitOfWork& uow) const;
  // The custom fields defined now and not sensitive: all of a record's custom values a
  // principal that does not see its sensitive fields may see (a value kept under a name
  // since renamed or deleted is not among them).
  std::vector<std::string> open_custom(store::UnitOfWork& uow) const;
  T masked(T record, const std::vector<std::string>& open_custom) const;
  T masked(store::UnitOfWork& uow, T record) const;
  // What a write points at, for a record that will stand as `next` (`stored`: as it
  // stands now, null on create; `named`: the fields the write sets, all when null):
  // team_id only a team the principal's role may write in (any, with scope all); a
  // deal's company_id only a company the principal may read, refused exactly as a
  // missing one, so a write cannot probe for hidden records.
  void check_references(store::UnitOfWork& uow, const T& next, const T* stored,
                        security::Action action,
                        const std::vector<std::string>* named = nullptr) const;
  // PermissionDenied unless the principal sees every field the filter and the request's
  // sort keys (if any) name on every record it may read.
  void check_fields(store::UnitOfWork& uow, const store::Filter& filter,
                    const store::PageRequest* request) const;
  // PermissionDenied (external_id) unless the principal reads every record of the type.
  void check_external_id_writer() const;
  // PermissionDenied naming created_at or created_by when `record` supplies one with
  // Creation::kSupplied and the principal may not import records standing there.
  void check_creation(const T& record, Creation creation) const;

  const store::Database* db_;
  security::Principal who_;
  std::shared_ptr<const security::AccessPolicy> policy_;
  ServiceHooks hooks_;
};

}  // namespace banyan
