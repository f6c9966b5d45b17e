#include "banyan/store/database.hpp"

#include <iostream>
#include <utility>
#include <vector>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/audit.hpp"
#include "store/schema.hpp"
#include "store/sql_builder.hpp"
#include "store/url.hpp"

namespace banyan::store {

namespace detail {
Timestamp now_micros() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
}
}  // namespace detail

namespace detail {
std::shared_ptr<const FieldSet> custom_fields_of(UnitOfWork::Impl& uow, ObjectType type) {
  island::Transaction& tx = uow.live();
  if (uow.custom_fields_changed) return std::make_shared<const FieldSet>(FieldSet::load(tx, type));
  CustomFieldCache& cache = uow.db->custom_fields;
  const auto now = std::chrono::steady_clock::now();
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

// A database that has held sealed values needs its keys from then on, and a key id it
// knows must come with the same key: otherwise new values would be sealed with a key
// that cannot open the old ones (or stored as given beside sealed ones). Only a key new
// to the database takes a write transaction, so an ordinary open queues behind no writer.
void check_encryption_keys(detail::DatabaseState& state) {
  const auto known = [&](island::Transaction& tx, const std::string& id, bool lock) {
    island::SqlFragment q;
    q.text("SELECT key_id, fingerprint FROM encryption_keys");
    if (!id.empty()) q.text(" WHERE key_id = ").param(detail::text_param(id));
    // After another process registered the id, a locking read sees its row (MySQL;
    // SQLite's write transaction is exclusive already).
    if (lock && state.backend == island::Backend::kMysql) q.text(" FOR UPDATE");
    return island::query_text(tx, q, 2);
  };
  const auto refuse_other_key = [](const std::string& id) {
    throw Unavailable("encryption key '" + id + "' is not the key this database knows by that id");
  };
  island::TransactionPtr read = island::begin(*state.db, island::Access::kReadOnly);
  const auto cells = known(*read, "", false);
  island::commit(*read);
  if (!state.cipher) {
    if (cells.empty()) return;
    std::string ids;
    for (std::size_t i = 0; i < cells.size(); i += 2) ids += (ids.empty() ? "" : ", ") + cells[i].text;
    throw Unavailable("this database holds values encrypted at rest (keys " + ids +
                      "): give its keys (BANYAN_ENCRYPTION_KEY_FILE, or DatabaseOptions::encryption)");
  }
  std::vector<detail::FieldCipher::KeyCheck> fresh;
  for (const auto& key : state.cipher->fingerprints()) {
    bool seen = false;
    for (std::size_t i = 0; i < cells.size(); i += 2) {
      if (cells[i].text != key.id) continue;
      seen = true;
      if (cells[i + 1].text != key.fingerprint) refuse_other_key(key.id);
    }
    if (!seen) fresh.push_back(key);
  }
  if (!fresh.empty()) {
    island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadWrite);
    for (const auto& key : fresh) {
      island::SqlFragment ins;
      ins.text(std::string(detail::insert_ignore(state.backend)) +
               "encryption_keys (key_id, fingerprint, created_at) VALUES (")
          .param(detail::text_param(key.id)).text(", ")
          .param(detail::text_param(key.fingerprint)).text(", ")
          .param(detail::int_param(detail::micros(detail::now_micros()))).text(")");
      if (island::execute(*tx, ins) > 0) continue;
      // Registered meanwhile by another process: it must have brought the same key.
      const auto now = known(*tx, key.id, true);
      if (now.size() < 2 || now[1].text != key.fingerprint) refuse_other_key(key.id);
    }
    island::commit(*tx);
  }
  detail::note_unsealed_emails(state);
}

}  // namespace

namespace detail {
void note_unsealed_emails(DatabaseState& state) {
  island::TransactionPtr tx = island::begin(*state.db, island::Access::kReadOnly);
  for (const ObjectType type : {ObjectType::kContact, ObjectType::kLead}) {
    const std::string table(table_of(type));
    island::SqlFragment q;
    // Values beginning "enc1:" are sealed (FieldCipher::is_sealed): two range probes of the
    // email index for any other, however many rows there are.
    const std::string email = table + ".email";
    q.text("SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " WHERE " + email + " < 'enc1:' OR " + email +
           " >= 'enc1;' LIMIT 1) unsealed");
    state.unsealed_emails_of(type) = island::query_int(*tx, q) > 0;
  }
  island::commit(*tx);
}
}  // namespace detail

island::Transaction& UnitOfWork::Impl::live() {
  if (!tx || !island::active(*tx))
    throw Conflict("this unit of work has already been committed or rolled back");
  return *tx;
}

UnitOfWork::UnitOfWork(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UnitOfWork::UnitOfWork(UnitOfWork&&) noexcept = default;
UnitOfWork& UnitOfWork::operator=(UnitOfWork&&) noexcept = default;
UnitOfWork::~UnitOfWork() = default;  // the transaction's deleter rolls back

void UnitOfWork::commit() {
  // Last, so that the audit head is the last lock this transaction takes: writers that
  // wait for it hold nothing it needs.
  if (!impl_->audit.empty()) detail::flush_audit(*impl_);
  island::commit(impl_->live());
  // Definitions this unit of work changed are now everyone's: drop what was cached.
  if (impl_->custom_fields_changed) impl_->db->custom_fields.clear();
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
  state->custom_fields.ttl = options.custom_field_cache_ttl;
  state->log = options.log ? std::move(options.log) : [](std::string_view line) {
    std::cerr << "banyan: " << line << '\n';
  };
  auto log = state->log;
  state->db = island::open_database(spec, options.pool,
                                    [log](const std::string& line) { log(line); });
  state->schema_version = detail::ensure_schema(*state, options.migrate);
  std::optional<EncryptionKeys> keys =
      options.encryption ? std::move(options.encryption) : EncryptionKeys::from_environment();
  if (keys) state->cipher = std::make_unique<const detail::FieldCipher>(*keys);
  check_encryption_keys(*state);
  return std::unique_ptr<Database>(new Database(std::move(state)));
}

UnitOfWork Database::begin(std::optional<Id> actor, Access access) {
  auto impl = std::make_unique<UnitOfWork::Impl>();
  impl->db = state_.get();
  impl->actor = actor;
  impl->tx = island::begin(*state_->db, access == Access::kReadWrite
                                                  ? island::Access::kReadWrite
                                                  : island::Access::kReadOnly);
  return UnitOfWork(std::move(impl));
}

std::string_view Database::backend() const noexcept {
  return state_->backend == island::Backend::kSqlite ? "sqlite" : "mysql";
}

std::string Database::encryption_key_id() const {
  return state_->cipher ? state_->cipher->current_id() : std::string();
}

PoolMetrics Database::pool_metrics() const { return island::pool_metrics(*state_->db); }
int Database::schema_version() const { return state_->schema_version; }
int Database::current_schema_version() noexcept { return detail::current_schema_version(); }

}  // namespace banyan::store
