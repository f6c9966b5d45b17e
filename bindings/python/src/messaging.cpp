// The message bus from Python: work queues with durable consumers, fan-out subscribers,
// and the exactly-once helper.
//
// Handlers are Python callables run on the bus's own threads: each call takes the GIL for
// as long as the callable runs, and nothing that waits for a handler (stopping the bus,
// closing the database) holds the GIL meanwhile, so a handler never deadlocks against a
// Python thread blocked in the engine. A handler that raises fails its attempt: the
// message is retried with backoff, and dead-lettered after its last attempt (at once for
// banyan.PermanentError and for ValidationError, NotFound, PermissionDenied).
#include <pybind11/stl.h>

#include "binding.hpp"

namespace banyan::python {

namespace {

// A Python callable kept by C++ threads: copied and dropped without the GIL, so the
// reference it holds is released only with the GIL taken.
class Callback {
 public:
  explicit Callback(py::object fn)
      : fn_(new py::object(std::move(fn)), [](py::object* p) {
          py::gil_scoped_acquire gil;
          delete p;
        }) {}

  // Calls it with the GIL on the arguments `make_args` builds (with the GIL too); a Python
  // exception becomes the bus's error for the message.
  template <typename MakeArgs>
  void operator()(MakeArgs&& make_args) const {
    std::string failure;
    bool permanent = false;
    {
      py::gil_scoped_acquire gil;
      try {
        const py::tuple args = make_args();
        (*fn_)(*args);
        return;
      } catch (py::error_already_set& e) {
        failure = e.what();
        permanent = is_permanent(e);
      }
    }
    if (permanent) throw messaging::PermanentError(failure);
    throw messaging::TransientError(failure);
  }

 private:
  static bool is_permanent(const py::error_already_set& e) {
    const auto& errors = python_types().errors;
    if (!errors) return false;
    const auto& value = e.value();
    if (errors.contains("permanent") && py::isinstance(value, errors["permanent"])) return true;
    for (const char* code : {"validation", "not_found", "permission_denied"})
      if (errors.contains(code) && py::isinstance(value, errors[code])) return true;
    return false;
  }

  std::shared_ptr<py::object> fn_;
};

std::chrono::milliseconds millis(double seconds, const char* field) {
  if (!(seconds >= 0)) throw ValidationError(std::string(field) + ": at least 0", field);
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace

py::dict event_to_python(const store::DomainEvent& e) {
  py::dict d;
  d["sequence"] = e.sequence;
  d["id"] = e.id;
  d["type"] = e.type;
  const auto type = to_string(e.aggregate_type);
  d["subject"] = py::make_tuple(py::str(type.data(), type.size()), e.aggregate_id);
  d["version"] = e.aggregate_version;
  d["occurred_at"] = to_python(e.occurred_at);
  d["actor"] = e.actor ? py::object(py::int_(*e.actor)) : py::object(py::none());
  d["payload"] = e.payload;
  return d;
}

BusHandle::~BusHandle() {
  try {
    std::optional<py::gil_scoped_release> unlocked;
    if (PyGILState_Check() != 0) unlocked.emplace();
    shutdown();
  } catch (...) {  // a destructor reports nothing; the bus's own log has said what failed
  }
}

void BusHandle::stop() {
  std::lock_guard lock(mutex);
  if (bus) bus->stop();
}

void BusHandle::shutdown() {
  std::lock_guard lock(mutex);
  if (bus) bus->stop();
  bus.reset();
}

namespace {

using Bus = std::shared_ptr<BusHandle>;

Bus make_bus(const std::shared_ptr<DatabaseHandle>& database, const std::string& node, bool relay) {
  auto handle = std::make_shared<BusHandle>();
  handle->database = database;
  messaging::BusOptions options;
  options.node = node;
  options.relay = relay;
  py::gil_scoped_release unlocked;
  std::shared_lock lock(database->mutex);
  if (database->closed) throw Closed("the database is closed");
  handle->bus = std::make_unique<messaging::MessageBus>(*database->db, std::move(options));
  std::lock_guard guard(database->open_mutex);
  if (database->closing) {  // close() has taken the list of buses to shut down
    handle->bus.reset();
    throw Closed("the database is closing");
  }
  database->buses.push_back(handle);
  return handle;
}

template <typename Work>
void on_bus(BusHandle& handle, Work&& work) {
  py::gil_scoped_release unlocked;
  std::shared_lock lock(handle.database->mutex);
  if (handle.database->closed) throw Closed("the database is closed");
  std::lock_guard bus_lock(handle.mutex);
  if (!handle.bus) throw Closed("the bus is shut down");
  work(*handle.bus);
}

}  // namespace

void bind_messaging(py::module_& m) {
  py::class_<BusHandle, Bus>(m, "_Bus")
      .def(py::init(&make_bus), py::arg("database"), py::arg("node"), py::arg("relay"))
      .def("declare_queue",
           [](BusHandle& h, const std::string& name, std::vector<std::string> types,
              int max_attempts, int immediate_retries, double initial_delay, double max_delay,
              double lease) {
             messaging::QueueSpec spec;
             spec.name = name;
             spec.event_types = std::move(types);
             spec.retry.max_attempts = max_attempts;
             spec.retry.immediate_retries = immediate_retries;
             spec.retry.initial_delay = millis(initial_delay, "initial_delay");
             spec.retry.max_delay = millis(max_delay, "max_delay");
             spec.lease = millis(lease, "lease");
             on_bus(h, [&](messaging::MessageBus& bus) { bus.declare_queue(spec); });
           })
      .def("consume",
           [](BusHandle& h, const std::string& queue, py::object handler, const std::string& name,
              int prefetch) {
             Callback call(std::move(handler));
             messaging::ConsumerOptions options;
             options.name = name;
             options.prefetch = prefetch;
             on_bus(h, [&](messaging::MessageBus& bus) {
               bus.consume(
                   queue,
                   [call](const messaging::Message& message) {
                     call([&] {
                       return py::make_tuple(event_to_python(message.event), message.queue,
                                             message.attempt);
                     });
                   },
                   options);
             });
           })
      .def("subscribe",
           [](BusHandle& h, const std::string& pattern, py::object handler) {
             Callback call(std::move(handler));
             on_bus(h, [&](messaging::MessageBus& bus) {
               bus.subscribe(pattern, [call](const store::DomainEvent& event) {
                 call([&] { return py::make_tuple(event_to_python(event)); });
               });
             });
           })
      .def("start",
           [](BusHandle& h) { on_bus(h, [](messaging::MessageBus& bus) { bus.start(); }); })
      .def("stop",
           [](BusHandle& h) {
             py::gil_scoped_release unlocked;
             h.stop();
           })
      .def("metrics", [](BusHandle& h) {
        messaging::BusMetrics metrics;
        on_bus(h, [&](messaging::MessageBus& bus) { metrics = bus.metrics(); });
        py::dict d;
        d["relay_holder"] = metrics.relay_holder;
        d["relayed"] = metrics.relayed;
        d["delivered"] = metrics.delivered;
        d["acked"] = metrics.acked;
        d["retried"] = metrics.retried;
        d["dead_lettered"] = metrics.dead_lettered;
        d["handled"] = metrics.handled;
        d["outbox_pending"] = metrics.outbox_pending;
        return d;
      });

  m.def("record_processed", [](const std::shared_ptr<TransactionState>& tx,
                               const std::string& consumer, const std::string& message_id) {
    return in_transaction(*tx, [&](store::UnitOfWork& uow, Engine&, const security::Principal&) {
      return messaging::record_processed(uow, consumer, message_id);
    });
  });
}

}  // namespace banyan::python
