// Partial writes: a patch names the fields it changes, and a write says what it did.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan {

// What a write did to the stored record.
enum class WriteOutcome {
  kCreated,
  kUpdated,
  kUnchanged,  // the write asked for what was stored: nothing was written (no new version,
               // no event, no audit entry)
};

// "created", "updated", "unchanged".
BANYAN_EXPORT std::string_view to_string(WriteOutcome outcome) noexcept;

// Where a new record's created_at and created_by come from.
enum class Creation {
  kNow,       // the store's clock and the unit of work's actor: every create's default
  kSupplied,  // the record's own where set (data migrated from another system: a time not
              // in the future, an existing user), the rest as kNow. Needs the import
              // action; the audit entry says which were supplied.
};

template <typename T>
struct WriteResult {
  T record;  // as stored after the write (or as it was, when unchanged)
  WriteOutcome outcome = WriteOutcome::kUnchanged;
};

// A partial update of one record: JSON Merge Patch (RFC 7396) in C++ form. The standard
// fields named in `fields` take their values from `values`; each custom field in `custom`
// takes its value, or is cleared by std::monostate; everything else stays as stored.
//
// Names are the fields' public names, as in JSON and filters: "title", "owner_id",
// "amount". A part of a composite value may be named alone ("amount.currency"). Naming
// "custom" replaces every custom value with values.custom (then `custom` applies). Naming
// a field the store sets (id, version, created_at, ...) or no field at all is a
// ValidationError for that name.
//
// Used to create (an upsert that finds no record), `values` is the whole new record, with
// `custom` as its custom values.
template <typename T>
struct Patch {
  T values;
  std::vector<std::string> fields;
  CustomFields custom;
  // When set, the stored record must be at this version, else Conflict("version").
  std::optional<std::uint64_t> expected_version;
  // For an upsert that creates: kSupplied keeps values.created_at and values.created_by.
  // An update leaves the stored ones as they are.
  Creation creation = Creation::kNow;

  // Names `field`, whose value the caller sets in `values`:
  //   Patch<Contact> p; p.values.title = "Countess"; p.name("title");
  Patch& name(std::string field) {
    fields.push_back(std::move(field));
    return *this;
  }
  Patch& set_custom(std::string field, CustomValue value) {
    custom[std::move(field)] = std::move(value);
    return *this;
  }
  Patch& clear_custom(std::string field) { return set_custom(std::move(field), std::monostate{}); }
};

}  // namespace banyan
