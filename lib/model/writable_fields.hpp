// The fields of each record type that callers write, by their public names (the names of
// JSON, filters, patches and merges): one table per type, walked by patches and merges.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "banyan/model/patch.hpp"
#include "banyan/model/record.hpp"

namespace banyan::detail {

template <typename T>
struct WritableField {
  std::string name;
  std::function<void(T& into, const T& from)> copy;
  // Whether a record has no value here (an empty text or optional); values that cannot
  // be empty (numbers, booleans) never are.
  std::function<bool(const T&)> blank;
  // Whether a merge may take the field from a duplicate (Duplicates::merge's winners).
  bool mergeable = true;
  // For a list (emails, phones, addresses): adds the entries of `from` that `into` lacks,
  // not primary, up to the list's limit. A merge gathers a list rather than keeping only
  // the survivor's. Null for other fields.
  std::function<void(T& into, const T& from)> gather;
};

// Specialised for every record type (writable_fields.cpp). Composite values are listed
// whole and by part ("amount", "amount.minor_units", "amount.currency").
template <typename T>
std::span<const WritableField<T>> writable_fields();

template <typename T>
const WritableField<T>* writable_field(std::string_view name) {
  for (const auto& f : writable_fields<T>())
    if (f.name == name) return &f;
  return nullptr;
}

// Whether `name` is a field the store sets on every record of `type` (id, version, the
// created and updated pairs, archived_at, merge and conversion pointers): readable,
// never written by a caller.
bool is_store_set(ObjectType type, std::string_view name);
// ValidationError(name): "is set by the store" or "no such field".
[[noreturn]] void throw_not_writable(ObjectType type, const std::string& name);

// Applies the standard fields `names` of `from` onto `into`; ValidationError naming the
// first name that is no writable field of T ("is set by the store", "no such field").
// "custom" is not a standard field: the caller handles it.
template <typename T>
void copy_named(T& into, const T& from, std::span<const std::string> names) {
  for (const auto& name : names) {
    const auto* f = writable_field<T>(name);
    if (f == nullptr) throw_not_writable(T::kType, name);
    f->copy(into, from);
  }
}

// The record an upsert that finds none creates from a patch: its values, with its custom
// values set (and those it clears left out).
template <typename T>
T created_from(const Patch<T>& patch) {
  T record = patch.values;
  for (const auto& [name, value] : patch.custom) {
    if (std::holds_alternative<std::monostate>(value)) {
      record.custom.erase(name);
    } else {
      record.custom[name] = value;
    }
  }
  return record;
}

}  // namespace banyan::detail
