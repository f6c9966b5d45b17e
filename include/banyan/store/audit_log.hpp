// The audit trail: every write to a record, and every access refused, in commit order.
// Each entry carries a hash over the previous entry's hash and its own contents, so that
// editing, removing, inserting or reordering past entries is found by verify().
//
// Without an audit key the hash is SHA-256, which anyone with write access to the
// database can recompute after an edit. With one (DatabaseOptions::audit_key, kept outside
// the database like the encryption keys) it is an HMAC-SHA256 under that key, so a
// rewritten chain no longer checks out; and signed checkpoints (sequence, hash, time),
// appended to a file the operator keeps elsewhere, show entries cut off the end with the
// head reset to match. From the trail, every record has a field history and can be read
// as it was at a past time.
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

struct BANYAN_EXPORT AuditEntry {
  std::uint64_t id = 0;  // 1, 2, 3, ... in commit order, no gaps
  Timestamp at{};
  std::optional<Id> actor_id;  // the unit of work's actor
  // Its name (an email, a client id) when the writer gave it; "system" for a unit of work
  // with no user and no name: trusted code's (a saga, the CLI, an embedding program).
  std::string actor;
  std::string origin;  // where the request came from (a client address), when given
  // Records: created, updated, archived, restored, deleted, merged, converted; linked and
  // unlinked (a link changed: its name, "company.<id>", "contact.<id>", "<type>.<id>" or
  // "tag.<id>", is the change's field, on the owning record; see store::Relations). Access
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
  // A denial: what was refused, and why. A create that kept a migration's history:
  // "supplied created_at, created_by" (those it kept).
  std::string detail;
  std::string hash;  // hex SHA-256 of the previous entry's hash and this entry
};

struct BANYAN_EXPORT AuditQuery {
  std::optional<ObjectRef> object;
  std::optional<Id> actor_id;
  std::optional<Timestamp> from;  // at >= from
  std::optional<Timestamp> to;    // at < to
  std::uint64_t after = 0;        // only entries with a larger id: the next page
  std::size_t limit = 100;        // 1 to 1000, else ValidationError("limit")
};

// What the trail's head was at a time, signed (HMAC-SHA256 under a subkey of the audit key)
// so that nobody without the key can make one up. One line of an anchor file each.
struct BANYAN_EXPORT AuditCheckpoint {
  std::uint64_t sequence = 0;  // the last entry then (0: the trail was empty)
  std::string hash;            // its hash
  Timestamp at{};
  std::string signature;  // hex

  // "banyan-audit-checkpoint v1 <sequence> <hash> <at, µs since the epoch> <signature>"
  std::string line() const;
  // The reverse; ValidationError("anchor") for anything else.
  static AuditCheckpoint parse(std::string_view line);
};

// Appends a checkpoint to an anchor file (created if missing) and flushes it to disk;
// reads every checkpoint of one (blank lines skipped). Unavailable when the file cannot be
// written or read; ValidationError("anchor") naming the line that is not a checkpoint.
BANYAN_EXPORT void append_audit_anchor(const std::string& path, const AuditCheckpoint& checkpoint);
BANYAN_EXPORT std::vector<AuditCheckpoint> read_audit_anchor(const std::string& path);

struct [[nodiscard]] AuditVerification {
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

}  // namespace banyan::store
