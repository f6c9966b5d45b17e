// What the module's sources share: the Python classes the package hands over at import,
// value conversions between Python and the library, the record types by name, and the
// database and transaction handles every call goes through.
#pragma once

#include <pybind11/pybind11.h>

#include <banyan/banyan.hpp>
#include <banyan/model/fields.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace banyan::python {

namespace py = pybind11;

// The package's own classes (banyan/__init__.py), given to the module once at import
// (_banyan._register), so C++ hands back the same Money, ContactPoint and Address objects
// Python code makes, and raises the package's exception classes.
struct PythonTypes {
  py::object money;
  py::object contact_point;
  py::object address;
  py::object errors;  // dict: code name ("not_found", ..., "closed") -> exception class
};
PythonTypes& python_types();

// A database or transaction used after it ended: banyan.Closed in Python.
class Closed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raises the package's exception for `error` (banyan.NotFound, ..., with .field set).
void raise_error(const Error& error);
void raise_closed(const Closed& error);

// ---- values (values.cpp) ---------------------------------------------------------------
// Python to C++: each throws ValidationError naming `field` for a value of the wrong kind.
std::string text_of(py::handle value, const std::string& field);
std::int64_t integer_of(py::handle value, const std::string& field);
Id id_of(py::handle value, const std::string& field);  // an int, or a record (its .id)
bool flag_of(py::handle value, const std::string& field);
Timestamp timestamp_of(py::handle value, const std::string& field);  // aware datetime, RFC 3339
Date date_of(py::handle value, const std::string& field);            // date, "YYYY-MM-DD"
Money money_of(py::handle value, const std::string& field);
ContactPoints points_of(py::handle value, const std::string& field);
Addresses addresses_of(py::handle value, const std::string& field);
CustomValue custom_value_of(py::handle value, const std::string& field);
store::Value filter_value_of(py::handle value, const std::string& field);

// C++ to Python.
py::object to_python(const Timestamp& t);  // an aware datetime in UTC
py::object to_python(const Date& d);
py::object to_python(const Money& m);
py::object to_python(const ContactPoints& points);
py::object to_python(const Addresses& addresses);
py::object to_python(const CustomValue& value);
py::dict to_python(const CustomFields& custom);

// ---- record types (records.cpp) --------------------------------------------------------
// Calls f(std::type_identity<T>{}) for the record type named `type` ("contact", ...).
template <typename F>
py::object with_record_type(ObjectType type, F&& f) {
  switch (type) {
    case ObjectType::kUser:
      return f(std::type_identity<User>{});
    case ObjectType::kTeam:
      return f(std::type_identity<Team>{});
    case ObjectType::kTag:
      return f(std::type_identity<Tag>{});
    case ObjectType::kCompany:
      return f(std::type_identity<Company>{});
    case ObjectType::kContact:
      return f(std::type_identity<Contact>{});
    case ObjectType::kLead:
      return f(std::type_identity<Lead>{});
    case ObjectType::kPipeline:
      return f(std::type_identity<Pipeline>{});
    case ObjectType::kStage:
      return f(std::type_identity<Stage>{});
    case ObjectType::kDeal:
      return f(std::type_identity<Deal>{});
    case ObjectType::kActivity:
      return f(std::type_identity<Activity>{});
  }
  throw ValidationError("unknown record type", "type");
}

// The record service of T for `who` (engine.contacts(who), ...).
template <typename T>
RecordService<T> service_of(Engine& engine, const security::Principal& who) {
  if constexpr (std::is_same_v<T, User>) return engine.users(who);
  if constexpr (std::is_same_v<T, Team>) return engine.teams(who);
  if constexpr (std::is_same_v<T, Tag>) return engine.tags(who);
  if constexpr (std::is_same_v<T, Company>) return engine.companies(who);
  if constexpr (std::is_same_v<T, Contact>) return engine.contacts(who);
  if constexpr (std::is_same_v<T, Lead>) return engine.leads(who);
  if constexpr (std::is_same_v<T, Pipeline>) return engine.pipelines(who);
  if constexpr (std::is_same_v<T, Stage>) return engine.stages(who);
  if constexpr (std::is_same_v<T, Deal>) return engine.deals(who);
  if constexpr (std::is_same_v<T, Activity>) return engine.activities(who);
}

// A record as a dict of its standard fields by public name, and "custom".
template <typename T>
py::dict record_to_python(const T& record);
// What a write names: `values` maps field names to Python values ("custom" to a dict).
// A create takes every field a caller may write, and created_at and created_by (which
// make it a Creation::kSupplied create); anything else is ValidationError naming it.
template <typename T>
std::pair<T, Creation> record_of(const py::dict& values);
// A patch of the named fields; "custom" entries set or (None) clear one custom value each.
template <typename T>
Patch<T> patch_of(const py::dict& values);
// The record types' fields for the package's classes: [(type, [(name, kind, flags)])].
py::list describe_record_types();
// Builds a filter from the package's expression tree (banyan/_query.py).
store::Filter filter_of(py::handle tree);

// ---- handles (session.cpp, messaging.cpp) ----------------------------------------------
// A message bus on a database. Its handlers run Python code: stop() and shutdown() wait
// for them, so they are called without the GIL.
struct BusHandle {
  std::shared_ptr<struct DatabaseHandle> database;
  std::mutex mutex;
  std::unique_ptr<messaging::MessageBus> bus;  // under mutex; reset by shutdown()

  ~BusHandle();
  void stop();      // stops taking messages; the bus cannot start again
  void shutdown();  // stops and destroys the bus (before its database closes)
};

// A database as the module holds it: the Database and its Engine, shared by every
// transaction made from it, so closing waits for calls in flight and ends open
// transactions before the database goes away.
struct DatabaseHandle {
  std::shared_mutex mutex;  // shared by every call; close() takes it alone
  std::unique_ptr<store::Database> db;
  std::unique_ptr<Engine> engine;
  std::mutex open_mutex;
  std::set<struct TransactionState*> open;      // under open_mutex
  std::vector<std::weak_ptr<BusHandle>> buses;  // under open_mutex
  bool closing = false;                         // under open_mutex: no bus may be added
  bool closed = false;                          // under mutex

  ~DatabaseHandle();
  // Rolls back open transactions and closes the database. Idempotent.
  void close();
};

// One transaction: a unit of work run as one principal.
struct TransactionState {
  std::shared_ptr<DatabaseHandle> database;
  security::Principal who;
  std::mutex mutex;  // one call at a time; taken after database->mutex
  std::optional<store::UnitOfWork> uow;
  bool read_only = false;
  bool guarded = false;  // a transaction the caller runs: several_steps under savepoints

  ~TransactionState();
  // Ends the unit of work (rolling back unless committed). Needs database->mutex held.
  void end() noexcept;
};

// Runs `work(uow, engine, who)` on an open transaction with the GIL released: the call
// waits for the database (and its lock) without holding up other Python threads. A use case
// of several writing steps (`several_steps`) in a transaction the caller runs
// (`TransactionState::guarded`) runs under a savepoint: when it fails, what it did is undone
// and the transaction goes on as before it, as a failed call in a `with` block must leave it.
template <typename Work>
auto in_transaction(TransactionState& tx, Work&& work, bool several_steps = false) {
  py::gil_scoped_release unlocked;
  std::shared_lock database_lock(tx.database->mutex);
  if (tx.database->closed) throw Closed("the database is closed");
  std::lock_guard lock(tx.mutex);
  if (!tx.uow || !tx.uow->active()) throw Closed("the transaction has ended");
  auto& uow = *tx.uow;
  auto& engine = *tx.database->engine;
  using Result = decltype(work(uow, engine, tx.who));
  if (!several_steps || !tx.guarded) return work(uow, engine, tx.who);
  if constexpr (std::is_void_v<Result>) {
    uow.attempt([&] { work(uow, engine, tx.who); });
  } else {
    std::optional<Result> result;
    uow.attempt([&] { result.emplace(work(uow, engine, tx.who)); });
    return std::move(*result);
  }
}

// Runs `work(db, engine)` on an open database with the GIL released (for what runs
// transactions of its own rather than in one the caller holds).
template <typename Work>
auto on_database(DatabaseHandle& handle, Work&& work) {
  py::gil_scoped_release unlocked;
  std::shared_lock lock(handle.mutex);
  if (handle.closed) throw Closed("the database is closed");
  return work(*handle.db, *handle.engine);
}

// A domain event as the dict banyan._event reads (messaging.cpp).
py::dict event_to_python(const store::DomainEvent& e);

void bind_session(py::module_& m);
void bind_operations(py::module_& m);
void bind_messaging(py::module_& m);
void bind_admin(py::module_& m);

}  // namespace banyan::python
