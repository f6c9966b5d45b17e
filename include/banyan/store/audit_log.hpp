// The audit trail: every write to a record, and every access refused, in commit order.
// Each entry carries a SHA-256 hash over the previous entry's hash and its own contents,
// so that editing, removing, inserting or reordering past entries is found by verify().
// From it, every record has a field history and can be read as it was at a past time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

struct BANYAN_EXPORT AuditEntry {
  std::uint64_t id = 0;  // 1, 2, 3, ... in commit order, no gaps
  Timestamp at{};
  std::optional<Id> actor_id;  // the unit of work's actor
  std::string actor;           // its name (an email, a client id), when the writer gave it
  std::string origin;          // where the request came from (a client address), when given
  // Records: created, updated, archived, restored, deleted, merged, converted. Access
  // (on the user): role_assigned, role_revoked, team_joined, team_left, api_key_created,
  // api_key_revoked, identity_linked, identity_unlinked. Custom role definitions (on no
  // record: user 0, the change's field "role.<name>"): role_created, role_updated,
  // role_deleted. A refusal: denied.
  std::string action;
  ObjectRef object{};
  // What the write changed, as a JSON object text: {"field": [before, after], ...}, values
  // as stored (times in microseconds since the epoch, dates in days since it; sensitive
  // values sealed when encryption at rest is on: history() opens them), custom fields as
  // "custom.<name>". "{}" for a denial.
  std::string changes;
  std::string detail;  // a denial: what was refused, and why
  std::string hash;    // hex SHA-256 of the previous entry's hash and this entry
};

struct BANYAN_EXPORT AuditQuery {
  std::optional<ObjectRef> object;
  std::optional<Id> actor_id;
  std::optional<Timestamp> from;  // at >= from
  std::optional<Timestamp> to;    // at < to
  std::uint64_t after = 0;        // only entries with a larger id: the next page
  std::size_t limit = 100;        // 1 to 1000, else ValidationError("limit")
};

struct BANYAN_EXPORT AuditVerification {
  bool intact = true;
  std::uint64_t entries = 0;    // entries checked
  std::uint64_t first_bad = 0;  // the first entry that does not check out; 0 when intact
  std::string problem;          // what is wrong there
};

// One field's change, from one entry.
struct BANYAN_EXPORT FieldChange {
  std::uint64_t entry = 0;
  Timestamp at{};
  std::optional<Id> actor_id;
  std::string actor;
  std::string action;
  std::string field;
  std::string before;  // JSON values as in AuditEntry::changes ("null" for none)
  std::string after;
};

// Obtain from Database::audit(); valid while the Database lives. Entries are appended by
// the store itself when a unit of work that wrote records commits, in the same
// transaction: a write is never without its entry, nor an entry without its write.
class BANYAN_EXPORT AuditLog {
 public:
  explicit AuditLog(detail::DatabaseState* db) noexcept : db_(db) {}

  // Oldest first.
  std::vector<AuditEntry> query(UnitOfWork& uow, const AuditQuery& query) const;
  // Reads the whole log in order, checking each entry's number, link and hash, and that
  // the last one is the head the store recorded (so that cutting off the newest entries
  // shows too).
  AuditVerification verify(UnitOfWork& uow) const;
  // Every change to the record's fields (or to `field` alone), oldest first, sealed values
  // opened (Unavailable when a value's key is no longer in the ring).
  std::vector<FieldChange> history(UnitOfWork& uow, ObjectRef object, std::string_view field = {}) const;
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
