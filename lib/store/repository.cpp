#include "store/repository.hpp"

#include <algorithm>
#include <string>
#include <type_traits>

#include "banyan/errors.hpp"
#include "banyan/store/database.hpp"
#include "model/record_types.hpp"
#include "model/writable_fields.hpp"
#include "store/audit.hpp"
#include "store/contact_points.hpp"
#include "store/custom_fields.hpp"
#include "store/database_state.hpp"
#include "store/deal_stages.hpp"
#include "store/entity.hpp"
#include "store/match_keys.hpp"
#include "store/outbox_writer.hpp"
#include "store/sealing.hpp"
#include "store/search_index.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store {

using detail::Entity;
using detail::SqlBuilder;

namespace {

template <typename T>
using RowOf = typename Entity<T>::Row;

template <typename T>
using Rows = island::RowStore<RowOf<T>>;

template <typename T>
[[noreturn]] void not_found(Id id) {
  throw NotFound("no " + std::string(to_string(T::kType)) + " with id " + std::to_string(id));
}

// The domain record of a row (opened in place if it holds sealed values), with its custom
// field values (definitions are read once, and only for rows that have values).
template <typename T>
T to_domain(UnitOfWork& uow, RowOf<T>& row, std::shared_ptr<const detail::FieldSet>& fields) {
  detail::open_row<T>(Session(uow).database(), row);
  T out = Entity<T>::from_row(row);
  if (row.custom_fields) {
    if (!fields) fields = Session(uow).custom_fields(T::kType);
    out.custom = detail::decode_custom(*fields, row.custom_fields);
  }
  return out;
}

template <typename T>
T to_domain(UnitOfWork& uow, RowOf<T>& row) {
  std::shared_ptr<const detail::FieldSet> fields;
  return to_domain<T>(uow, row, fields);
}

template <typename T>
RowOf<T> load(island::Transaction& tx, Id id) {
  auto row = Rows<T>::find(tx, id);
  if (!row) not_found<T>(id);
  return std::move(*row);
}

// The stored form of `record`, with the bookkeeping columns the store owns filled in.
// References are checked too, unless `check_references` is false (the caller checks them
// once it knows there is something to write).
template <typename T>
RowOf<T> prepare(UnitOfWork& uow, const T& record, bool creating,
                 const detail::CustomTouch& touch = {}, bool check_references = true) {
  detail::check_standard_texts(record);
  Entity<T>::validate(record);
  RowOf<T> row;
  Entity<T>::to_row(record, row);
  row.custom_fields =
      detail::encode_custom(*Session(uow).custom_fields(T::kType), record.custom, creating, touch);
  if (check_references) Entity<T>::check_references(Session(uow).tx(), record);
  return row;
}

// The stored record of a row as loaded (sealed values opened), without changing the row,
// whose sealed form the write still needs.
template <typename T>
T current_of(UnitOfWork& uow, const RowOf<T>& stored) {
  RowOf<T> copy;
  if constexpr (detail::kHasSealedColumns<T>) {
    // Column by column: a sealed list cannot pass through the record before it is opened.
    for (const auto& f : detail::record_fields<RowOf<T>>()) f.set(copy, f.get(stored));
    for (const auto& f : Entity<T>::fields()) f.set(copy, f.get(stored));
  } else {
    Entity<T>::to_row(Entity<T>::from_row(stored), copy);
  }
  // Columns only the store writes come back as before_update keeps them.
  if constexpr (requires { Entity<T>::before_update(stored, copy); })
    Entity<T>::before_update(stored, copy);
  copy.custom_fields =
      stored.custom_fields ? std::make_unique<std::string>(*stored.custom_fields) : nullptr;
  return to_domain<T>(uow, copy);
}

void check_expected_version(ObjectType type, Id id, std::uint64_t stored, std::uint64_t expected) {
  if (stored == expected) return;
  throw Conflict(std::string(to_string(type)) + " " + std::to_string(id) + " is at version " +
                     std::to_string(stored) + ", not the version " + std::to_string(expected) +
                     " this update was based on",
                 "version");
}

// Keeps the record's full-text document and match keys in step with its (plain) row, in
// the same transaction. With encryption at rest, sensitive values stay out of the
// document and their match keys are blind indexes.
template <typename T>
void reindex(UnitOfWork& uow, const RowOf<T>& row, bool fresh) {
  const detail::FieldCipher* cipher = Session(uow).database().cipher.get();
  if constexpr (detail::kSearchable<T>) {
    std::optional<detail::SearchDocument> doc;
    if constexpr (detail::kHasSealedColumns<T>) {
      if (!row.archived_at)
        doc = detail::search_document(row, /*with_sensitive=*/cipher == nullptr);
    } else {
      if (!row.archived_at) doc = detail::search_document(row);
    }
    detail::index_record(Session(uow).tx(), Session(uow).backend(), {T::kType, row.id}, doc, fresh);
  }
  if constexpr (detail::kDeduplicated<T>) {
    std::vector<detail::MatchKey> keys;
    if (!row.archived_at) keys = detail::match_keys(row);
    if (cipher != nullptr && detail::kHasSealedColumns<T>) {
      for (auto& k : keys)
        if (k.rule == DuplicateRule::kEmail || k.rule == DuplicateRule::kPhone)
          k.key = cipher->blind_index(k.key);
    }
    detail::store_match_keys(Session(uow).tx(), {T::kType, row.id}, keys, fresh);
  }
  if constexpr (detail::kHasContactPoints<T>) {
    // Archived records keep theirs: a list may ask for archived records too.
    const detail::FieldCipher* blind = detail::kHasSealedColumns<T> ? cipher : nullptr;
    ContactPoints emails;
    if constexpr (requires { row.email; }) {
      emails = detail::points_of(row.emails, row.email);  // a row from before the lists too
    } else {
      emails = detail::points_of(row.emails);
    }
    detail::store_point_keys(Session(uow).tx(), {T::kType, row.id},
                             detail::point_keys(emails, detail::points_of(row.phones, row.phone),
                                                detail::addresses_of(row.addresses), blind),
                             fresh);
  }
}

// Seals a plain row before it is written (see store/sealing.hpp).
template <typename T>
void seal(UnitOfWork& uow, RowOf<T>& row, const RowOf<T>* stored) {
  if (!Session(uow).database().cipher) return;
  detail::seal_row<T>(Session(uow).database(), *Session(uow).custom_fields(T::kType), row, stored);
}

// The record as its events and the audit trail carry it.
template <typename T>
nlohmann::json payload_of(UnitOfWork& uow, const RowOf<T>& row) {
  return detail::row_payload<T>(row, *Session(uow).custom_fields(T::kType));
}

// Appends "<type>.<what>" with the record as it now is, and notes for the audit trail
// what changed since `before` (its payload; null for a new record), with `detail`.
template <typename T>
void record_event(UnitOfWork& uow, const RowOf<T>& row, const char* what,
                  const nlohmann::json& before, std::string detail = {}) {
  nlohmann::json after = payload_of<T>(uow, row);
  Session(uow).audit(what, {T::kType, row.id}, before, after, row.updated_at, std::move(detail));
  detail::append_event(uow, std::string(to_string(T::kType)) + "." + what, {T::kType, row.id},
                       row.version, after);
  if constexpr (requires { Entity<T>::after_event(uow, row, before, after); })
    Entity<T>::after_event(uow, row, before, after);
}

// Keeps the creation `given` supplies on a new row (Creation::kSupplied): created_at when
// set, not after `now`; created_by when set, an existing user. What was kept, for the
// audit entry ("supplied created_at, created_by"); empty when nothing was.
template <typename T>
std::string keep_supplied(UnitOfWork& uow, const T& given, std::int64_t now, RowOf<T>& row) {
  std::string kept;
  if (given.created_at != Timestamp{}) {
    if (detail::micros(given.created_at) > now)
      throw ValidationError("created_at: may not be in the future", "created_at");
    row.created_at = detail::micros(given.created_at);
    kept = "created_at";
  }
  if (given.created_by) {
    if (!Rows<User>::find(Session(uow).tx(), *given.created_by))
      throw ValidationError("created_by: no user with id " + std::to_string(*given.created_by),
                            "created_by");
    row.created_by = detail::column(given.created_by);
    kept += kept.empty() ? "created_by" : ", created_by";
  }
  return kept.empty() ? kept : "supplied " + kept;
}

// Writes `row` (in its stored form, whose version is the one read), with its event, and
// returns the stored record. `before` is the stored record's payload.
template <typename T>
T write_update(UnitOfWork& uow, RowOf<T>& row, const char* what, const nlohmann::json& before) {
  island::Transaction& tx = Session(uow).tx();
  row.updated_at = detail::micros(detail::now_micros(Session(uow).database()));
  row.updated_by = detail::column(uow.actor());
  Rows<T>::update(tx, row);
  record_event<T>(uow, row, what, before);
  detail::open_row<T>(Session(uow).database(), row);
  reindex<T>(uow, row, /*fresh=*/false);
  return to_domain<T>(uow, row);
}

void delete_where(island::Transaction& tx, const std::string& table, const std::string& where) {
  island::execute(tx, "DELETE FROM " + table + " WHERE " + where);
}

// Writes `next` over the stored record `current` (whose row, as loaded, is `stored`), or
// nothing when it changes nothing. `named` is what a patch names (null for a whole
// record); `reconcile` false skips the type's own rules (a deal being reopened).
template <typename T>
WriteResult<T> update_stored(UnitOfWork& uow, const RowOf<T>& stored, const T& current, T next,
                             const detail::Named* named, const char* what, bool reconcile = true) {
  next.id = stored.id;
  next.version = stored.version;
  Session session(uow);
  if constexpr (requires { Entity<T>::reconcile(session, &current, next, named); }) {
    if (reconcile) Entity<T>::reconcile(session, &current, next, named);
  }
  const detail::CustomTouch touch{&current.custom, named != nullptr ? &named->custom : nullptr,
                                  named != nullptr && named->all_custom};
  RowOf<T> row = prepare(uow, next, /*creating=*/false, touch, /*check_references=*/false);
  // The caller may not rewrite history: creation and archiving stay as stored.
  row.created_at = stored.created_at;
  row.created_by = detail::column(detail::value(stored.created_by));
  row.archived_at = detail::column(detail::value(stored.archived_at));
  if constexpr (requires { Entity<T>::before_update(stored, row); })
    Entity<T>::before_update(stored, row);
  // What would be stored, as a record: when it is what is stored, there is nothing to
  // write (no new version, no event, no audit entry).
  T candidate = to_domain<T>(uow, row);
  candidate.version = current.version;
  candidate.updated_at = current.updated_at;
  candidate.updated_by = current.updated_by;
  if (candidate == current) return {current, WriteOutcome::kUnchanged};
  Entity<T>::check_references(Session(uow).tx(), next);
  seal<T>(uow, row, &stored);
  T out = write_update<T>(uow, row, what, payload_of<T>(uow, stored));
  if constexpr (requires { Entity<T>::after_write(uow, &stored, row); })
    Entity<T>::after_write(uow, &stored, row);
  return {std::move(out), WriteOutcome::kUpdated};
}

// `current` with what the patch names applied (model/patch.hpp); fills `named`.
template <typename T>
T patched(const T& current, const Patch<T>& patch, detail::Named& named) {
  T next = current;
  for (const auto& field : patch.fields) {
    if (field == "custom") {
      next.custom = patch.values.custom;
      named.all_custom = true;
    } else if (!named.has(field)) {
      named.fields.push_back(field);
    }
  }
  banyan::detail::copy_named(next, patch.values, named.fields);
  for (const auto& [name, value] : patch.custom) {
    named.custom.insert(name);
    if (std::holds_alternative<std::monostate>(value)) {
      next.custom.erase(name);
    } else {
      next.custom[name] = value;
    }
  }
  return next;
}

// A patch of the record stored as `stored`.
template <typename T>
WriteResult<T> patch_stored(UnitOfWork& uow, const RowOf<T>& stored, const Patch<T>& patch) {
  if (patch.expected_version)
    check_expected_version(T::kType, stored.id, stored.version, *patch.expected_version);
  const T current = current_of<T>(uow, stored);
  detail::Named named;
  T next = patched(current, patch, named);
  return update_stored<T>(uow, stored, current, std::move(next), &named, "updated");
}

// The stored row with this external id, if any.
template <typename T>
std::optional<RowOf<T>> row_by_external_id(UnitOfWork& uow, const std::string& external_id) {
  detail::check_text("external_id", external_id);
  // The id by a statement whose prepared form is reused, then the row by ODB's (cached)
  // load by id: a query built for ODB would be prepared again on every call.
  island::SqlFragment select;
  select.text("SELECT id FROM " + std::string(Entity<T>::kTable) + " WHERE external_id = ");
  select.param(detail::text_param(external_id));
  select.text(" LIMIT 1");
  auto& tx = Session(uow).tx();
  const auto ids = island::query_ids(tx, select);
  if (ids.empty()) return std::nullopt;
  return load<T>(tx, ids.front());
}

}  // namespace

template <typename T>
T Repository<T>::create(UnitOfWork& uow, const T& given, Creation creation) const {
  Session session(uow);
  RowOf<T> row;
  if constexpr (requires(T & record) { Entity<T>::reconcile(session, nullptr, record, nullptr); }) {
    T record = given;
    Entity<T>::reconcile(session, nullptr, record, nullptr);
    row = prepare(uow, record, /*creating=*/true);
  } else {
    row = prepare(uow, given, /*creating=*/true);
  }
  const auto now = detail::micros(detail::now_micros(*db_));
  row.id = 0;
  row.version = 0;
  row.created_at = now;
  row.updated_at = now;
  row.created_by = detail::column(uow.actor());
  row.updated_by = detail::column(uow.actor());
  row.archived_at = nullptr;
  const std::string supplied =
      creation == Creation::kSupplied ? keep_supplied(uow, given, now, row) : std::string();
  if constexpr (requires { Entity<T>::before_create(row); }) Entity<T>::before_create(row);
  seal<T>(uow, row, nullptr);
  Rows<T>::insert(session.tx(), row);
  record_event<T>(uow, row, "created", nullptr, supplied);
  detail::open_row<T>(Session(uow).database(), row);
  reindex<T>(uow, row, /*fresh=*/true);
  if constexpr (requires { Entity<T>::after_write(uow, &row, row); })
    Entity<T>::after_write(uow, nullptr, row);
  return to_domain<T>(uow, row);
}

template <typename T>
T Repository<T>::get(UnitOfWork& uow, Id id) const {
  RowOf<T> row = load<T>(Session(uow).tx(), id);
  return to_domain<T>(uow, row);
}

template <typename T>
std::optional<T> Repository<T>::find(UnitOfWork& uow, Id id) const {
  island::Transaction& tx = Session(uow).tx();
  auto row = Rows<T>::find(tx, id);
  if (!row) return std::nullopt;
  return to_domain<T>(uow, *row);
}

template <typename T>
std::optional<T> Repository<T>::find_by_external_id(UnitOfWork& uow,
                                                    const std::string& external_id) const {
  auto row = row_by_external_id<T>(uow, external_id);
  if (!row) return std::nullopt;
  return to_domain<T>(uow, *row);
}

template <typename T>
T Repository<T>::update(UnitOfWork& uow, const T& record) const {
  const RowOf<T> stored = load<T>(Session(uow).tx(), record.id);
  check_expected_version(T::kType, record.id, stored.version, record.version);
  return update_stored<T>(uow, stored, current_of<T>(uow, stored), record, nullptr, "updated")
      .record;
}

template <typename T>
WriteResult<T> Repository<T>::patch(UnitOfWork& uow, Id id, const Patch<T>& patch) const {
  return patch_stored<T>(uow, load<T>(Session(uow).tx(), id), patch);
}

template <typename T>
T Repository<T>::archive(UnitOfWork& uow, Id id) const {
  RowOf<T> row = load<T>(Session(uow).tx(), id);
  if (row.archived_at) return to_domain<T>(uow, row);
  const nlohmann::json before = payload_of<T>(uow, row);
  row.archived_at = std::make_unique<std::int64_t>(detail::micros(detail::now_micros(*db_)));
  return write_update<T>(uow, row, "archived", before);
}

template <typename T>
T Repository<T>::restore(UnitOfWork& uow, Id id) const {
  RowOf<T> row = load<T>(Session(uow).tx(), id);
  if (!row.archived_at) return to_domain<T>(uow, row);
  const nlohmann::json before = payload_of<T>(uow, row);
  row.archived_at = nullptr;
  return write_update<T>(uow, row, "restored", before);
}

template <typename T>
void Repository<T>::remove(UnitOfWork& uow, Id id) const {
  island::Transaction& tx = Session(uow).tx();
  const RowOf<T> stored = load<T>(tx, id);  // NotFound when gone
  const nlohmann::json before = payload_of<T>(uow, stored);
  const std::string sid = std::to_string(id);
  for (const detail::Referrer& r : Entity<T>::referrers()) {
    island::SqlFragment q;
    q.text("SELECT COUNT(*) FROM " + std::string(r.table) + " WHERE " + std::string(r.column) +
           " = " + sid);
    if (const auto n = island::query_int(tx, q); n > 0) {
      throw Conflict(std::string(to_string(T::kType)) + " " + sid + " is still referred to by " +
                         std::to_string(n) + " row(s) of " + std::string(r.table) + "." +
                         std::string(r.column),
                     std::string(r.column));
    }
  }
  if constexpr (requires { Entity<T>::before_remove(tx, stored); })
    Entity<T>::before_remove(tx, stored);
  const std::string type = "'" + std::string(to_string(T::kType)) + "'";
  delete_where(tx, "tag_links", "object_type = " + type + " AND object_id = " + sid);
  delete_where(tx, "activity_links", "object_type = " + type + " AND object_id = " + sid);
  if constexpr (T::kType == ObjectType::kContact) {
    delete_where(tx, "contact_companies", "contact_id = " + sid);
    delete_where(tx, "deal_contacts", "contact_id = " + sid);
  } else if constexpr (T::kType == ObjectType::kCompany) {
    delete_where(tx, "contact_companies", "company_id = " + sid);
  } else if constexpr (T::kType == ObjectType::kDeal) {
    delete_where(tx, "deal_contacts", "deal_id = " + sid);
  } else if constexpr (T::kType == ObjectType::kActivity) {
    delete_where(tx, "activity_links", "activity_id = " + sid);
  } else if constexpr (T::kType == ObjectType::kTag) {
    delete_where(tx, "tag_links", "tag_id = " + sid);
  }
  if (!Rows<T>::erase(tx, id)) not_found<T>(id);
  if constexpr (detail::kSearchable<T>)
    detail::index_record(tx, db_->backend, {T::kType, id}, std::nullopt);
  if constexpr (detail::kDeduplicated<T>) detail::store_match_keys(tx, {T::kType, id}, {});
  if constexpr (detail::kHasContactPoints<T>)
    detail::store_point_keys(tx, {T::kType, id}, {}, /*fresh=*/false);
  Session(uow).audit("deleted", {T::kType, id}, before, nullptr);
  // Who could read the record (for the event feed's scoping) and the key another system
  // knows it by, since the record itself is gone.
  nlohmann::json facts{{"id", id}};
  for (const char* kept : {"external_id", "owner_id", "team_id"})
    if (before.contains(kept)) facts[kept] = before[kept];
  detail::append_event(uow, std::string(to_string(T::kType)) + ".deleted", {T::kType, id}, 0,
                       facts);
}

template <typename T>
T Repository<T>::upsert(UnitOfWork& uow, const T& record) const {
  if (!record.external_id)
    throw ValidationError("external_id: upsert needs an external id", "external_id");
  std::optional<T> existing = find_by_external_id(uow, *record.external_id);
  if (!existing) return create(uow, record);
  T next = record;
  next.id = existing->id;
  next.version = existing->version;
  return update(uow, next);
}

template <typename T>
WriteResult<T> Repository<T>::upsert(UnitOfWork& uow, const Patch<T>& patch) const {
  if (!patch.values.external_id)
    throw ValidationError("external_id: upsert needs an external id", "external_id");
  if (auto stored = row_by_external_id<T>(uow, *patch.values.external_id))
    return patch_stored<T>(uow, *stored, patch);
  return {create(uow, banyan::detail::created_from(patch), patch.creation), WriteOutcome::kCreated};
}

template <typename T>
Page<T> Repository<T>::query(UnitOfWork& uow, const PageRequest& request) const {
  if (request.limit < 1 || request.limit > 1000)
    throw ValidationError("limit: must be between 1 and 1000", "limit");
  island::Transaction& tx = Session(uow).tx();
  detail::QueryContext ctx(Session(uow).state(), db_->backend, T::kType);
  island::SqlFragment clause;
  if (!request.include_archived)
    clause.text(std::string(Entity<T>::kTable) + ".archived_at IS NULL AND ");
  SqlBuilder<T>::where(clause, request.filter, ctx);
  SqlBuilder<T>::page(clause, request, ctx);
  auto rows = Rows<T>::select(tx, clause);
  Page<T> page;
  if (rows.size() > request.limit) {
    rows.resize(request.limit);
    page.next_cursor = SqlBuilder<T>::cursor_after(rows.back(), request, ctx);
  }
  page.items.reserve(rows.size());
  for (auto& row : rows) page.items.push_back(to_domain<T>(uow, row, ctx.loaded()));
  return page;
}

template <typename T>
std::uint64_t Repository<T>::count(UnitOfWork& uow, const Filter& filter,
                                   bool include_archived) const {
  island::Transaction& tx = Session(uow).tx();
  detail::QueryContext ctx(Session(uow).state(), db_->backend, T::kType);
  island::SqlFragment q;
  q.text("SELECT COUNT(*) FROM " + std::string(Entity<T>::kTable) + " WHERE ");
  if (!include_archived) q.text(std::string(Entity<T>::kTable) + ".archived_at IS NULL AND ");
  SqlBuilder<T>::where(q, filter, ctx);
  return static_cast<std::uint64_t>(island::query_int(tx, q));
}

namespace detail {

template <typename T>
std::size_t rewrap_rows(UnitOfWork& uow, Id& after, std::size_t batch, bool& done) {
  island::Transaction& tx = Session(uow).tx();
  DatabaseState& db = Session(uow).database();
  const auto fields = custom_fields_of(Session(uow).state(), T::kType);
  const bool sensitive_custom =
      std::any_of(fields->all().begin(), fields->all().end(),
                  [](const CustomFieldDefinition& d) { return d.sensitive; });
  done = true;
  const std::string table(Entity<T>::kTable);
  island::SqlFragment clause;
  clause.text(table + ".id > " + std::to_string(after));
  if constexpr (!kHasSealedColumns<T>) {
    if (!sensitive_custom) return 0;
    clause.text(" AND " + table + ".custom_fields IS NOT NULL");
  }
  clause.text(" ORDER BY " + table + ".id LIMIT " + std::to_string(batch));
  auto rows = Rows<T>::select(tx, clause);
  done = rows.size() < batch;
  auto copy = [](const std::unique_ptr<std::string>& v) {
    return v ? std::make_unique<std::string>(*v) : nullptr;
  };
  std::size_t rewritten = 0;
  for (RowOf<T>& row : rows) {
    after = row.id;
    // What seal_row and the comparison below read of the row as stored.
    RowOf<T> stored;
    stored.custom_fields = copy(row.custom_fields);
    if constexpr (kHasSealedColumns<T>) {
      for (const auto& c : sealed_columns<T>()) stored.*c.member = copy(row.*c.member);
      stored.email_index = copy(row.email_index);
    }
    open_row<T>(db, row);
    seal_row<T>(db, *fields, row, &stored);
    bool changed = false;
    island::SqlFragment up;
    up.text("UPDATE " + table + " SET id = id");
    auto set = [&](std::string_view name, const std::unique_ptr<std::string>& now,
                   const std::unique_ptr<std::string>& was) {
      up.text(", " + std::string(name) + " = ");
      if (now) {
        up.param(text_param(*now));
      } else {
        up.text("NULL");
      }
      changed = changed || value(now) != value(was);
    };
    set("custom_fields", row.custom_fields, stored.custom_fields);
    if constexpr (kHasSealedColumns<T>) {
      for (const auto& c : sealed_columns<T>()) set(c.field, row.*c.member, stored.*c.member);
      set("email_index", row.email_index, stored.email_index);
    }
    if (!changed) continue;
    up.text(" WHERE id = " + std::to_string(row.id));
    island::execute(tx, up);
    open_row<T>(db, row);
    reindex<T>(uow, row, /*fresh=*/false);
    ++rewritten;
  }
  return rewritten;
}

#define BANYAN_REWRAP_ROWS(T) \
  template std::size_t rewrap_rows<T>(UnitOfWork&, Id&, std::size_t, bool&);
BANYAN_REWRAP_ROWS(User)
BANYAN_REWRAP_ROWS(Team)
BANYAN_REWRAP_ROWS(Tag)
BANYAN_REWRAP_ROWS(Company)
BANYAN_REWRAP_ROWS(Contact)
BANYAN_REWRAP_ROWS(Lead)
BANYAN_REWRAP_ROWS(Pipeline)
BANYAN_REWRAP_ROWS(Stage)
BANYAN_REWRAP_ROWS(Deal)
BANYAN_REWRAP_ROWS(Activity)
#undef BANYAN_REWRAP_ROWS

}  // namespace detail

template class Repository<User>;
template class Repository<Team>;
template class Repository<Tag>;
template class Repository<Company>;
template class Repository<Contact>;
template class Repository<Lead>;
template class Repository<Pipeline>;
template class Repository<Stage>;
template class Repository<Deal>;
template class Repository<Activity>;

// Here rather than in deal_stages.cpp: a reopen writes through the repository's own
// update path, without the rule that keeps a closed deal where it is.
Deal DealStages::reopen(UnitOfWork& uow, Id deal_id, std::optional<Id> stage_id,
                        std::optional<std::uint64_t> expected_version) const {
  island::Transaction& tx = Session(uow).tx();
  const RowOf<Deal> stored = load<Deal>(tx, deal_id);
  if (expected_version)
    check_expected_version(ObjectType::kDeal, deal_id, stored.version, *expected_version);
  const Deal current = current_of<Deal>(uow, stored);
  if (current.status == DealStatus::kOpen)
    throw Conflict(
        "status: deal " + std::to_string(deal_id) + " is open; there is nothing to reopen",
        "status");
  Deal next = current;
  if (stage_id) {
    detail::require_open_stage(tx, current, *stage_id);
    next.stage_id = *stage_id;
  } else {
    next.stage_id = detail::stage_to_reopen_in(tx, current);
  }
  next.status = DealStatus::kOpen;
  next.closed_at.reset();
  return update_stored<Deal>(uow, stored, current, std::move(next), nullptr, "reopened",
                             /*reconcile=*/false)
      .record;
}

}  // namespace banyan::store
