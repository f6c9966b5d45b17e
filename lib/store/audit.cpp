#include "store/audit.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "banyan/errors.hpp"
#include "banyan/store/audit_log.hpp"
#include "store/custom_fields.hpp"
#include "store/entity.hpp"
#include "store/sealing.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {
namespace detail {
namespace {

using nlohmann::json;

const std::string kGenesis(64, '0');  // the "previous hash" of entry 1
constexpr const char* kColumns =
    "id, at, actor_id, actor, origin, action, object_type, object_id, changes, detail, prev_hash, hash";
constexpr std::size_t kWidth = 12;

// A payload with custom fields flattened: "custom.<name>" beside the standard fields.
json flat(const json& payload) {
  json out = json::object();
  if (!payload.is_object()) return out;
  for (const auto& [name, value] : payload.items()) {
    if (name == "custom" && value.is_object()) {
      for (const auto& [field, v] : value.items()) out["custom." + field] = v;
    } else {
      out[name] = value;
    }
  }
  return out;
}

std::uint64_t to_u64(const std::string& text) {
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}
std::int64_t to_i64(const std::string& text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// What the hash covers, each part length-prefixed so that no two entries read alike.
std::string hash_of(const std::string& prev_hash, const AuditEntry& e) {
  std::string text;
  auto part = [&](std::string_view v) {
    text += std::to_string(v.size());
    text += ':';
    text += v;
    text += ';';
  };
  part(prev_hash);
  part(std::to_string(e.id));
  part(std::to_string(micros(e.at)));
  part(std::to_string(e.actor_id.value_or(0)));
  part(e.actor);
  part(e.origin);
  part(e.action);
  part(to_string(e.object.type));
  part(std::to_string(e.object.id));
  part(e.changes);
  part(e.detail);
  return sha256_hex(text);
}

// One row of kColumns; the previous hash comes back in `prev`.
AuditEntry entry_of(const island::TextCell* c, std::string* prev = nullptr) {
  AuditEntry e;
  e.id = to_u64(c[0].text);
  e.at = timestamp(to_i64(c[1].text));
  if (const auto actor = to_u64(c[2].text); actor != 0) e.actor_id = actor;
  e.actor = c[3].text;
  e.origin = c[4].text;
  e.action = c[5].text;
  try {
    e.object.type = parse_object_type(c[6].text);
  } catch (const ValidationError&) {  // an edited row: verify() says so through the hash
  }
  e.object.id = to_u64(c[7].text);
  e.changes = c[8].text;
  e.detail = c[9].text;
  if (prev != nullptr) *prev = c[10].text;
  e.hash = c[11].text;
  return e;
}

// " object_type = ... AND object_id = ...", after the caller's WHERE or AND.
island::SqlFragment& object_is(island::SqlFragment& q, ObjectRef object) {
  return q.text(" object_type = ")
      .param(text_param(std::string(to_string(object.type))))
      .text(" AND object_id = ")
      .param(int_param(static_cast<std::int64_t>(object.id)));
}

}  // namespace

json payload_diff(const json& before, const json& after) {
  const json a = flat(before), b = flat(after);
  json out = json::object();
  std::set<std::string> names;
  for (const auto& [name, v] : a.items()) names.insert(name);
  for (const auto& [name, v] : b.items()) names.insert(name);
  for (const auto& name : names) {
    const auto x = a.find(name), y = b.find(name);
    const json from = x == a.end() ? json() : *x, to = y == b.end() ? json() : *y;
    if (from != to) out[name] = json::array({from, to});
  }
  return out;
}

void audit_change(UnitOfWork::Impl& uow, std::string action, ObjectRef object, const json& before,
                  const json& after, std::int64_t at) {
  PendingAudit p;
  p.at = at != 0 ? at : micros(now_micros());
  p.action = std::move(action);
  p.object = object;
  p.changes = payload_diff(before, after).dump(-1, ' ', false, json::error_handler_t::replace);
  uow.audit.push_back(std::move(p));
}

void flush_audit(UnitOfWork::Impl& uow) {
  island::Transaction& tx = uow.live();
  island::SqlFragment head;
  head.text("SELECT last_id, last_hash FROM audit_head WHERE id = 1");
  if (uow.db->backend == island::Backend::kMysql) head.text(" FOR UPDATE");
  const auto cells = island::query_text(tx, head, 2);
  if (cells.size() != 2) throw InternalError("the audit head row is missing");
  std::uint64_t last = to_u64(cells[0].text);
  std::string prev = cells[1].text;
  // Many rows per statement: a batch of writes costs a few round trips, not one each.
  constexpr std::size_t kPerStatement = 100;
  for (std::size_t start = 0; start < uow.audit.size(); start += kPerStatement) {
    island::SqlFragment insert;
    insert.text(std::string("INSERT INTO audit_log (") + kColumns + ") VALUES ");
    const std::size_t end = std::min(uow.audit.size(), start + kPerStatement);
    for (std::size_t i = start; i < end; ++i) {
      const PendingAudit& p = uow.audit[i];
      AuditEntry e;
      e.id = ++last;
      e.at = timestamp(p.at);
      e.actor_id = uow.actor;
      e.actor = uow.actor_name;
      e.origin = uow.origin;
      e.action = p.action;
      e.object = p.object;
      e.changes = p.changes;
      e.detail = p.detail;
      const std::string hash = hash_of(prev, e);
      insert.text(i == start ? "(" : ", (");
      insert.param(int_param(static_cast<std::int64_t>(e.id))).text(", ");
      insert.param(int_param(p.at)).text(", ");
      insert.param(int_param(static_cast<std::int64_t>(e.actor_id.value_or(0)))).text(", ");
      insert.param(text_param(e.actor)).text(", ");
      insert.param(text_param(e.origin)).text(", ");
      insert.param(text_param(e.action)).text(", ");
      insert.param(text_param(std::string(to_string(e.object.type)))).text(", ");
      insert.param(int_param(static_cast<std::int64_t>(e.object.id))).text(", ");
      insert.param(text_param(e.changes)).text(", ");
      insert.param(text_param(e.detail)).text(", ");
      insert.param(text_param(prev)).text(", ");
      insert.param(text_param(hash)).text(")");
      prev = hash;
    }
    island::execute(tx, insert);
  }
  island::SqlFragment move;
  move.text("UPDATE audit_head SET last_id = ")
      .param(int_param(static_cast<std::int64_t>(last)))
      .text(", last_hash = ")
      .param(text_param(prev))
      .text(" WHERE id = 1");
  island::execute(tx, move);
  uow.audit.clear();
}

}  // namespace detail

using detail::int_param;
using detail::text_param;
using nlohmann::json;

std::vector<AuditEntry> AuditLog::query(UnitOfWork& uow, const AuditQuery& query) const {
  if (query.limit < 1 || query.limit > 1000) throw ValidationError("limit: must be between 1 and 1000", "limit");
  island::SqlFragment q;
  q.text(std::string("SELECT ") + detail::kColumns + " FROM audit_log WHERE id > ")
      .param(int_param(static_cast<std::int64_t>(query.after)));
  if (query.object) detail::object_is(q.text(" AND"), *query.object);
  if (query.actor_id) q.text(" AND actor_id = ").param(int_param(static_cast<std::int64_t>(*query.actor_id)));
  if (query.from) q.text(" AND at >= ").param(int_param(detail::micros(*query.from)));
  if (query.to) q.text(" AND at < ").param(int_param(detail::micros(*query.to)));
  q.text(" ORDER BY id LIMIT " + std::to_string(query.limit));
  const auto cells = island::query_text(uow.impl().live(), q, detail::kWidth);
  std::vector<AuditEntry> out;
  for (std::size_t i = 0; i + detail::kWidth <= cells.size(); i += detail::kWidth)
    out.push_back(detail::entry_of(&cells[i]));
  return out;
}

AuditVerification AuditLog::verify(UnitOfWork& uow) const {
  island::Transaction& tx = uow.impl().live();
  AuditVerification v;
  std::string expected_prev = detail::kGenesis;
  std::uint64_t expected_id = 1;
  auto fail = [&](std::uint64_t at, std::string problem) {
    v.intact = false;
    v.first_bad = at;
    v.problem = std::move(problem);
    return v;
  };
  for (;;) {
    island::SqlFragment q;
    q.text(std::string("SELECT ") + detail::kColumns + " FROM audit_log WHERE id >= ")
        .param(int_param(static_cast<std::int64_t>(expected_id)))
        .text(" ORDER BY id LIMIT 1000");
    const auto cells = island::query_text(tx, q, detail::kWidth);
    if (cells.empty()) break;
    for (std::size_t i = 0; i + detail::kWidth <= cells.size(); i += detail::kWidth) {
      std::string prev;
      const AuditEntry e = detail::entry_of(&cells[i], &prev);
      if (e.id != expected_id)
        return fail(expected_id, "entry " + std::to_string(expected_id) + " is missing (the next is " +
                                     std::to_string(e.id) + ")");
      if (prev != expected_prev)
        return fail(e.id, "entry " + std::to_string(e.id) + " does not follow entry " +
                              std::to_string(e.id - 1) + " (its link was changed, or the entry before it)");
      if (detail::hash_of(prev, e) != e.hash)
        return fail(e.id, "entry " + std::to_string(e.id) + " was changed after it was written");
      expected_prev = e.hash;
      ++expected_id;
      ++v.entries;
    }
  }
  island::SqlFragment head;
  head.text("SELECT last_id, last_hash FROM audit_head WHERE id = 1");
  const auto cells = island::query_text(tx, head, 2);
  if (cells.size() != 2) return fail(expected_id, "the audit head is missing");
  const std::uint64_t last = detail::to_u64(cells[0].text);
  if (last != v.entries)
    return fail(v.entries + 1, "the log ends at entry " + std::to_string(v.entries) + " but entry " +
                                   std::to_string(last) + " was written (the newest entries were removed)");
  if (cells[1].text != expected_prev)
    return fail(last, "entry " + std::to_string(last) + " is not the last entry written");
  return v;
}

std::vector<FieldChange> AuditLog::history(UnitOfWork& uow, ObjectRef object, std::string_view field) const {
  island::SqlFragment q;
  q.text(std::string("SELECT ") + detail::kColumns + " FROM audit_log WHERE");
  detail::object_is(q, object).text(" AND action <> 'denied' ORDER BY id");
  const auto cells = island::query_text(uow.impl().live(), q, detail::kWidth);
  std::vector<FieldChange> out;
  for (std::size_t i = 0; i + detail::kWidth <= cells.size(); i += detail::kWidth) {
    const AuditEntry e = detail::entry_of(&cells[i]);
    const json changes = json::parse(e.changes, nullptr, false);
    if (!changes.is_object()) continue;
    for (const auto& [name, pair] : changes.items()) {
      // The bookkeeping every write changes is history only when asked for by name.
      const bool bookkeeping = name == "version" || name == "updated_at" || name == "updated_by";
      if (field.empty() ? bookkeeping : name != field) continue;
      if (!pair.is_array() || pair.size() != 2) continue;
      if (detail::may_be_sealed(object.type, name)) {
        const detail::FieldCipher* cipher = uow.impl().db->cipher.get();
        const std::string place = detail::sealed_place(object.type, name.starts_with("custom.") ? "custom" : name);
        out.push_back({e.id, e.at, e.actor_id, e.actor, e.action, name,
                       detail::open_json(cipher, place, pair[0]).dump(), detail::open_json(cipher, place, pair[1]).dump()});
        continue;
      }
      out.push_back({e.id, e.at, e.actor_id, e.actor, e.action, name, pair[0].dump(), pair[1].dump()});
    }
  }
  return out;
}

void AuditLog::record_denial(UnitOfWork& uow, ObjectRef object, std::string_view detail) const {
  uow.impl().live();
  detail::PendingAudit p;
  p.at = detail::micros(detail::now_micros());
  p.action = "denied";
  p.object = object;
  p.changes = "{}";
  p.detail = std::string(detail.substr(0, 1000));
  uow.impl().audit.push_back(std::move(p));
}

namespace {

detail::Cell cell_of(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (const auto* s = v.get_ptr<const std::string*>()) return *s;
  return {};
}

}  // namespace

template <typename T>
std::optional<T> AuditLog::as_of(UnitOfWork& uow, Id id, Timestamp when) const {
  using Row = typename detail::Entity<T>::Row;
  island::SqlFragment q;
  q.text("SELECT action, changes FROM audit_log WHERE");
  detail::object_is(q, {T::kType, id})
      .text(" AND action <> 'denied' AND at <= ")
      .param(int_param(detail::micros(when)))
      .text(" ORDER BY id");
  const auto cells = island::query_text(uow.impl().live(), q, 2);
  std::optional<json> state;  // flat fields, as of each entry in turn
  for (std::size_t i = 0; i + 2 <= cells.size(); i += 2) {
    const std::string& action = cells[i].text;
    if (action == "deleted") {
      state.reset();
      continue;
    }
    if (action == "created") state = json::object();
    if (!state) continue;  // created before the audit trail began: its state is unknown
    const json changes = json::parse(cells[i + 1].text, nullptr, false);
    if (!changes.is_object()) continue;
    for (const auto& [name, pair] : changes.items())
      if (pair.is_array() && pair.size() == 2) (*state)[name] = pair[1];
  }
  if (!state) return std::nullopt;
  Row row;
  auto set_all = [&](auto fields) {
    for (const auto& f : fields) {
      const auto it = state->find(std::string(f.name));
      if (it != state->end() && f.set != nullptr) f.set(row, cell_of(*it));
    }
  };
  set_all(detail::record_fields<Row>());
  set_all(detail::Entity<T>::fields());
  // Custom values by name, as stored, for the definitions that still exist.
  const auto defs = detail::custom_fields_of(uow.impl(), T::kType);
  json custom = json::object();
  for (const auto& def : defs->all()) {
    const auto it = state->find("custom." + def.name);
    if (it != state->end() && !it->is_null()) custom[detail::json_key(def.id)] = *it;
  }
  if (!custom.empty()) row.custom_fields = std::make_unique<std::string>(custom.dump());
  detail::open_row<T>(*uow.impl().db, row);
  T out = detail::Entity<T>::from_row(row);
  out.custom = detail::decode_custom(*defs, row.custom_fields);
  return out;
}

template std::optional<User> AuditLog::as_of<User>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Team> AuditLog::as_of<Team>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Tag> AuditLog::as_of<Tag>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Company> AuditLog::as_of<Company>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Contact> AuditLog::as_of<Contact>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Lead> AuditLog::as_of<Lead>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Pipeline> AuditLog::as_of<Pipeline>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Stage> AuditLog::as_of<Stage>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Deal> AuditLog::as_of<Deal>(UnitOfWork&, Id, Timestamp) const;
template std::optional<Activity> AuditLog::as_of<Activity>(UnitOfWork&, Id, Timestamp) const;

}  // namespace banyan::store
