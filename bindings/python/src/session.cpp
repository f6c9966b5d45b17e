// Databases, principals and transactions as the module hands them to Python.
//
// A Database object owns the store and its Engine; a Transaction shares ownership of that
// handle, so a transaction kept past its database's last Python reference still works,
// and one used after close() raises banyan.Closed rather than touching a closed store.
// Every call that waits (opening, beginning, committing, closing) releases the GIL.
#include <pybind11/stl.h>

#include "binding.hpp"

namespace banyan::python {

DatabaseHandle::~DatabaseHandle() {
  // Closing waits for calls in flight and bus handlers, which may want the GIL.
  try {
    std::optional<py::gil_scoped_release> unlocked;
    if (PyGILState_Check() != 0) unlocked.emplace();
    close();
  } catch (...) {  // a destructor reports nothing; closing rolls back what it can
  }
}

void DatabaseHandle::close() {
  // Buses first, without the lock: their handlers may be in the engine, holding it shared.
  std::vector<std::weak_ptr<BusHandle>> running;
  {
    std::lock_guard guard(open_mutex);
    closing = true;
    running.swap(buses);
  }
  for (const auto& weak : running)
    if (const auto bus = weak.lock()) bus->shutdown();
  std::unique_lock lock(mutex);  // waits for calls in flight
  if (closed) return;
  closed = true;
  std::set<TransactionState*> ending;
  {
    std::lock_guard guard(open_mutex);
    ending.swap(open);
  }
  for (auto* tx : ending) {
    std::lock_guard tx_lock(tx->mutex);
    tx->uow.reset();  // rolls back on its pooled connection, before the pool goes
  }
  if (engine) engine->record_denied_reads();
  engine.reset();
  db.reset();
}

TransactionState::~TransactionState() {
  // A rollback may wait: without the GIL, when the last reference went with it held.
  try {
    std::optional<py::gil_scoped_release> unlocked;
    if (PyGILState_Check() != 0) unlocked.emplace();
    std::shared_lock lock(database->mutex);
    if (!database->closed) end();
  } catch (...) {  // destroying the unit of work rolls it back regardless
  }
}

void TransactionState::end() noexcept {
  {
    std::lock_guard guard(database->open_mutex);
    database->open.erase(this);
  }
  std::lock_guard tx_lock(mutex);
  if (!uow) return;
  uow.reset();
  // Reads refused for scope during the unit of work are written to the audit trail now
  // that it is over (Engine::record_denied_reads).
  try {
    database->engine->record_denied_reads();
  } catch (...) {  // noted, not lost: written after the next unit of work
  }
}

namespace {

using Handle = std::shared_ptr<DatabaseHandle>;
using Transaction = std::shared_ptr<TransactionState>;

std::optional<store::EncryptionKeys> keys_of(const std::optional<std::string>& text,
                                             const std::optional<std::string>& file) {
  if (file) return store::EncryptionKeys::load_file(*file);
  if (text) return store::EncryptionKeys::parse(*text);
  return std::nullopt;
}

Handle open_database(const std::string& url, const std::optional<std::string>& keys,
                     const std::optional<std::string>& keys_file,
                     const std::optional<std::string>& audit_key,
                     const std::optional<std::string>& audit_key_file, std::size_t pool_size,
                     double pool_timeout, bool migrate) {
  store::DatabaseOptions options;
  options.encryption = keys_of(keys, keys_file);
  if (auto audit = keys_of(audit_key, audit_key_file))
    options.audit_key = store::EncryptionKeys::single_audit_key(*audit);
  // After a role change the engine reads its access policy on a connection of its own,
  // waiting for it, while a caller's transaction may hold one: a pool of one would starve
  // it. (A policy that is merely old keeps serving while no connection is free.)
  if (pool_size < 2)
    throw ValidationError(
        "pool_size: at least 2 (after a role change the engine reads its access policy on "
        "a connection of its own)",
        "pool_size");
  if (!(pool_timeout >= 0)) throw ValidationError("pool_timeout: at least 0", "pool_timeout");
  options.pool.max_size = pool_size;
  options.pool.acquire_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(pool_timeout * 1000));
  options.migrate = migrate;
  auto handle = std::make_shared<DatabaseHandle>();
  {
    py::gil_scoped_release unlocked;
    handle->db = store::Database::open(url, std::move(options));
    handle->engine = std::make_unique<Engine>(*handle->db);
  }
  return handle;
}

Transaction begin(const Handle& database, const security::Principal& who, bool read_only,
                  bool guarded) {
  auto tx = std::make_shared<TransactionState>();
  tx->database = database;
  tx->who = who;
  tx->read_only = read_only;
  tx->guarded = guarded;
  py::gil_scoped_release unlocked;
  std::shared_lock lock(database->mutex);
  if (database->closed) throw Closed("the database is closed");
  tx->uow.emplace(database->db->begin(
      who.user_id, read_only ? store::Access::kReadOnly : store::Access::kReadWrite));
  tx->uow->describe_actor(who.name, "python");
  std::lock_guard guard(database->open_mutex);
  database->open.insert(tx.get());
  return tx;
}

security::Principal make_principal(const std::string& kind, std::optional<Id> user_id,
                                   std::string name, std::vector<std::string> roles,
                                   std::vector<Id> team_ids) {
  security::Principal p;
  if (kind == "user") {
    p.kind = security::Principal::Kind::kUser;
  } else if (kind == "service_account") {
    p.kind = security::Principal::Kind::kServiceAccount;
  } else if (kind == "system") {
    p = security::Principal::system();
  } else {
    throw ValidationError("kind: user, service_account or system", "kind");
  }
  if (kind != "system") {
    p.user_id = user_id;
    p.name = std::move(name);
    p.roles = std::move(roles);
    p.team_ids = std::move(team_ids);
  }
  return p;
}

std::string kind_name(const security::Principal& p) {
  switch (p.kind) {
    case security::Principal::Kind::kUser:
      return "user";
    case security::Principal::Kind::kServiceAccount:
      return "service_account";
    case security::Principal::Kind::kSystem:
      return "system";
  }
  return "user";
}

}  // namespace

void bind_session(py::module_& m) {
  py::class_<security::Principal>(m, "Principal", R"(Who acts: every call runs as one.

A principal carries its roles and teams as they were when it was made; a user's principal
is usually read from the database (Engine.principal_of) rather than built by hand.)")
      .def(py::init(&make_principal), py::kw_only(), py::arg("kind") = "user",
           py::arg("user_id") = py::none(), py::arg("name") = "",
           py::arg("roles") = std::vector<std::string>{}, py::arg("team_ids") = std::vector<Id>{})
      .def_static("system", &security::Principal::system,
                  "The engine acting for itself: every right; 'system' in the audit trail.")
      .def_property_readonly("kind", &kind_name, "'user', 'service_account' or 'system'.")
      .def_readonly("user_id", &security::Principal::user_id, "The user it acts as, if any.")
      .def_readonly("name", &security::Principal::name, "Its name in logs and the audit trail.")
      .def_readonly("roles", &security::Principal::roles, "Its role names.")
      .def_readonly("team_ids", &security::Principal::team_ids,
                    "The teams whose records team-scoped grants reach.")
      .def("__repr__", [](const security::Principal& p) {
        return "Principal(kind='" + kind_name(p) + "', name='" + p.name + "')";
      });

  py::class_<DatabaseHandle, Handle>(m, "_Database")
      .def_static("open", &open_database, py::arg("url"), py::arg("keys"), py::arg("keys_file"),
                  py::arg("audit_key"), py::arg("audit_key_file"), py::arg("pool_size"),
                  py::arg("pool_timeout"), py::arg("migrate"))
      .def("close",
           [](DatabaseHandle& h) {
             py::gil_scoped_release unlocked;
             h.close();
           })
      .def_property_readonly("closed",
                             [](DatabaseHandle& h) {
                               std::shared_lock lock(h.mutex);
                               return h.closed;
                             })
      .def("begin", &begin, py::arg("principal"), py::arg("read_only"), py::arg("guarded"))
      .def("backend",
           [](DatabaseHandle& h) {
             return on_database(
                 h, [](store::Database& db, Engine&) { return std::string(db.backend()); });
           })
      .def("location",
           [](DatabaseHandle& h) {
             return on_database(h, [](store::Database& db, Engine&) { return db.location(); });
           })
      .def("schema_version",
           [](DatabaseHandle& h) {
             return on_database(h,
                                [](store::Database& db, Engine&) { return db.schema_version(); });
           })
      .def("probe",
           [](DatabaseHandle& h) {
             on_database(h, [](store::Database& db, Engine&) { db.probe(); });
           })
      .def("pool", [](DatabaseHandle& h) {
        const auto metrics =
            on_database(h, [](store::Database& db, Engine&) { return db.pool_metrics(); });
        py::dict out;
        out["in_use"] = metrics.in_use;
        out["idle"] = metrics.idle;
        out["waiting"] = metrics.waiters;
        out["acquired"] = metrics.acquired;
        out["timeouts"] = metrics.timeouts;
        return out;
      });

  py::class_<TransactionState, Transaction>(m, "_Transaction")
      .def("commit",
           [](TransactionState& tx) {
             in_transaction(tx, [](store::UnitOfWork& uow, Engine&, const security::Principal&) {
               uow.commit();
             });
             py::gil_scoped_release unlocked;
             std::shared_lock lock(tx.database->mutex);
             if (!tx.database->closed) tx.end();
           })
      .def("rollback",
           [](TransactionState& tx) {
             py::gil_scoped_release unlocked;
             std::shared_lock lock(tx.database->mutex);
             if (!tx.database->closed) tx.end();
           })
      .def_property_readonly("active",
                             [](TransactionState& tx) {
                               std::shared_lock lock(tx.database->mutex);
                               std::lock_guard guard(tx.mutex);
                               return !tx.database->closed && tx.uow && tx.uow->active();
                             })
      .def_property_readonly("principal", [](TransactionState& tx) { return tx.who; })
      .def_readonly("read_only", &TransactionState::read_only);
}

}  // namespace banyan::python
