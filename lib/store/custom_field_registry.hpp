// CustomFieldRegistry: define, change and retire custom fields at run time, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/custom_fields.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::custom_fields(); valid while the Database lives. Every call works
// in the caller's unit of work. Records then carry values in Record::custom, validated on
// every write; filters and sorts name them "custom.<name>" with the same operators as
// standard fields (contains on a multi-enum field means "has this option").
class CustomFieldRegistry {
 public:
  explicit CustomFieldRegistry(detail::DatabaseState* db) noexcept : db_(db) {}

  // Creates a definition. ValidationError for a bad name, options, limits or default;
  // Conflict("name") when the object type already has a field of that name.
  CustomFieldDefinition define(UnitOfWork& uow, const CustomFieldDefinition& definition) const;
  CustomFieldDefinition get(UnitOfWork& uow, Id id) const;  // NotFound
  // In name order. Deprecated fields are listed unless asked not to.
  std::vector<CustomFieldDefinition> list(UnitOfWork& uow, ObjectType type,
                                          bool include_deprecated = true) const;
  // Changes label, required, default, options, limits, scale and deprecated; the version
  // must match (Conflict). Name and type change only through rename() and change_type().
  CustomFieldDefinition update(UnitOfWork& uow, const CustomFieldDefinition& definition) const;
  // Records keep their values: they are stored under the field's id, not its name.
  CustomFieldDefinition rename(UnitOfWork& uow, Id id, const std::string& new_name) const;
  CustomFieldDefinition deprecate(UnitOfWork& uow, Id id, bool deprecated = true) const;
  // Deletes the definition. Records stay readable; their values for it are no longer
  // returned and are dropped when each record is next written.
  void remove(UnitOfWork& uow, Id id) const;
  // How many records of the definition's type (archived ones too) hold no value for it:
  // after a field becomes required, the records a backfill would fill. `definition` is one
  // read from this registry (its id and type are what count).
  std::uint64_t count_without_value(UnitOfWork& uow, const CustomFieldDefinition& definition) const;
  // Up to `limit` of those records' ids above `after`, in id order.
  std::vector<Id> without_value(UnitOfWork& uow, const CustomFieldDefinition& definition, Id after,
                                std::size_t limit) const;
  // The records whose value cannot be converted to `new_type` (empty: the change can be
  // made).
  std::vector<Id> records_blocking_type_change(UnitOfWork& uow, Id id,
                                               CustomFieldType new_type) const;
  // Changes the type and converts every stored value (through its text form: "42" to
  // the number 42, "2027-03-31" to a date, an enum to text, ...). Throws Conflict naming
  // the blocking records, changing nothing, when any value does not convert.
  CustomFieldDefinition change_type(UnitOfWork& uow, Id id, CustomFieldType new_type) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
