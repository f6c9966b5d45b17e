// What every Banyan record has, and the small value types the domain is built from.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "banyan/export.hpp"

namespace banyan {

using Id = std::uint64_t;
// UTC instants with microsecond precision, the precision both backends keep.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;
// A calendar date (no time of day, no zone), e.g. a deal's expected close date.
using Date = std::chrono::sys_days;

// An amount of money in minor units (cents for USD) of an ISO 4217 currency.
struct BANYAN_EXPORT Money {
  std::int64_t minor_units = 0;
  std::string currency = "USD";

  friend bool operator==(const Money&, const Money&) = default;
};

// A custom field's value (see model/custom_field.hpp for which type holds which).
// std::monostate is "no value".
using CustomValue = std::variant<std::monostate, std::string, std::int64_t, double, bool, Date,
                                 Timestamp, std::vector<std::string>, Money>;

// Custom field values of one record, keyed by field name.
using CustomFields = std::map<std::string, CustomValue>;

// Every kind of record Banyan stores. The string names ("contact", "deal", ...) are
// stable: they appear in tag and activity links, cursors and events.
enum class ObjectType {
  kUser,
  kTeam,
  kTag,
  kCompany,
  kContact,
  kLead,
  kPipeline,
  kStage,
  kDeal,
  kActivity,
};

BANYAN_EXPORT std::string_view to_string(ObjectType type) noexcept;
// Throws ValidationError (field "object_type") for an unknown name.
BANYAN_EXPORT ObjectType parse_object_type(std::string_view name);

// A typed reference to any record, used by links (tags, activities).
struct BANYAN_EXPORT ObjectRef {
  ObjectType type = ObjectType::kContact;
  Id id = 0;

  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

// Columns every record carries. The store sets id, version, the created/updated pair
// and archived_at; callers set owner, team and external id.
struct BANYAN_EXPORT Record {
  Id id = 0;
  // Optimistic concurrency: update() must carry the version it read, else Conflict.
  std::uint64_t version = 0;
  std::optional<Id> owner_id;  // a user
  std::optional<Id> team_id;
  Timestamp created_at{};
  std::optional<Id> created_by;
  Timestamp updated_at{};
  std::optional<Id> updated_by;
  // Unique per object type; upsert() matches on it. At most 255 characters.
  std::optional<std::string> external_id;
  // Set while the record is archived (soft-deleted); archived records are hidden from
  // queries unless asked for.
  std::optional<Timestamp> archived_at;
  // Custom field values by field name (see model/custom_field.hpp). A write validates
  // them against the type's definitions; an update replaces the whole map.
  CustomFields custom;

  bool archived() const noexcept { return archived_at.has_value(); }
  friend bool operator==(const Record&, const Record&) = default;
};

}  // namespace banyan
