// AuditLog: the hash-chained audit trail (see banyan/store/audit_log.hpp), unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/audit_log.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::audit(); valid while the Database lives. Entries are appended by
// the store itself when a unit of work that wrote records commits, in the same
// transaction: a write is never without its entry, nor an entry without its write.
class AuditLog {
 public:
  explicit AuditLog(detail::DatabaseState* db) noexcept : db_(db) {}

  // Oldest first.
  std::vector<AuditEntry> query(UnitOfWork& uow, const AuditQuery& query) const;
  // Reads the whole log in order, checking each entry's number, link and hash, and that
  // the last one is the head the store recorded (so that cutting off the newest entries
  // shows too).
  // A keyed trail needs its key (Unavailable without it). With `anchors` (checkpoints
  // from an anchor file), each must carry the key's signature and name an entry that is
  // still there with the hash it had: entries cut off the end, head and all, show there.
  [[nodiscard]] AuditVerification verify(UnitOfWork& uow,
                                         const std::vector<AuditCheckpoint>& anchors = {}) const;
  // A signed checkpoint of the head as it is in `uow`. Unavailable without an audit key.
  AuditCheckpoint checkpoint(UnitOfWork& uow) const;
  // The first entry keyed with the audit key; 0 when the trail is not keyed.
  std::uint64_t keyed_from(UnitOfWork& uow) const;
  // Every change to the record's fields (or to `field` alone), oldest first, sealed values
  // opened (Unavailable when a value's key is no longer in the ring).
  std::vector<FieldChange> history(UnitOfWork& uow, ObjectRef object,
                                   std::string_view field = {}) const;
  // The record as it was at `when`, rebuilt from its entries: nothing when it did not
  // exist then (not created yet, or deleted), or its creation predates the audit trail.
  template <typename T>
  std::optional<T> as_of(UnitOfWork& uow, Id id, Timestamp when) const;
  // Notes a refused access (in `uow`, which the caller commits: not the refused one).
  void record_denial(UnitOfWork& uow, ObjectRef object, std::string_view detail) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
