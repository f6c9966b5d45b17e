// How the store writes its audit trail (the public side is banyan/store/audit_log.hpp):
// a write notes what it changed in its unit of work, and the unit of work appends the
// entries, chained by hash, when it commits.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "banyan/model/record.hpp"
#include "store/database_state.hpp"

namespace banyan::store::detail {

// The fields that differ between two payloads of a record (row_payload; null for none):
// {"field": [before, after], ...}, custom fields flattened to "custom.<name>".
nlohmann::json payload_diff(const nlohmann::json& before, const nlohmann::json& after);

// Notes a write of `object` for the audit trail: `before` and `after` are its payloads
// (row_payload), null where it did not exist. `at` (µs) is the write's time, the record's
// updated_at where it has one, so that reading it as of that time finds this write; 0:
// now. `detail` says more of the write (a create's supplied created_at).
void audit_change(UnitOfWork::Impl& uow, std::string action, ObjectRef object,
                  const nlohmann::json& before, const nlohmann::json& after, std::int64_t at = 0,
                  std::string detail = {});

// With an audit key, keys the trail from its next entry on if it is not keyed yet, or
// checks that it is keyed with this key (Unavailable if not). Called by Database::open.
void key_audit_trail(DatabaseState& state);

// Appends the unit of work's pending entries to the log: takes the head row's lock (on
// MySQL; SQLite's write lock is the transaction's already), numbers and chains them,
// and moves the head. Called by UnitOfWork::commit() before the commit itself.
void flush_audit(UnitOfWork::Impl& uow);

}  // namespace banyan::store::detail
