#include <algorithm>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "model/record_types.hpp"
#include "store/custom_field_registry.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/sealing.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store {

using detail::FieldSet;
using Rows = island::RowStore<odbrows::CustomFieldDefinitionRow>;

namespace {

void check_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok) {
    throw ValidationError(
        "name: lower-case letters, digits and _, starting with a letter, at "
        "most 63 characters",
        "name");
  }
}

// Checks a definition's own settings (not name uniqueness) and normalises its default.
void check_definition(CustomFieldDefinition& d) {
  check_name(d.name);
  if (d.label.empty()) d.label = d.name;
  detail::check_text("label", d.label);
  const bool enumerated = d.type == CustomFieldType::kEnum || d.type == CustomFieldType::kMultiEnum;
  if (enumerated && d.options.empty())
    throw ValidationError("options: an enum field needs at least one option", "options");
  if (!enumerated && !d.options.empty())
    throw ValidationError("options: only enum fields have options", "options");
  std::set<std::string> seen;
  for (const auto& o : d.options) {
    detail::check_required("options", o);
    if (!seen.insert(o).second)
      throw ValidationError("options: '" + o + "' is listed twice", "options");
  }
  if (d.min && d.max && *d.min > *d.max) throw ValidationError("min: must not exceed max", "min");
  if (d.max_length && (*d.max_length < 1 || *d.max_length > 65536))
    throw ValidationError("max_length: must be between 1 and 65536", "max_length");
  if (d.scale < 0 || d.scale > 9) throw ValidationError("scale: must be between 0 and 9", "scale");
  try {
    detail::check_value(d, d.default_value);
  } catch (const ValidationError& e) {
    throw ValidationError(std::string("default_value: ") + e.what(), "default_value");
  }
}

void to_row(const CustomFieldDefinition& d, odbrows::CustomFieldDefinitionRow& row) {
  row.id = d.id;
  row.version = d.version;
  row.object_type = std::string(to_string(d.object_type));
  row.name = d.name;
  row.label = d.label;
  row.type = std::string(to_string(d.type));
  row.required = d.required;
  row.options_json =
      d.options.empty() ? nullptr : std::make_unique<std::string>(nlohmann::json(d.options).dump());
  row.default_json = nullptr;
  if (!std::holds_alternative<std::monostate>(d.default_value))  // checked by check_definition
    row.default_json = std::make_unique<std::string>(detail::value_json(d, d.default_value).dump());
  row.min_value = detail::column(d.min);
  row.max_value = detail::column(d.max);
  row.max_length = detail::column(d.max_length);
  row.scale = d.scale;
  row.deprecated = d.deprecated;
  row.is_sensitive = d.sensitive;
}

CustomFieldDefinition find_in(island::Transaction& tx, Id id) {
  auto row = Rows::find(tx, id);
  if (!row) throw NotFound("no custom field with id " + std::to_string(id));
  const FieldSet set = FieldSet::load(tx, parse_object_type(row->object_type));
  for (const auto& d : set.all())
    if (d.id == id) return d;
  throw NotFound("no custom field with id " + std::to_string(id));
}

// Writes `d` over its stored definition (the version checked), as updated at `now`.
CustomFieldDefinition store(island::Transaction& tx, const CustomFieldDefinition& d,
                            Timestamp now) {
  auto stored = Rows::find(tx, d.id);
  if (!stored) throw NotFound("no custom field with id " + std::to_string(d.id));
  if (stored->version != d.version) {
    throw Conflict("custom field " + d.name + " changed since it was read (stale version)",
                   "version");
  }
  odbrows::CustomFieldDefinitionRow row;
  to_row(d, row);
  row.created_at = stored->created_at;
  row.updated_at = detail::micros(now);
  Rows::update(tx, row);
  return find_in(tx, d.id);
}

// The definition with another type: options that make no sense for it go, and the default
// converts (or goes).
CustomFieldDefinition retyped(const CustomFieldDefinition& def, CustomFieldType new_type) {
  CustomFieldDefinition target = def;
  target.type = new_type;
  if (new_type != CustomFieldType::kEnum && new_type != CustomFieldType::kMultiEnum)
    target.options.clear();
  if (!std::holds_alternative<std::monostate>(def.default_value)) {
    auto converted = detail::value_from_text(target, detail::value_to_text(def, def.default_value));
    target.default_value = converted ? *converted : CustomValue{};
  }
  return target;
}

// A stored value of `from` as a stored value of `to`, through its text form; nothing when
// it does not convert (or was not a valid value to begin with).
std::optional<nlohmann::json> convert_stored(const CustomFieldDefinition& from,
                                             const CustomFieldDefinition& to,
                                             const nlohmann::json& stored) {
  const CustomValue value = detail::value_of_json(from, stored);
  if (std::holds_alternative<std::monostate>(value)) return std::nullopt;
  auto converted = detail::value_from_text(to, detail::value_to_text(from, value));
  if (!converted) return std::nullopt;
  return detail::value_json(to, *converted);
}

// Visits every stored value of a definition: f(row, json, value) for each record holding
// one, in id order, a page at a time. With `write`, rows whose json f changed are saved.
// Sealed values (encryption at rest) are opened for f and sealed again when saved.
struct ValueScan {
  island::Transaction& tx;
  const CustomFieldDefinition& def;
  const detail::FieldCipher* cipher;

  template <typename T, typename F>
  void run(F&& f, bool write) {
    using Row = typename detail::Entity<T>::Row;
    const std::string table(detail::Entity<T>::kTable);
    const std::string with_values = table + ".custom_fields IS NOT NULL";
    std::int64_t after = 0;
    for (;;) {
      auto rows = island::RowStore<Row>::select(tx, detail::batch_after(table, with_values, after));
      if (rows.empty()) return;
      for (Row& row : rows) {
        after = static_cast<std::int64_t>(row.id);
        nlohmann::json j = nlohmann::json::parse(*row.custom_fields, nullptr, false);
        const std::string key = detail::json_key(def.id);
        if (!j.is_object() || !j.contains(key)) continue;
        const std::string place = detail::sealed_place(T::kType, "custom");
        const nlohmann::json stored = j[key];
        j[key] = detail::open_json(cipher, place, stored);
        const bool sealed = j[key] != stored;
        if (f(row.id, j) && write) {
          if (sealed) j[key] = detail::seal_json(*cipher, place, j[key]);
          row.custom_fields = std::make_unique<std::string>(j.dump());
          island::RowStore<Row>::update(tx, row);
        }
      }
    }
  }
};

// This unit of work now sees definitions others do not yet: it stops using (and feeding)
// the shared cache, which its commit clears.
void mark_changed(UnitOfWork& uow) {
  Session(uow).state().custom_fields_changed = true;
  Session(uow).database().custom_fields.clear();
}

}  // namespace

void check_custom_value(const CustomFieldDefinition& definition, CustomValue& value) {
  detail::check_value(definition, value);
}

CustomFieldDefinition CustomFieldRegistry::define(UnitOfWork& uow,
                                                  const CustomFieldDefinition& definition) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  CustomFieldDefinition d = definition;
  check_definition(d);
  if (FieldSet::load(tx, d.object_type).by_name(d.name) != nullptr) {
    throw Conflict("a custom field named " + d.name + " already exists on " +
                       std::string(to_string(d.object_type)),
                   "name");
  }
  odbrows::CustomFieldDefinitionRow row;
  to_row(d, row);
  row.id = 0;
  row.created_at = row.updated_at = detail::micros(detail::now_micros(*db_));
  Rows::insert(tx, row);
  return find_in(tx, row.id);
}

CustomFieldDefinition CustomFieldRegistry::get(UnitOfWork& uow, Id id) const {
  return find_in(Session(uow).tx(), id);
}

std::vector<CustomFieldDefinition> CustomFieldRegistry::list(UnitOfWork& uow, ObjectType type,
                                                             bool include_deprecated) const {
  std::vector<CustomFieldDefinition> out;
  const FieldSet set = FieldSet::load(Session(uow).tx(), type);
  for (const auto& d : set.all())
    if (include_deprecated || !d.deprecated) out.push_back(d);
  return out;
}

CustomFieldDefinition CustomFieldRegistry::update(UnitOfWork& uow,
                                                  const CustomFieldDefinition& definition) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  CustomFieldDefinition current = find_in(tx, definition.id);
  if (definition.name != current.name || definition.type != current.type ||
      definition.object_type != current.object_type) {
    throw ValidationError(
        "name: name, type and object type change only through rename() and "
        "change_type()",
        definition.name != current.name ? "name" : "type");
  }
  CustomFieldDefinition d = definition;
  check_definition(d);
  // A change to what is there already writes nothing (no new version), as record patches do.
  if (d == current) return current;
  return store(tx, d, detail::now_micros(*db_));
}

CustomFieldDefinition CustomFieldRegistry::rename(UnitOfWork& uow, Id id,
                                                  const std::string& new_name) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  CustomFieldDefinition d = find_in(tx, id);
  check_name(new_name);
  if (new_name == d.name) return d;
  if (FieldSet::load(tx, d.object_type).by_name(new_name) != nullptr) {
    throw Conflict("a custom field named " + new_name + " already exists", "name");
  }
  if (d.label == d.name) d.label = new_name;
  d.name = new_name;
  return store(tx, d, detail::now_micros(*db_));
}

CustomFieldDefinition CustomFieldRegistry::deprecate(UnitOfWork& uow, Id id,
                                                     bool deprecated) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  CustomFieldDefinition d = find_in(tx, id);
  if (d.deprecated == deprecated) return d;
  d.deprecated = deprecated;
  return store(tx, d, detail::now_micros(*db_));
}

void CustomFieldRegistry::remove(UnitOfWork& uow, Id id) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  find_in(tx, id);
  Rows::erase(tx, id);
}

namespace {

// "FROM <table> WHERE <the record has no value for def>"; sealed values count as values.
island::SqlFragment without_value_clause(island::Backend backend,
                                         const CustomFieldDefinition& def) {
  const std::string table(detail::table_of(def.object_type));
  const std::string path = "'$." + detail::json_key(def.id) + "'";
  island::SqlFragment q;
  q.text(" FROM " + table + " WHERE " +
         (backend == island::Backend::kSqlite ? "json_type(" : "JSON_EXTRACT(") + table +
         ".custom_fields, " + path + ") IS NULL");
  return q;
}

}  // namespace

std::uint64_t CustomFieldRegistry::count_without_value(UnitOfWork& uow,
                                                       const CustomFieldDefinition& def) const {
  island::SqlFragment q;
  q.text("SELECT COUNT(*)").append(without_value_clause(db_->backend, def));
  return static_cast<std::uint64_t>(island::query_int(Session(uow).tx(), q));
}

std::vector<Id> CustomFieldRegistry::without_value(UnitOfWork& uow,
                                                   const CustomFieldDefinition& def, Id after,
                                                   std::size_t limit) const {
  island::Transaction& tx = Session(uow).tx();
  island::SqlFragment q;
  q.text("SELECT id").append(without_value_clause(db_->backend, def));
  q.text(" AND id > ").param(detail::int_param(static_cast<std::int64_t>(after)));
  q.text(" ORDER BY id LIMIT " + std::to_string(limit));
  std::vector<Id> out;
  for (auto v : island::query_ids(tx, q)) out.push_back(v);
  return out;
}

std::vector<Id> CustomFieldRegistry::records_blocking_type_change(UnitOfWork& uow, Id id,
                                                                  CustomFieldType new_type) const {
  island::Transaction& tx = Session(uow).tx();
  const CustomFieldDefinition def = find_in(tx, id);
  const CustomFieldDefinition target = retyped(def, new_type);
  const std::string key = detail::json_key(def.id);
  std::vector<Id> blocking;
  ValueScan scan{tx, def, Session(uow).database().cipher.get()};
  banyan::detail::with_record_type(def.object_type, [&]<typename T>() {
    scan.run<T>(
        [&](Id record, nlohmann::json& j) {
          if (!convert_stored(def, target, j[key])) blocking.push_back(record);
          return false;
        },
        false);
  });
  return blocking;
}

CustomFieldDefinition CustomFieldRegistry::change_type(UnitOfWork& uow, Id id,
                                                       CustomFieldType new_type) const {
  mark_changed(uow);
  island::Transaction& tx = Session(uow).tx();
  CustomFieldDefinition def = find_in(tx, id);
  if (def.type == new_type) return def;
  // A first pass only looks, so that a refused change writes nothing at all.
  const std::vector<Id> blocking = records_blocking_type_change(uow, id, new_type);
  if (!blocking.empty()) {
    std::string ids;
    for (std::size_t i = 0; i < blocking.size() && i < 20; ++i)
      ids += (i ? ", " : "") + std::to_string(blocking[i]);
    if (blocking.size() > 20) ids += ", ... (" + std::to_string(blocking.size()) + " in all)";
    throw Conflict("custom field " + def.name + " cannot become " +
                       std::string(to_string(new_type)) + ": the values of " +
                       std::string(to_string(def.object_type)) + " " + ids + " do not convert",
                   "type");
  }
  const CustomFieldDefinition target = retyped(def, new_type);
  const std::string key = detail::json_key(def.id);
  ValueScan scan{tx, def, Session(uow).database().cipher.get()};
  banyan::detail::with_record_type(def.object_type, [&]<typename T>() {
    scan.run<T>(
        [&](Id, nlohmann::json& j) {
          j[key] = *convert_stored(def, target, j[key]);
          return true;
        },
        true);
  });
  return store(tx, target, detail::now_micros(*db_));
}

}  // namespace banyan::store
