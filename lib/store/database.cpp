#include "banyan/store/database.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "banyan/errors.hpp"
#include "store/audit.hpp"
#include "store/database_state.hpp"
#include "store/schema.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "store/url.hpp"
#include "util/encoding.hpp"

namespace banyan::store {

namespace detail {
std::shared_ptr<const FieldSet> custom_fields_of(UnitOfWork::Impl& uow, ObjectType type) {
  island::Transaction& tx = uow.live();
  if (uow.custom_fields_changed) return std::make_shared<const FieldSet>(FieldSet::load(tx, type));
  CustomFieldCache& cache = uow.db->custom_fields;
  const auto now = uow.db->clock->steady();
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.entries.find(type);
    if (it != cache.entries.end() && now - it->second.loaded_at < cache.ttl)
      return it->second.fields;
  }
  auto fields = std::make_shared<const FieldSet>(FieldSet::load(tx, type));
  std::lock_guard<std::mutex> lock(cache.mutex);
  cache.entries[type] = {fields, now};
  return fields;
}
}  // namespace detail

namespace {

// The pool's view of a Database's clock (the pool keeps a C++14 interface of its own).
class PoolClockOf final : public banyan::detail::Clock {
 public:
  explicit PoolClockOf(const banyan::Clock& clock) noexcept : clock_(clock) {}
  banyan::detail::PoolClock::time_point now() const override { return clock_.steady(); }

 private:
  const banyan::Clock& clock_;
};

// A database that has held sealed values needs its keys from then on: every key it knows
// that still seals values (not retired by a complete rewrap) must be in the ring, and a
// key id it knows must come with the same key. Otherwise reads of what that key sealed
// fail, and new values would be sealed with a key that cannot open the old ones (or
// stored as given beside sealed ones). Only a key new to the database takes a write
// transaction, so an ordinary open queues behind no writer.
void check_encryption_keys(detail::DatabaseState& state, const detail::FieldCipher* cipher) {
  const auto known = [&](island::Transaction& tx, const std::string& id, bool lock) {
    island::SqlFragment q;
    q.text(
        "SELECT key_id, fingerprint, CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END FROM "
        "encryption_keys");
    if (!id.empty()) q.text(" WHERE key_id = ").param(detail::text_param(id));
    // After another process registered the id, a locking read sees its row (MySQL;
    // SQLite's write transaction is exclusive already).
    if (lock && state.backend == island::Backend::kMysql) q.text(" FOR UPDATE");
    return island::query_text(tx, q, 3);
  };
  const auto refuse_other_key = [](const std::string& id) {
    throw Unavailable("encryption key '" + id + "' is not the key this database knows by that id");
  };
  island::TransactionPtr read = island::begin(*state.db, island::Access::kReadOnly);
  const auto cells = known(*read, "", false);
  island::commit(*read);
  if (cipher == nullptr) {
    if (cells.empty()) return;
    std::string ids;
    for (std::size_t i = 0; i < cells.size(); i += 3)
      ids += (ids.empty() ? "" : ", ") + cells[i].text;
    throw Unavailable(
        "this database holds values encrypted at rest (keys " + ids +
        "): give its keys (BANYAN_ENCRYPTION_KEY_FILE, or DatabaseOptions::encryption)");
  }
  const auto ring = cipher->fingerprints();
  std::string missing;
  for (std::size_t i = 0; i < cells.size(); i += 3) {
    const bool in_ring =
        std::any_of(ring.begin(), ring.end(), [&](const auto& k) { return k.id == cells[i].text; });
    if (!in_ring && cells[i + 2].text == "0")
      missing += (missing.empty() ? "'" : ", '") + cells[i].text + "'";
  }
  if (!missing.empty()) {
    throw Unavailable(
        "this database has values sealed with key " + missing +
        ", which the encryption key ring lacks: add it back (a key leaves the ring only after "
        "`banyan encryption rewrap` has resealed everything with a newer one)");
  }
  std::vector<detail::FieldCipher::KeyCheck> fresh;
  bool current_retired = false;
  for (const auto& key : ring) {
    bool seen = false;
    for (std::size_t i = 0; i < cells.size(); i += 3) {
      if (cells[i].text != key.id) continue;
      seen = true;
      if (cells[i + 1].text != key.fingerprint) refuse_other_key(key.id);
      if (key.id == cipher->current_id() && cells[i + 2].text == "1") current_retired = true;
    }
    if (!seen) fresh.push_back(key);
  }
  if (!fresh.empty() || current_retired) {
    island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadWrite);
    for (const auto& key : fresh) {
      island::SqlFragment ins;
      ins.text(std::string(detail::insert_ignore(state.backend)) +
               "encryption_keys (key_id, fingerprint, created_at) VALUES (")
          .param(detail::text_param(key.id))
          .text(", ")
          .param(detail::text_param(key.fingerprint))
          .text(", ")
          .param(detail::int_param(detail::micros(detail::now_micros(state))))
          .text(")");
      if (island::execute(*tx, ins) > 0) continue;
      // Registered meanwhile by another process: it must have brought the same key.
      const auto now = known(*tx, key.id, true);
      if (now.size() < 3 || now[1].text != key.fingerprint) refuse_other_key(key.id);
    }
    // A retired key made current again seals values again.
    island::SqlFragment back;
    back.text("UPDATE encryption_keys SET retired_at = NULL WHERE key_id = ")
        .param(detail::text_param(cipher->current_id()));
    island::execute(*tx, back);
    island::commit(*tx);
  }
}

}  // namespace

namespace detail {
namespace {

// Whether `table` holds an email not sealed. Values beginning "enc1:" are sealed
// (FieldCipher::is_sealed): two range probes of the email index for any other, however
// many rows there are.
bool has_unsealed_emails(island::Transaction& tx, const std::string& table) {
  const std::string email = table + ".email";
  island::SqlFragment q;
  q.text("SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " WHERE " + email + " < 'enc1:' OR " +
         email + " >= 'enc1;' LIMIT 1) unsealed");
  return island::query_int(tx, q) > 0;
}

}  // namespace

void note_unsealed_emails(DatabaseState& state) {
  island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadOnly);
  for (const ObjectType type : {ObjectType::kContact, ObjectType::kLead})
    state.unsealed_emails_of(type) = has_unsealed_emails(*tx, std::string(table_of(type)));
  island::commit(*tx);
}
}  // namespace detail

island::Transaction& UnitOfWork::Impl::live() {
  if (!tx || !island::active(*tx))
    throw Conflict("this unit of work has already been committed or rolled back");
  return *tx;
}

const char* Session::insert_ignore() const noexcept {
  return detail::insert_ignore(uow_.db->backend);
}

void Session::audit(std::string action, ObjectRef object, const nlohmann::json& before,
                    const nlohmann::json& after, std::int64_t at, std::string detail) {
  detail::audit_change(uow_, std::move(action), object, before, after, at, std::move(detail));
}

UnitOfWork::UnitOfWork(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UnitOfWork::UnitOfWork(UnitOfWork&&) noexcept = default;
UnitOfWork& UnitOfWork::operator=(UnitOfWork&&) noexcept = default;
UnitOfWork::~UnitOfWork() = default;  // the transaction's deleter rolls back

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> commit_deadline;
}  // namespace

CommitDeadline::CommitDeadline(std::chrono::steady_clock::time_point deadline) noexcept
    : previous_(commit_deadline) {
  commit_deadline = deadline;
}
CommitDeadline::~CommitDeadline() { commit_deadline = previous_; }
std::optional<std::chrono::steady_clock::time_point> CommitDeadline::current() noexcept {
  return commit_deadline;
}

void UnitOfWork::commit() {
  if (commit_deadline && std::chrono::steady_clock::now() > *commit_deadline) {
    rollback();
    throw Unavailable("the deadline of this work passed before it committed; it was rolled back");
  }
  // Last, so that the audit head is the last lock this transaction takes: writers that
  // wait for it hold nothing it needs.
  if (!impl_->audit.empty()) detail::flush_audit(*impl_);
  island::commit(impl_->live());
  // Definitions this unit of work changed are now everyone's: drop what was cached.
  if (impl_->custom_fields_changed) impl_->db->custom_fields.clear();
  for (const auto& done : impl_->after_commit) done();
  impl_->after_commit.clear();
}

void UnitOfWork::attempt(const std::function<void()>& work) {
  island::Transaction& tx = impl_->live();
  const std::string name = "banyan_attempt_" + std::to_string(++impl_->savepoints);
  const std::size_t audit_size = impl_->audit.size();
  const std::size_t after_commit_size = impl_->after_commit.size();
  const bool fields_changed = impl_->custom_fields_changed;
  island::execute(tx, "SAVEPOINT " + name);
  try {
    work();
  } catch (...) {
    --impl_->savepoints;
    try {
      island::execute(impl_->live(), "ROLLBACK TO SAVEPOINT " + name);
      island::execute(impl_->live(), "RELEASE SAVEPOINT " + name);
    } catch (const std::exception& e) {
      rollback();
      throw Conflict(std::string("the transaction was lost while undoing a failed step (") +
                     e.what() + "); retry the whole of it");
    }
    impl_->audit.resize(audit_size);
    impl_->after_commit.resize(after_commit_size);
    impl_->custom_fields_changed = fields_changed;
    throw;
  }
  --impl_->savepoints;
  island::execute(tx, "RELEASE SAVEPOINT " + name);
}

void Database::probe() {
  UnitOfWork uow = begin();
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  island::execute(Session(uow).tx(),
                  "UPDATE health_probe SET probed_at = " + std::to_string(now) + " WHERE id = 1");
  uow.commit();
}

void UnitOfWork::rollback() noexcept {
  if (impl_ && impl_->tx) island::rollback(*impl_->tx);
}

bool UnitOfWork::active() const noexcept {
  return impl_ && impl_->tx && island::active(*impl_->tx);
}

std::optional<Id> UnitOfWork::actor() const noexcept { return impl_->actor; }

void UnitOfWork::describe_actor(std::string name, std::string origin) {
  impl_->actor_name = std::move(name);
  impl_->origin = std::move(origin);
}

Database::Database(std::unique_ptr<detail::DatabaseState> state) : state_(std::move(state)) {}
Database::~Database() = default;

std::unique_ptr<Database> Database::open(std::string_view url, DatabaseOptions options) {
  island::ConnectionSpec spec = detail::parse_database_url(url);
  auto state = std::make_unique<detail::DatabaseState>();
  state->backend = spec.backend;
  state->location = spec.describe;
  state->custom_fields.ttl = options.custom_field_cache_ttl;
  state->log = std::move(options.log);
  if (options.clock) {
    state->clock = std::move(options.clock);
    state->pool_clock = std::make_unique<const PoolClockOf>(*state->clock);
  }
  state->db = island::open_database(
      spec, options.pool,
      [log = state->log](const std::string& line) {
        if (log) log(LogEvent(LogLevel::kWarning, "connection_pool").with("message", line));
      },
      state->pool_clock.get());
  state->schema_version = detail::ensure_schema(*state, options.migrate);
  std::optional<EncryptionKeys> keys =
      options.encryption ? std::move(options.encryption) : EncryptionKeys::from_environment();
  std::unique_ptr<const detail::FieldCipher> cipher;
  if (keys) cipher = std::make_unique<const detail::FieldCipher>(*keys);
  check_encryption_keys(*state, cipher.get());
  if (cipher) {
    state->cipher.install(std::move(cipher));
    detail::note_unsealed_emails(*state);
  }
  std::optional<EncryptionKeys> audit_key =
      options.audit_key ? EncryptionKeys::single_audit_key(std::move(*options.audit_key))
                        : EncryptionKeys::audit_key_from_environment();
  if (audit_key) {
    state->audit_chain_key =
        util::hmac_sha256(audit_key->current().secret, "banyan audit chain v1");
    state->audit_checkpoint_key =
        util::hmac_sha256(audit_key->current().secret, "banyan audit checkpoint v1");
  }
  detail::key_audit_trail(*state);
  return std::unique_ptr<Database>(new Database(std::move(state)));
}

UnitOfWork Database::begin(std::optional<Id> actor, Access access) {
  auto impl = std::make_unique<UnitOfWork::Impl>();
  impl->db = state_.get();
  impl->actor = actor;
  impl->tx = island::begin(*state_->db, access == Access::kReadWrite ? island::Access::kReadWrite
                                                                     : island::Access::kReadOnly);
  return UnitOfWork(std::move(impl));
}

const std::string& Database::location() const noexcept { return state_->location; }
const Clock& Database::clock() const noexcept { return *state_->clock; }

std::string_view Database::backend() const noexcept {
  return state_->backend == island::Backend::kSqlite ? "sqlite" : "mysql";
}

void Database::reload_encryption_keys(const EncryptionKeys& keys) {
  if (!state_->cipher)
    throw Unavailable("encryption at rest is off in this process: a key ring is given at open");
  auto cipher = std::make_unique<const detail::FieldCipher>(keys);
  check_encryption_keys(*state_, cipher.get());
  state_->cipher.install(std::move(cipher));
}

std::vector<std::string> Database::encryption_key_problems() {
  const detail::FieldCipher* cipher = state_->cipher.get();
  if (cipher == nullptr) return {};
  island::TransactionPtr tx = island::begin(*state_->db, island::Access::kReadOnly);
  island::SqlFragment q;
  q.text(
      "SELECT key_id, fingerprint FROM encryption_keys WHERE retired_at IS NULL ORDER BY key_id");
  const auto cells = island::query_text(*tx, q, 2);
  island::commit(*tx);
  const auto ring = cipher->fingerprints();
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 2 <= cells.size(); i += 2) {
    const auto k = std::find_if(ring.begin(), ring.end(),
                                [&](const auto& r) { return r.id == cells[i].text; });
    if (k == ring.end())
      out.push_back("the database has values sealed with encryption key '" + cells[i].text +
                    "', which this process's key ring lacks");
    else if (k->fingerprint != cells[i + 1].text)
      out.push_back("encryption key '" + cells[i].text +
                    "' is not the key the database knows by that id");
  }
  return out;
}

std::string Database::encryption_key_id() const {
  return state_->cipher ? state_->cipher->current_id() : std::string();
}

PoolMetrics Database::pool_metrics() const { return island::pool_metrics(*state_->db); }
int Database::schema_version() const { return state_->schema_version; }
int Database::current_schema_version() noexcept { return detail::current_schema_version(); }

}  // namespace banyan::store
