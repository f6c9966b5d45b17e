// How each record type maps to its row: the field catalogue (for filters, sorting and
// cursors), conversions both ways, validation, and the references it makes and receives.
// One Entity<T> specialisation per type, in entity.cpp... and used by repository.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "banyan/model/activity.hpp"
#include "banyan/model/company.hpp"
#include "banyan/model/contact.hpp"
#include "banyan/model/deal.hpp"
#include "banyan/model/lead.hpp"
#include "banyan/model/pipeline.hpp"
#include "banyan/model/tag.hpp"
#include "banyan/model/team.hpp"
#include "banyan/model/user.hpp"
#include "banyan/store/unit_of_work.hpp"
#include "store/odb/island.hpp"
#include "store/odb/rows.hxx"

namespace banyan::store {
class Session;  // store/session.hpp
}  // namespace banyan::store

namespace banyan::store::detail {

// kJson: a text column holding a JSON array (a list of contact points), which events and
// the audit trail carry as JSON.
enum class FieldType { kId, kInt, kText, kBool, kTime, kDate, kJson };

// A stored value as the database holds it: ids, counts, times (µs) and dates (days) are
// integers. Used for keyset cursors.
using Cell = std::variant<std::monostate, std::int64_t, std::string, bool, double>;

template <typename Row>
struct FieldDef {
  std::string_view name;  // also the column name
  FieldType type;
  bool nullable;
  Cell (*get)(const Row&);
  // For text fields holding an enumeration: throws ValidationError for unknown names.
  void (*check)(std::string_view) = nullptr;
  // Sets the field from a cell (a row rebuilt from the audit trail). A cell of another
  // type than the field's leaves it as it is.
  void (*set)(Row&, const Cell&) = nullptr;
};

// A column elsewhere that refers to records of this type: deleting a referenced record
// is refused with Conflict.
struct Referrer {
  std::string_view table;
  std::string_view column;
};

template <typename T>
struct Entity;  // specialised for every record type below

// What a write names beyond what it changes. A patch names its fields, some perhaps to the
// values they hold; a whole-record update names none. A write touches a field it names or
// changes: rules that hold only for what a write touches (a required custom field, a
// deal's status and stage) read this.
struct Named {
  std::vector<std::string> fields;  // standard fields, by public name
  std::set<std::string> custom;     // custom fields, by name
  bool all_custom = false;          // "custom" itself: every custom value replaced

  bool has(std::string_view field) const {
    for (const auto& f : fields)
      if (f == field) return true;
    return false;
  }
};
// Whether a write (`named` null for a whole-record one) touches `field`, which it does
// or does not change.
inline bool touches(const Named* named, std::string_view field, bool changed) {
  return changed || (named != nullptr && named->has(field));
}

// --- cell conversions -------------------------------------------------------------
inline Cell cell(const std::string& v) { return v; }
inline Cell cell(std::int64_t v) { return v; }
inline Cell cell(std::uint64_t v) { return static_cast<std::int64_t>(v); }
inline Cell cell(bool v) { return v; }
inline Cell cell(double v) { return v; }
template <typename V>
Cell cell(const std::unique_ptr<V>& v) {
  return v ? cell(*v) : Cell{};
}

inline void assign(std::string& m, const Cell& c) {
  if (const auto* s = std::get_if<std::string>(&c)) m = *s;
}
inline void assign(std::int64_t& m, const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) m = *i;
}
inline void assign(std::uint64_t& m, const Cell& c) {
  if (const auto* i = std::get_if<std::int64_t>(&c)) m = static_cast<std::uint64_t>(*i);
}
inline void assign(bool& m, const Cell& c) {
  if (const auto* b = std::get_if<bool>(&c)) m = *b;
}
inline void assign(double& m, const Cell& c) {
  if (const auto* d = std::get_if<double>(&c)) m = *d;
  if (const auto* i = std::get_if<std::int64_t>(&c)) m = static_cast<double>(*i);
}
template <typename V>
void assign(std::unique_ptr<V>& m, const Cell& c) {
  if (std::holds_alternative<std::monostate>(c)) {
    m.reset();
    return;
  }
  V v{};
  assign(v, c);
  m = std::make_unique<V>(std::move(v));
}

// --- optional <-> nullable column ---------------------------------------------------
template <typename V>
std::unique_ptr<V> column(const std::optional<V>& v) {
  return v ? std::make_unique<V>(*v) : nullptr;
}
template <typename V>
std::optional<V> value(const std::unique_ptr<V>& v) {
  return v ? std::optional<V>(*v) : std::nullopt;
}
inline std::int64_t micros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp timestamp(std::int64_t us) { return Timestamp(std::chrono::microseconds(us)); }
inline std::unique_ptr<std::int64_t> column(const std::optional<Timestamp>& t) {
  return t ? std::make_unique<std::int64_t>(micros(*t)) : nullptr;
}
inline std::optional<Timestamp> time_value(const std::unique_ptr<std::int64_t>& v) {
  return v ? std::optional<Timestamp>(timestamp(*v)) : std::nullopt;
}
inline std::int64_t days(Date d) { return d.time_since_epoch().count(); }
inline Date date(std::int64_t d) { return Date(std::chrono::days(d)); }

// --- the columns every record has -----------------------------------------------------
template <typename Row>
std::span<const FieldDef<Row>> record_fields() {
  static const FieldDef<Row> kFields[] = {
      {"id", FieldType::kId, false, [](const Row& r) { return cell(r.id); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.id, c); }},
      {"version", FieldType::kInt, false, [](const Row& r) { return cell(r.version); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.version, c); }},
      {"owner_id", FieldType::kId, true, [](const Row& r) { return cell(r.owner_id); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.owner_id, c); }},
      {"team_id", FieldType::kId, true, [](const Row& r) { return cell(r.team_id); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.team_id, c); }},
      {"created_at", FieldType::kTime, false, [](const Row& r) { return cell(r.created_at); },
       nullptr, [](Row& r, const Cell& c) { assign(r.created_at, c); }},
      {"created_by", FieldType::kId, true, [](const Row& r) { return cell(r.created_by); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.created_by, c); }},
      {"updated_at", FieldType::kTime, false, [](const Row& r) { return cell(r.updated_at); },
       nullptr, [](Row& r, const Cell& c) { assign(r.updated_at, c); }},
      {"updated_by", FieldType::kId, true, [](const Row& r) { return cell(r.updated_by); }, nullptr,
       [](Row& r, const Cell& c) { assign(r.updated_by, c); }},
      {"external_id", FieldType::kText, true, [](const Row& r) { return cell(r.external_id); },
       nullptr, [](Row& r, const Cell& c) { assign(r.external_id, c); }},
      {"archived_at", FieldType::kTime, true, [](const Row& r) { return cell(r.archived_at); },
       nullptr, [](Row& r, const Cell& c) { assign(r.archived_at, c); }},
  };
  return kFields;
}

inline void record_to_row(const Record& r, odbrows::RecordRow& row) {
  row.id = r.id;
  row.version = r.version;
  row.owner_id = column(r.owner_id);
  row.team_id = column(r.team_id);
  row.created_at = micros(r.created_at);
  row.created_by = column(r.created_by);
  row.updated_at = micros(r.updated_at);
  row.updated_by = column(r.updated_by);
  row.external_id = column(r.external_id);
  row.archived_at = column(r.archived_at);
}

inline void row_to_record(const odbrows::RecordRow& row, Record& r) {
  r.id = row.id;
  r.version = row.version;
  r.owner_id = value(row.owner_id);
  r.team_id = value(row.team_id);
  r.created_at = timestamp(row.created_at);
  r.created_by = value(row.created_by);
  r.updated_at = timestamp(row.updated_at);
  r.updated_by = value(row.updated_by);
  r.external_id = value(row.external_id);
  r.archived_at = time_value(row.archived_at);
}

// Interface every Entity<T> provides (checked by use in repository.cpp):
//   using Row;  static constexpr std::string_view kTable;
//   static std::span<const FieldDef<Row>> fields();       (the type's own fields)
//   static void to_row(const T&, Row&);  static T from_row(const Row&);
//   static void validate(const T&);                         (ValidationError)
//   static void check_references(island::Transaction&, const T&);
//   static std::span<const Referrer> referrers();
// and, where a type needs them (repository.cpp detects them):
//   static void before_create(Row&);                        (may refuse, or clear columns)
//   static void before_update(const Row& stored, Row& next);
//   static void after_write(UnitOfWork&, const Row* before, const Row& after);
//   static void reconcile(Session&, const T* stored, T& next, const Named*);
//                                                           (stored null on create)
//   static void before_remove(island::Transaction&, const Row&);
//   static void after_event(UnitOfWork&, const Row&, const json& before, const json& after);
//                                       (more events from the payloads the record event carries)

#define BANYAN_ENTITY_MEMBERS(T, RowT, table)                         \
  using Row = odbrows::RowT;                                          \
  static constexpr std::string_view kTable = table;                   \
  static std::span<const FieldDef<Row>> fields();                     \
  static void to_row(const T& in, Row& out);                          \
  static T from_row(const Row& in);                                   \
  static void validate(const T& in);                                  \
  static void check_references(island::Transaction& tx, const T& in); \
  static std::span<const Referrer> referrers();

#define BANYAN_DECLARE_ENTITY(T, RowT, table) \
  template <>                                 \
  struct Entity<T> {                          \
    BANYAN_ENTITY_MEMBERS(T, RowT, table)     \
  };

BANYAN_DECLARE_ENTITY(User, UserRow, "users")
BANYAN_DECLARE_ENTITY(Team, TeamRow, "teams")
BANYAN_DECLARE_ENTITY(Tag, TagRow, "tags")
// Contacts, leads and companies keep `email` and `phone` in step with their lists of
// emails and phones (store/contact_points.hpp).
template <>
struct Entity<Company> {
  BANYAN_ENTITY_MEMBERS(Company, CompanyRow, "companies")
  static void before_create(Row& row);
  static void before_update(const Row& stored, Row& next);
  static void reconcile(Session& session, const Company* stored, Company& next, const Named* named);
};
template <>
struct Entity<Contact> {
  BANYAN_ENTITY_MEMBERS(Contact, ContactRow, "contacts")
  static void before_create(Row& row);
  static void before_update(const Row& stored, Row& next);
  static void reconcile(Session& session, const Contact* stored, Contact& next, const Named* named);
};
template <>
struct Entity<Lead> {
  BANYAN_ENTITY_MEMBERS(Lead, LeadRow, "leads")
  static void before_create(Row& row);
  static void before_update(const Row& stored, Row& next);
  static void reconcile(Session& session, const Lead* stored, Lead& next, const Named* named);
};
BANYAN_DECLARE_ENTITY(Pipeline, PipelineRow, "pipelines")
template <>
struct Entity<Stage> {
  BANYAN_ENTITY_MEMBERS(Stage, StageRow, "stages")
  // A stage holding deals keeps its kind and pipeline; a pipeline holding deals keeps a
  // stage of each kind (Conflict otherwise).
  static void reconcile(Session& session, const Stage* stored, Stage& next, const Named* named);
  static void before_remove(island::Transaction& tx, const Row& row);
};
template <>
struct Entity<Deal> {
  BANYAN_ENTITY_MEMBERS(Deal, DealRow, "deals")
  // Makes status, stage and closed_at agree (model/deal.hpp), or refuses the write.
  static void reconcile(Session& session, const Deal* stored, Deal& next, const Named* named);
  // deal.won or deal.lost beside the record's event when a write closes the deal.
  static void after_event(UnitOfWork& uow, const Row& row, const nlohmann::json& before,
                          const nlohmann::json& after);
  // Records every stage change in deal_stage_changes, with a deal.stage_changed event.
  static void after_write(UnitOfWork& uow, const Row* before, const Row& after);
};
BANYAN_DECLARE_ENTITY(Activity, ActivityRow, "activities")

#undef BANYAN_DECLARE_ENTITY
#undef BANYAN_ENTITY_MEMBERS

// The table of each object type ("contact" -> "contacts").
std::string_view table_of(ObjectType type) noexcept;
// Throws ValidationError(field) unless a record with this id exists in `table`.
void require_exists(island::Transaction& tx, std::string_view table, Id id, std::string_view field);
bool exists(island::Transaction& tx, std::string_view table, Id id);

// Where a reopened deal goes when no stage is asked for: the open stage it left when it
// closed, else the last open stage of its pipeline. ValidationError("pipeline_id") when
// the pipeline has no open stage.
Id stage_to_reopen_in(island::Transaction& tx, const Deal& deal);
// ValidationError("stage_id") unless `stage` is an open stage of the deal's pipeline.
void require_open_stage(island::Transaction& tx, const Deal& deal, Id stage);

}  // namespace banyan::store::detail
