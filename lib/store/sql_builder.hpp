// Turns filters, sorts and cursors into SQL fragments for one record type. Field names
// are checked against the type's catalogue and every value is a bound parameter.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banyan/store/query.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"

namespace banyan::store::detail {

island::SqlParam int_param(std::int64_t v);
island::SqlParam text_param(std::string v);
// "INSERT OR IGNORE INTO " (SQLite) or "INSERT IGNORE INTO " (MySQL).
const char* insert_ignore(island::Backend backend) noexcept;
// The clause of the next batch of a pass over `table` in id order:
// `<condition> AND <table>.id > <after> ORDER BY <table>.id LIMIT <limit>`.
island::SqlFragment batch_after(std::string_view table, std::string_view condition,
                                std::int64_t after, int limit = 500);

// Replaces a record's rows in a table of lookup keys, whose columns are object_type,
// object_id, `kind_column` and `key_column`, with `keys` (kind, key): one DELETE (none
// when `fresh`, a record just created) and one INSERT.
void replace_record_keys(island::Transaction& tx, std::string_view table,
                         std::string_view kind_column, std::string_view key_column,
                         ObjectRef record,
                         const std::vector<std::pair<std::string, std::string>>& keys, bool fresh);

// What a query needs beyond the request: the backend's dialect and, loaded once when a
// filter or sort first names "custom.<field>", the type's custom field definitions.
class QueryContext {
 public:
  QueryContext(UnitOfWork::Impl& uow, island::Backend backend, ObjectType type)
      : uow_(uow), backend_(backend), type_(type) {}
  island::Backend backend() const { return backend_; }
  // Seals sensitive values; null when they are stored as given.
  const FieldCipher* cipher() const { return uow_.db->cipher.get(); }
  // Whether email lookups must also match emails stored before encryption was turned on.
  bool unsealed_emails() const {
    return uow_.db->unsealed_emails_of(type_).load(std::memory_order_relaxed);
  }
  const FieldSet& custom_fields();
  // The loaded definitions, if a query needed them (repositories reuse them to decode).
  std::shared_ptr<const FieldSet>& loaded() { return fields_; }

 private:
  UnitOfWork::Impl& uow_;
  island::Backend backend_;
  ObjectType type_;
  std::shared_ptr<const FieldSet> fields_;
};

template <typename T>
class SqlBuilder {
 public:
  using Row = typename Entity<T>::Row;

  // The standard field named `name`, or ValidationError(name).
  static const FieldDef<Row>& field(std::string_view name);
  // Appends "(<condition>)" for the filter.
  static void where(island::SqlFragment& out, const Filter& filter, QueryContext& ctx);
  // Appends the keyset condition, ORDER BY and LIMIT for one page.
  static void page(island::SqlFragment& out, const PageRequest& request, QueryContext& ctx);
  // The cursor of the page after the one ending at `last`.
  static std::string cursor_after(const Row& last, const PageRequest& request, QueryContext& ctx);
  // The request's sort keys in order (sort, then then_by), or ValidationError("sort").
  static std::vector<Sort> sorts(const PageRequest& request);
};

}  // namespace banyan::store::detail
