// _banyan: the extension module under the `banyan` package. The package (banyan/__init__.py)
// is the API; this module is its engine room and is not meant to be used directly.
#include <banyan/version.hpp>

#include "binding.hpp"

namespace banyan::python {

namespace {

void raise(const std::string& code, const char* message, const std::string& field) {
  const auto& errors = python_types().errors;
  if (!errors || !errors.contains(code)) {
    PyErr_SetString(PyExc_RuntimeError, message);
    return;
  }
  const py::object type = errors[py::str(code)];
  const py::object error = type(message, field.empty() ? py::object(py::none()) : py::str(field));
  PyErr_SetObject(type.ptr(), error.ptr());
}

}  // namespace

void raise_error(const Error& error) {
  raise(to_string(error.code()), error.what(), error.field());
}
void raise_closed(const Closed& error) { raise("closed", error.what(), ""); }

}  // namespace banyan::python

PYBIND11_MODULE(_banyan, m) {
  using namespace banyan::python;
  m.doc() = "Banyan's engine room; use the banyan package.";
  m.attr("__version__") = BANYAN_VERSION_STRING;
  m.def(
      "_register",
      [](py::object money, py::object contact_point, py::object address, py::dict errors) {
        auto& types = python_types();
        types.money = std::move(money);
        types.contact_point = std::move(contact_point);
        types.address = std::move(address);
        types.errors = std::move(errors);
      },
      py::arg("money"), py::arg("contact_point"), py::arg("address"), py::arg("errors"));
  // pybind11's translator type takes the pointer by value.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const Closed& e) {
      raise_closed(e);
    } catch (const banyan::Error& e) {
      raise_error(e);
    }
  });
  bind_session(m);
  bind_operations(m);
  bind_messaging(m);
  bind_admin(m);
}
