// Administration from Python: dead letters (list, inspect, replay, purge, per-queue
// depth) and sagas (counts per status, one instance with its history), through
// Engine::admin(principal), which refuses a principal that does not administer the
// installation. Each call runs transactions of its own, as the C++ stores do.
#include <pybind11/stl.h>
#include <chrono>
#include <cstdint>
#include <optional>

#include <string>

#include "binding.hpp"

namespace banyan::python {
namespace {

using messaging::DeadLetter;
using messaging::DeadLetterFilter;

py::object optional_time(const std::optional<Timestamp>& t) {
  return t ? to_python(*t) : py::object(py::none());
}

py::dict dead_letter_to_python(const DeadLetter& d) {
  py::dict out;
  out["id"] = d.id;
  out["queue"] = d.queue;
  out["event"] = event_to_python(d.event);
  out["attempts"] = d.attempts;
  out["first_failed_at"] = to_python(d.first_failed_at);
  out["last_failed_at"] = to_python(d.last_failed_at);
  out["last_error"] = d.last_error;
  out["error_class"] = std::string(messaging::to_string(d.error_class));
  out["consumer"] = d.consumer;
  out["dead_at"] = to_python(d.dead_at);
  out["replayed_at"] = optional_time(d.replayed_at);
  out["replays"] = d.replays;
  return out;
}

py::list dead_letters_to_python(const std::vector<DeadLetter>& letters) {
  py::list out;
  for (const auto& d : letters) out.append(dead_letter_to_python(d));
  return out;
}

std::optional<std::chrono::microseconds> age_of(py::handle seconds, const char* field) {
  if (seconds.is_none()) return std::nullopt;
  if (!py::isinstance<py::int_>(seconds) && !py::isinstance<py::float_>(seconds))
    throw ValidationError(std::string(field) + ": a number of seconds", field);
  const double value = seconds.cast<double>();
  if (!(value >= 0)) throw ValidationError(std::string(field) + ": at least 0 seconds", field);
  return std::chrono::microseconds(static_cast<std::int64_t>(value * 1e6));
}

std::optional<std::string> text_or_none(py::handle value, const char* field) {
  if (value.is_none()) return std::nullopt;
  return text_of(value, field);
}

// queue, event_type, error_contains, older_than and newer_than (seconds), include_replayed.
DeadLetterFilter filter_of(const py::dict& given) {
  DeadLetterFilter filter;
  for (auto [key, value] : given) {
    const std::string name = text_of(key, "filter");
    if (name == "queue") {
      filter.queue = text_or_none(value, "queue");
    } else if (name == "event_type") {
      filter.event_type = text_or_none(value, "event_type");
    } else if (name == "error_contains") {
      filter.error_contains = text_or_none(value, "error_contains");
    } else if (name == "older_than") {
      filter.older_than = age_of(value, "older_than");
    } else if (name == "newer_than") {
      filter.newer_than = age_of(value, "newer_than");
    } else if (name == "include_replayed") {
      if (!py::isinstance<py::bool_>(value))
        throw ValidationError("include_replayed: True or False", "include_replayed");
      filter.include_replayed = value.cast<bool>();
    } else {
      throw ValidationError(name +
                                ": no such dead letter filter (queue, event_type, "
                                "error_contains, older_than, newer_than, include_replayed)",
                            name);
    }
  }
  return filter;
}

// Runs `work(store)` on the dead letters as `who`, an administrator.
template <typename Work>
auto on_dead_letters(DatabaseHandle& h, const security::Principal& who, Work&& work) {
  return on_database(h, [&](store::Database&, Engine& engine) {
    auto letters = engine.admin(who).dead_letters();
    return work(letters);
  });
}

py::list dead_letter_list(DatabaseHandle& h, const security::Principal& who, const py::dict& given,
                          std::size_t limit, std::optional<std::uint64_t> before) {
  const DeadLetterFilter filter = filter_of(given);
  return dead_letters_to_python(on_dead_letters(
      h, who, [&](messaging::DeadLetterStore& s) { return s.list(filter, limit, before); }));
}

py::dict dead_letter_get(DatabaseHandle& h, const security::Principal& who, std::uint64_t id) {
  return dead_letter_to_python(
      on_dead_letters(h, who, [&](messaging::DeadLetterStore& s) { return s.get(id); }));
}

py::list dead_letter_history(DatabaseHandle& h, const security::Principal& who,
                             const std::string& queue, const std::string& event_id) {
  return dead_letters_to_python(on_dead_letters(
      h, who, [&](messaging::DeadLetterStore& s) { return s.history(queue, event_id); }));
}

// One entry by id (None back), or every entry the filter matches: (replayed, [(id, why)]).
py::object dead_letter_replay(DatabaseHandle& h, const security::Principal& who,
                              std::optional<std::uint64_t> id, const py::dict& given) {
  if (id) {
    on_dead_letters(h, who, [&](messaging::DeadLetterStore& s) {
      s.replay(*id);
      return 0;
    });
    return py::none();
  }
  const DeadLetterFilter filter = filter_of(given);
  const auto report =
      on_dead_letters(h, who, [&](messaging::DeadLetterStore& s) { return s.replay(filter); });
  py::list refused;
  for (const auto& r : report.refused) refused.append(py::make_tuple(r.id, r.reason));
  return py::make_tuple(report.replayed, refused);
}

// One entry by id (whether there was one), or every entry the filter matches (how many).
py::object dead_letter_purge(DatabaseHandle& h, const security::Principal& who,
                             std::optional<std::uint64_t> id, const py::dict& given) {
  if (id)
    return py::bool_(
        on_dead_letters(h, who, [&](messaging::DeadLetterStore& s) { return s.purge(*id); }));
  const DeadLetterFilter filter = filter_of(given);
  return py::int_(
      on_dead_letters(h, who, [&](messaging::DeadLetterStore& s) { return s.purge(filter); }));
}

py::list dead_letter_stats(DatabaseHandle& h, const security::Principal& who) {
  const auto stats =
      on_dead_letters(h, who, [](messaging::DeadLetterStore& s) { return s.stats(); });
  py::list out;
  for (const auto& q : stats)
    out.append(py::make_tuple(q.queue, q.depth, static_cast<double>(q.oldest_age.count()) / 1e6));
  return out;
}

py::list saga_stats(DatabaseHandle& h, const security::Principal& who) {
  const auto stats = on_database(
      h, [&](store::Database&, Engine& engine) { return engine.admin(who).saga_stats(); });
  py::list out;
  for (const auto& s : stats)
    out.append(py::make_tuple(s.saga, std::string(saga::to_string(s.status)), s.count));
  return out;
}

py::dict saga_get(DatabaseHandle& h, const security::Principal& who, std::uint64_t id) {
  const auto instance =
      on_database(h, [&](store::Database&, Engine& engine) { return engine.admin(who).saga(id); });
  py::dict out;
  out["id"] = instance.id;
  out["saga"] = instance.saga;
  out["key"] = instance.key;
  const auto type = to_string(instance.subject.type);
  out["subject"] = py::make_tuple(py::str(type.data(), type.size()), instance.subject.id);
  out["status"] = std::string(saga::to_string(instance.status));
  out["step"] = instance.step;
  out["data"] = instance.data;
  py::list history;
  for (const auto& e : instance.history) {
    py::dict entry;
    entry["step"] = e.step;
    entry["what"] = e.what;
    entry["attempt"] = e.attempt;
    entry["at"] = to_python(e.at);
    entry["error"] = e.error;
    history.append(entry);
  }
  out["history"] = history;
  out["error"] = instance.error;
  out["created_at"] = to_python(instance.created_at);
  out["updated_at"] = to_python(instance.updated_at);
  return out;
}

}  // namespace

void bind_admin(py::module_& m) {
  m.def("dead_letter_list", &dead_letter_list);
  m.def("dead_letter_get", &dead_letter_get);
  m.def("dead_letter_history", &dead_letter_history);
  m.def("dead_letter_replay", &dead_letter_replay);
  m.def("dead_letter_purge", &dead_letter_purge);
  m.def("dead_letter_stats", &dead_letter_stats);
  m.def("saga_stats", &saga_stats);
  m.def("saga_get", &saga_get);
}

}  // namespace banyan::python
