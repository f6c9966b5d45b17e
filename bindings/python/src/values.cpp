// Values between Python and the library: texts, integers, times and dates, money, contact
// points, custom values and filter values. A value of the wrong kind is a ValidationError
// naming the field, as it is over HTTP.
#include "binding.hpp"  // Python.h before datetime.h

#include <datetime.h>

#include <chrono>

namespace banyan::python {

PythonTypes& python_types() {
  // Never destroyed: the objects die with the interpreter, not at static destruction.
  static auto* types = new PythonTypes;
  return *types;
}

namespace {

[[noreturn]] void wrong(const std::string& field, const std::string& expected) {
  throw ValidationError(field + ": expected " + expected, field);
}

void datetime_api() {
  if (PyDateTimeAPI == nullptr) PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
}

// The calendar day of a date or datetime, and the time of day of a datetime. (CPython's
// accessor macros cast the C way.)
std::chrono::sys_days day_of(PyObject* p) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  const int y = PyDateTime_GET_YEAR(p), m = PyDateTime_GET_MONTH(p), d = PyDateTime_GET_DAY(p);
#pragma GCC diagnostic pop
  return std::chrono::sys_days(std::chrono::year_month_day(
      std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
      std::chrono::day(static_cast<unsigned>(d))));
}

std::chrono::microseconds time_of_day(PyObject* p) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
  const int h = PyDateTime_DATE_GET_HOUR(p), m = PyDateTime_DATE_GET_MINUTE(p),
            s = PyDateTime_DATE_GET_SECOND(p), us = PyDateTime_DATE_GET_MICROSECOND(p);
#pragma GCC diagnostic pop
  return std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s) +
         std::chrono::microseconds(us);
}

bool is_instance(py::handle value, const py::object& type) {
  return type && py::isinstance(value, type);
}

// The Python object's attribute `name` as a C++ value, through `convert`.
template <typename Convert>
auto member(py::handle object, const char* name, const std::string& field, Convert convert) {
  return convert(object.attr(name), field + "." + name);
}

std::optional<std::string> optional_text(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return text_of(value, field);
}

}  // namespace

std::string text_of(py::handle value, const std::string& field) {
  if (!py::isinstance<py::str>(value)) wrong(field, "a str");
  return value.cast<std::string>();
}

std::int64_t integer_of(py::handle value, const std::string& field) {
  if (!py::isinstance<py::int_>(value) || py::isinstance<py::bool_>(value)) wrong(field, "an int");
  int overflow = 0;
  const long long n = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0) throw ValidationError(field + ": out of range", field);
  return n;
}

Id id_of(py::handle value, const std::string& field) {
  // A record stands for its id: deal.company_id = acme.
  if (!py::isinstance<py::int_>(value) && py::hasattr(value, "id") && !value.attr("id").is_none())
    return id_of(value.attr("id"), field);
  const std::int64_t n = integer_of(value, field);
  if (n < 1) throw ValidationError(field + ": an id is a positive integer", field);
  return static_cast<Id>(n);
}

bool flag_of(py::handle value, const std::string& field) {
  if (!py::isinstance<py::bool_>(value)) wrong(field, "a bool");
  return value.cast<bool>();
}

Timestamp timestamp_of(py::handle value, const std::string& field) {
  datetime_api();
  if (py::isinstance<py::str>(value)) {
    if (auto t = parse_timestamp(value.cast<std::string>())) return *t;
    throw ValidationError(field + ": not an RFC 3339 date and time", field);
  }
  if (!PyDateTime_Check(value.ptr())) wrong(field, "a datetime");
  if (value.attr("tzinfo").is_none())
    throw ValidationError(field + ": a naive datetime; give it a time zone (timezone.utc)", field);
  const py::object u = value.attr("astimezone")(py::handle(PyDateTime_TimeZone_UTC));
  return Timestamp(day_of(u.ptr()).time_since_epoch()) + time_of_day(u.ptr());
}

Date date_of(py::handle value, const std::string& field) {
  datetime_api();
  if (py::isinstance<py::str>(value)) {
    if (auto d = parse_date(value.cast<std::string>())) return *d;
    throw ValidationError(field + ": not a YYYY-MM-DD date", field);
  }
  if (!PyDate_Check(value.ptr()) || PyDateTime_Check(value.ptr())) wrong(field, "a date");
  return day_of(value.ptr());
}

Money money_of(py::handle value, const std::string& field) {
  if (!is_instance(value, python_types().money)) wrong(field, "a banyan.Money");
  return Money{member(value, "minor_units", field, integer_of),
               member(value, "currency", field, text_of)};
}

ContactPoints points_of(py::handle value, const std::string& field) {
  if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value))
    wrong(field, "a list of banyan.ContactPoint");
  ContactPoints points;
  std::size_t i = 0;
  for (py::handle item : value) {
    const std::string at = field + "[" + std::to_string(i++) + "]";
    if (py::isinstance<py::str>(item)) {  // a bare address or number
      points.push_back({text_of(item, at + ".value"), "", false});
      continue;
    }
    if (!is_instance(item, python_types().contact_point))
      wrong(at, "a banyan.ContactPoint or a str");
    points.push_back({member(item, "value", at, text_of),
                      member(item, "label", at, optional_text).value_or(""),
                      member(item, "primary", at, flag_of)});
  }
  return points;
}

Addresses addresses_of(py::handle value, const std::string& field) {
  if (!py::isinstance<py::list>(value) && !py::isinstance<py::tuple>(value))
    wrong(field, "a list of banyan.Address");
  Addresses addresses;
  std::size_t i = 0;
  for (py::handle item : value) {
    const std::string at = field + "[" + std::to_string(i++) + "]";
    if (!is_instance(item, python_types().address)) wrong(at, "a banyan.Address");
    Address a;
    const std::string kind = member(item, "kind", at, text_of);
    try {
      a.kind = parse_address_kind(kind);
    } catch (const ValidationError&) {
      throw ValidationError(at + ".kind: not billing, shipping, mailing or other", at + ".kind");
    }
    a.label = member(item, "label", at, optional_text).value_or("");
    a.primary = member(item, "primary", at, flag_of);
    a.street = member(item, "street", at, optional_text);
    a.city = member(item, "city", at, optional_text);
    a.region = member(item, "region", at, optional_text);
    a.postal_code = member(item, "postal_code", at, optional_text);
    a.country = member(item, "country", at, optional_text);
    addresses.push_back(std::move(a));
  }
  return addresses;
}

namespace {

// The values custom fields and filters both take, as V (either's variant): None, bool, int,
// float, str, datetime, date. nullopt for anything else.
template <typename V>
std::optional<V> scalar_of(py::handle value, const std::string& field) {
  datetime_api();
  if (value.is_none()) return V(std::monostate{});
  if (py::isinstance<py::bool_>(value)) return V(value.cast<bool>());
  if (py::isinstance<py::int_>(value)) return V(integer_of(value, field));
  if (py::isinstance<py::float_>(value)) return V(value.cast<double>());
  if (py::isinstance<py::str>(value)) return V(value.cast<std::string>());
  if (PyDateTime_Check(value.ptr())) return V(timestamp_of(value, field));
  if (PyDate_Check(value.ptr())) return V(date_of(value, field));
  return std::nullopt;
}

}  // namespace

CustomValue custom_value_of(py::handle value, const std::string& field) {
  if (auto scalar = scalar_of<CustomValue>(value, field)) return std::move(*scalar);
  if (is_instance(value, python_types().money)) return money_of(value, field);
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::vector<std::string> items;
    for (py::handle item : value) items.push_back(text_of(item, field));
    return items;
  }
  wrong(field, "None, bool, int, float, str, date, datetime, a list of str or banyan.Money");
}

store::Value filter_value_of(py::handle value, const std::string& field) {
  if (auto scalar = scalar_of<store::Value>(value, field)) return std::move(*scalar);
  if (is_instance(value, python_types().money))  // money compares by its minor units
    return money_of(value, field).minor_units;
  wrong(field, "None, bool, int, float, str, date, datetime or banyan.Money");
}

py::object to_python(const Timestamp& t) {
  datetime_api();
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss time(t - day);
  PyObject* p = PyDateTimeAPI->DateTime_FromDateAndTime(
      static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
      static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(time.hours().count()),
      static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
      static_cast<int>(time.subseconds().count()), PyDateTime_TimeZone_UTC,
      PyDateTimeAPI->DateTimeType);
  if (p == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(p);
}

py::object to_python(const Date& d) {
  datetime_api();
  const std::chrono::year_month_day ymd(d);
  PyObject* p = PyDate_FromDate(static_cast<int>(ymd.year()),
                                static_cast<int>(static_cast<unsigned>(ymd.month())),
                                static_cast<int>(static_cast<unsigned>(ymd.day())));
  if (p == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(p);
}

py::object to_python(const Money& m) { return python_types().money(m.minor_units, m.currency); }

py::object to_python(const ContactPoints& points) {
  py::list out;
  for (const auto& p : points)
    out.append(python_types().contact_point(
        p.value, p.label.empty() ? py::object(py::none()) : py::object(py::str(p.label)),
        p.primary));
  return out;
}

py::object to_python(const Addresses& addresses) {
  const auto optional = [](const std::optional<std::string>& s) {
    return s ? py::object(py::str(*s)) : py::object(py::none());
  };
  py::list out;
  for (const auto& a : addresses) {
    py::dict parts;
    parts["kind"] = std::string(to_string(a.kind));
    parts["label"] = a.label.empty() ? py::object(py::none()) : py::object(py::str(a.label));
    parts["primary"] = a.primary;
    parts["street"] = optional(a.street);
    parts["city"] = optional(a.city);
    parts["region"] = optional(a.region);
    parts["postal_code"] = optional(a.postal_code);
    parts["country"] = optional(a.country);
    out.append(python_types().address(**parts));
  }
  return out;
}

py::object to_python(const CustomValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          return py::none();
        } else if constexpr (std::is_same_v<V, Timestamp> || std::is_same_v<V, Date> ||
                             std::is_same_v<V, Money>) {
          return to_python(v);
        } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
          py::list items;
          for (const auto& s : v) items.append(s);
          return items;
        } else {
          return py::cast(v);
        }
      },
      value);
}

py::dict to_python(const CustomFields& custom) {
  py::dict out;
  for (const auto& [name, value] : custom) out[py::str(name)] = to_python(value);
  return out;
}

}  // namespace banyan::python
