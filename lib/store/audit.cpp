#include "store/audit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>

#include "banyan/errors.hpp"
#include "banyan/model/time.hpp"
#include "store/audit_log.hpp"
#include "store/custom_fields.hpp"
#include "store/entity.hpp"
#include "store/field_cipher.hpp"
#include "store/sealing.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "util/encoding.hpp"

namespace banyan::store {
namespace detail {
namespace {

using nlohmann::json;

constexpr const char* kSystemActor = "system";  // as security::Principal::system() is named
const std::string kGenesis(64, '0');            // the "previous hash" of entry 1
constexpr const char* kColumns =
    "id, at, actor_id, actor, origin, action, object_type, object_id, changes, detail, prev_hash, "
    "hash";
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

// What the hash covers, each part length-prefixed so that no two entries read alike:
// SHA-256 of it, or its HMAC-SHA256 under the chain key for a keyed entry.
std::string hash_of(const std::string& prev_hash, const AuditEntry& e, const std::string& key) {
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
  return key.empty() ? util::sha256_hex(text) : util::hex(util::hmac_sha256(key, text));
}

// The head row: the last entry's number and hash, and from which entry on the chain is
// keyed, with the mark that only the key makes for that number.
struct Head {
  std::uint64_t last = 0;
  std::string hash;
  std::uint64_t keyed_from = 0;
  std::string mark;
};

Head read_head(island::Transaction& tx, island::Backend backend, bool lock) {
  island::SqlFragment q;
  q.text("SELECT last_id, last_hash, keyed_from, key_mark FROM audit_head WHERE id = 1");
  if (lock && backend == island::Backend::kMysql) q.text(" FOR UPDATE");
  const auto cells = island::query_text(tx, q, 4);
  if (cells.size() != 4) throw InternalError("the audit head row is missing");
  return {to_u64(cells[0].text), cells[1].text, to_u64(cells[2].text), cells[3].text};
}

std::string key_mark(const std::string& chain_key, std::uint64_t keyed_from) {
  return util::hex(
      util::hmac_sha256(chain_key, "banyan audit keyed from " + std::to_string(keyed_from)));
}

const char* const kKeyHint = " (BANYAN_AUDIT_KEY_FILE, or DatabaseOptions::audit_key)";

// Whether the head is as this process's audit key left it: keyed, with the key's mark.
// `what` is what cannot go on otherwise. Unavailable when not.
void require_own_key(const DatabaseState& db, const Head& head, const std::string& what) {
  const std::string& key = db.audit_chain_key;
  if (key.empty()) {
    if (head.keyed_from != 0)
      throw Unavailable("the audit trail is keyed from entry " + std::to_string(head.keyed_from) +
                        ": " + what + " needs its audit key" + kKeyHint);
    return;
  }
  if (head.keyed_from == 0 || head.mark != key_mark(key, head.keyed_from))
    throw Unavailable(
        "the audit key is not the key this audit trail is keyed with, or the trail's head was "
        "altered (`banyan audit verify` tells which): " +
        what + " is refused");
}

std::string checkpoint_text(const AuditCheckpoint& c) {
  return "banyan-audit-checkpoint v1 " + std::to_string(c.sequence) + " " + c.hash + " " +
         format_timestamp(c.at);
}

std::string signature_of(const DatabaseState& db, const AuditCheckpoint& c) {
  return util::hex(util::hmac_sha256(db.audit_checkpoint_key, checkpoint_text(c)));
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
  // Both objects iterate in name order: one walk over the two, a field missing on one
  // side read as null (so a missing field and a null one are no change).
  const json none;
  auto x = a.begin(), y = b.begin();
  while (x != a.end() || y != b.end()) {
    if (y == b.end() || (x != a.end() && x.key() < y.key())) {
      if (!x->is_null()) out[x.key()] = json::array({*x, none});
      ++x;
    } else if (x == a.end() || y.key() < x.key()) {
      if (!y->is_null()) out[y.key()] = json::array({none, *y});
      ++y;
    } else {
      if (*x != *y) out[x.key()] = json::array({*x, *y});
      ++x;
      ++y;
    }
  }
  return out;
}

void audit_change(UnitOfWork::Impl& uow, std::string action, ObjectRef object, const json& before,
                  const json& after, std::int64_t at, std::string detail) {
  PendingAudit p;
  p.detail = std::move(detail);
  p.at = at != 0 ? at : micros(now_micros(*uow.db));
  p.action = std::move(action);
  p.object = object;
  p.changes = payload_diff(before, after).dump(-1, ' ', false, json::error_handler_t::replace);
  uow.audit.push_back(std::move(p));
}

void key_audit_trail(DatabaseState& state) {
  if (state.audit_chain_key.empty()) return;
  {
    island::TransactionPtr read = island::begin(*state.db, island::Access::kReadOnly);
    const Head head = read_head(*read, state.backend, false);
    island::commit(*read);
    if (head.keyed_from != 0) return require_own_key(state, head, "opening the database");
  }
  island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadWrite);
  const Head head = read_head(*tx, state.backend, true);
  if (head.keyed_from != 0)
    return require_own_key(state, head, "opening the database");  // keyed meanwhile
  const std::uint64_t from = head.last + 1;
  island::SqlFragment key;
  key.text("UPDATE audit_head SET keyed_from = ")
      .param(int_param(static_cast<std::int64_t>(from)))
      .text(", key_mark = ")
      .param(text_param(key_mark(state.audit_chain_key, from)))
      .text(" WHERE id = 1");
  island::execute(*tx, key);
  island::commit(*tx);
  state.report(LogEvent(LogLevel::kInfo, "audit_trail_keyed")
                   .with("message", "the audit trail is keyed with the audit key from entry " +
                                        std::to_string(from) + " on")
                   .with("from_entry", static_cast<std::int64_t>(from)));
}

void flush_audit(UnitOfWork::Impl& uow) {
  island::Transaction& tx = uow.live();
  const Head head = read_head(tx, uow.db->backend, true);
  require_own_key(*uow.db, head, "writing to it");
  const std::string& key = uow.db->audit_chain_key;
  std::uint64_t last = head.last;
  std::string prev = head.hash;
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
      // A unit of work with no user is trusted code's (a saga, the CLI, an embedding
      // program): the system principal's, and the trail says so.
      e.actor = uow.actor || !uow.actor_name.empty() ? uow.actor_name : kSystemActor;
      e.origin = uow.origin;
      e.action = p.action;
      e.object = p.object;
      e.changes = p.changes;
      e.detail = p.detail;
      const std::string hash = hash_of(prev, e, key);
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
  if (query.limit < 1 || query.limit > 1000)
    throw ValidationError("limit: must be between 1 and 1000", "limit");
  island::SqlFragment q;
  q.text(std::string("SELECT ") + detail::kColumns + " FROM audit_log WHERE id > ")
      .param(int_param(static_cast<std::int64_t>(query.after)));
  if (query.object) detail::object_is(q.text(" AND"), *query.object);
  if (query.actor_id)
    q.text(" AND actor_id = ").param(int_param(static_cast<std::int64_t>(*query.actor_id)));
  if (query.from) q.text(" AND at >= ").param(int_param(detail::micros(*query.from)));
  if (query.to) q.text(" AND at < ").param(int_param(detail::micros(*query.to)));
  q.text(" ORDER BY id LIMIT " + std::to_string(query.limit));
  const auto cells = island::query_text(Session(uow).tx(), q, detail::kWidth);
  std::vector<AuditEntry> out;
  for (std::size_t i = 0; i + detail::kWidth <= cells.size(); i += detail::kWidth)
    out.push_back(detail::entry_of(&cells[i]));
  return out;
}

AuditVerification AuditLog::verify(UnitOfWork& uow,
                                   const std::vector<AuditCheckpoint>& anchors) const {
  island::Transaction& tx = Session(uow).tx();
  const detail::Head head = detail::read_head(tx, db_->backend, false);
  const std::string& key = db_->audit_chain_key;
  AuditVerification v;
  auto fail = [&](std::uint64_t at, std::string problem) {
    v.intact = false;
    v.first_bad = at;
    v.problem = std::move(problem);
    return v;
  };
  if (head.keyed_from != 0 && key.empty())
    throw Unavailable("the audit trail is keyed from entry " + std::to_string(head.keyed_from) +
                      ": verifying it needs its audit key" + detail::kKeyHint);
  if (!anchors.empty() && key.empty())
    throw Unavailable(std::string("checking checkpoints needs the audit key that signed them") +
                      detail::kKeyHint);
  if (!key.empty() && head.keyed_from == 0)
    return fail(
        1,
        "the trail is not keyed, but opening it with this audit key keyed it: its head was altered "
        "and the entries may have been rewritten");
  if (head.keyed_from != 0 && head.mark != detail::key_mark(key, head.keyed_from))
    return fail(head.keyed_from,
                "the head's key mark was not made by this audit key: the head was altered "
                "(or this is another trail's key)");
  // Each checkpoint must be the key's; then it names the entry it vouched for.
  std::map<std::uint64_t, const AuditCheckpoint*> vouched;
  for (const AuditCheckpoint& c : anchors) {
    if (c.signature != detail::signature_of(*db_, c))
      return fail(c.sequence, "the checkpoint of " + format_timestamp(c.at) + " (entry " +
                                  std::to_string(c.sequence) +
                                  ") is not signed with the audit key: the anchor was altered");
    if (c.sequence > 0) vouched.emplace(c.sequence, &c);
  }
  std::string expected_prev = detail::kGenesis;
  std::uint64_t expected_id = 1;
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
        return fail(expected_id, "entry " + std::to_string(expected_id) +
                                     " is missing (the next is " + std::to_string(e.id) + ")");
      if (prev != expected_prev)
        return fail(e.id, "entry " + std::to_string(e.id) + " does not follow entry " +
                              std::to_string(e.id - 1) +
                              " (its link was changed, or the entry before it)");
      const bool keyed = head.keyed_from != 0 && e.id >= head.keyed_from;
      if (detail::hash_of(prev, e, keyed ? key : std::string()) != e.hash)
        return fail(e.id, "entry " + std::to_string(e.id) + " was changed after it was written" +
                              (keyed ? " (its hash is not the audit key's)" : ""));
      if (const auto c = vouched.find(e.id); c != vouched.end() && c->second->hash != e.hash)
        return fail(e.id, "entry " + std::to_string(e.id) + " is not the entry the checkpoint of " +
                              format_timestamp(c->second->at) + " vouched for");
      expected_prev = e.hash;
      ++expected_id;
      ++v.entries;
    }
  }
  if (!vouched.empty() && vouched.rbegin()->first > v.entries) {
    const AuditCheckpoint& c = *vouched.rbegin()->second;
    return fail(v.entries + 1, "the log ends at entry " + std::to_string(v.entries) +
                                   " but the checkpoint of " + format_timestamp(c.at) +
                                   " vouches for entry " + std::to_string(c.sequence) +
                                   ": the newest entries were removed");
  }
  if (head.last != v.entries)
    return fail(v.entries + 1, "the log ends at entry " + std::to_string(v.entries) +
                                   " but entry " + std::to_string(head.last) +
                                   " was written (the newest entries were removed)");
  if (head.hash != expected_prev)
    return fail(head.last, "entry " + std::to_string(head.last) + " is not the last entry written");
  return v;
}

AuditCheckpoint AuditLog::checkpoint(UnitOfWork& uow) const {
  if (db_->audit_checkpoint_key.empty())
    throw Unavailable(
        std::string("a checkpoint is signed with the audit key, and none is configured") +
        detail::kKeyHint);
  const detail::Head head = detail::read_head(Session(uow).tx(), db_->backend, false);
  detail::require_own_key(*db_, head, "a checkpoint");
  AuditCheckpoint c;
  c.sequence = head.last;
  c.hash = head.hash;
  c.at = detail::now_micros(*db_);
  c.signature = detail::signature_of(*db_, c);
  return c;
}

std::uint64_t AuditLog::keyed_from(UnitOfWork& uow) const {
  return detail::read_head(Session(uow).tx(), db_->backend, false).keyed_from;
}

std::string AuditCheckpoint::line() const {
  return detail::checkpoint_text(*this) + " " + signature;
}

namespace {

bool all_hex(std::string_view s, std::size_t size) {
  return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

[[noreturn]] void bad_anchor(const std::string& why) {
  throw ValidationError("anchor: " + why, "anchor");
}

}  // namespace

AuditCheckpoint AuditCheckpoint::parse(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = line.find_first_of(" \t\r");
    words.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  if (words.size() != 6 || words[0] != "banyan-audit-checkpoint" || words[1] != "v1")
    bad_anchor("a checkpoint reads \"banyan-audit-checkpoint v1 SEQUENCE HASH TIME SIGNATURE\"");
  AuditCheckpoint c;
  const auto [end, ec] =
      std::from_chars(words[2].data(), words[2].data() + words[2].size(), c.sequence);
  if (ec != std::errc() || end != words[2].data() + words[2].size())
    bad_anchor("the sequence is not a number");
  if (!all_hex(words[3], 64)) bad_anchor("the hash is not 64 hex digits");
  const auto at = parse_timestamp(words[4]);
  if (!at) bad_anchor("the time is not an RFC 3339 time");
  if (!all_hex(words[5], 64)) bad_anchor("the signature is not 64 hex digits");
  c.hash = std::string(words[3]);
  c.at = *at;
  c.signature = std::string(words[5]);
  return c;
}

void append_audit_anchor(const std::string& path, const AuditCheckpoint& checkpoint) {
  const std::string text = checkpoint.line() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    throw Unavailable("cannot open the audit anchor " + path + ": " + std::strerror(errno));
  // One write of one short line: appends from several processes do not interleave.
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok)
    throw Unavailable("cannot append to the audit anchor " + path + ": " + std::strerror(err));
}

std::vector<AuditCheckpoint> read_audit_anchor(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Unavailable("cannot read the audit anchor " + path);
  std::vector<AuditCheckpoint> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      out.push_back(AuditCheckpoint::parse(line));
    } catch (const ValidationError& e) {
      bad_anchor(path + " line " + std::to_string(n) + " is not a checkpoint (" + e.what() + ")");
    }
  }
  return out;
}

std::vector<FieldChange> AuditLog::history(UnitOfWork& uow, ObjectRef object,
                                           std::string_view field) const {
  island::SqlFragment q;
  q.text(std::string("SELECT ") + detail::kColumns + " FROM audit_log WHERE");
  detail::object_is(q, object).text(" AND action <> 'denied' ORDER BY id");
  const auto cells = island::query_text(Session(uow).tx(), q, detail::kWidth);
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
        const detail::FieldCipher* cipher = Session(uow).database().cipher.get();
        const std::string place =
            detail::sealed_place(object.type, name.starts_with("custom.") ? "custom" : name);
        out.push_back({e.id, e.at, e.actor_id, e.actor, e.action, name,
                       detail::open_json(cipher, place, pair[0]).dump(),
                       detail::open_json(cipher, place, pair[1]).dump()});
        continue;
      }
      out.push_back(
          {e.id, e.at, e.actor_id, e.actor, e.action, name, pair[0].dump(), pair[1].dump()});
    }
  }
  return out;
}

void AuditLog::record_denial(UnitOfWork& uow, ObjectRef object, std::string_view detail) const {
  Session(uow).tx();
  detail::PendingAudit p;
  p.at = detail::micros(detail::now_micros(*db_));
  p.action = "denied";
  p.object = object;
  p.changes = "{}";
  p.detail = std::string(detail.substr(0, 1000));
  Session(uow).state().audit.push_back(std::move(p));
}

namespace {

detail::Cell cell_of(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (const auto* s = v.get_ptr<const std::string*>()) return *s;
  if (v.is_array()) return v.dump();  // a list column (FieldType::kJson)
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
  const auto cells = island::query_text(Session(uow).tx(), q, 2);
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
  const auto defs = Session(uow).custom_fields(T::kType);
  json custom = json::object();
  for (const auto& def : defs->all()) {
    const auto it = state->find("custom." + def.name);
    if (it != state->end() && !it->is_null()) custom[detail::json_key(def.id)] = *it;
  }
  if (!custom.empty()) row.custom_fields = std::make_unique<std::string>(custom.dump());
  detail::open_row<T>(Session(uow).database(), row);
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
