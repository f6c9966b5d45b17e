// Filters, sorting and keyset pagination over any standard field of a record type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"

namespace banyan::store {

// A value in a filter. The field's type decides which alternatives it accepts: text
// fields take strings, integer fields integers, time fields Timestamps (or integers of
// microseconds), date fields Dates, booleans bools. std::monostate is SQL NULL.
using Value =
    std::variant<std::monostate, bool, std::int64_t, double, std::string, Timestamp, Date>;

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kContains, kStartsWith, kIsNull };

// An immutable filter expression; cheap to copy (shared nodes). Build it from the
// factories and combine with &&, || and !. Field names are those of the record type
// ("email", "created_at", "stage_id", ...); an unknown field or a value of the wrong
// type makes the query throw ValidationError naming the field.
class BANYAN_EXPORT Filter {
 public:
  struct Node {
    enum class Kind { kAll, kCompare, kAnd, kOr, kNot } kind = Kind::kAll;
    std::string field;             // kCompare
    Op op = Op::kEq;               // kCompare
    std::vector<Value> values;     // kCompare: one value, or the list for kIn
    std::vector<Filter> children;  // kAnd, kOr (two or more), kNot (one)
  };

  // Matches every record.
  Filter();

  static Filter eq(std::string field, Value value);
  static Filter ne(std::string field, Value value);
  static Filter lt(std::string field, Value value);
  static Filter le(std::string field, Value value);
  static Filter gt(std::string field, Value value);
  static Filter ge(std::string field, Value value);
  static Filter in(std::string field, std::vector<Value> values);
  // Substring and prefix match on text fields; case-sensitive on both backends, and
  // '%', '_' and '\' in the needle match themselves.
  static Filter contains(std::string field, std::string needle);
  static Filter starts_with(std::string field, std::string prefix);
  static Filter is_null(std::string field);

  friend BANYAN_EXPORT Filter operator&&(Filter a, Filter b);
  friend BANYAN_EXPORT Filter operator||(Filter a, Filter b);
  friend BANYAN_EXPORT Filter operator!(Filter a);

  const Node& node() const noexcept { return *node_; }

 private:
  explicit Filter(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  static Filter compare(std::string field, Op op, std::vector<Value> values);

  std::shared_ptr<const Node> node_;
};

struct BANYAN_EXPORT Sort {
  std::string field = "id";
  bool descending = false;
};

// One page of a query. Pages are keyset pages: the cursor holds the sort key and id of
// the last row, so a page never repeats or skips a row because rows were inserted or
// deleted before it.
struct BANYAN_EXPORT PageRequest {
  Filter filter;
  Sort sort;
  // Further keys, each ordering the rows the keys before it tie on (at most 3, each field
  // once, nothing after id). Ties left at the end are broken by id, in the direction of
  // the last key.
  std::vector<Sort> then_by;
  std::size_t limit = 50;             // 1..1000, else ValidationError("limit")
  std::optional<std::string> cursor;  // next_cursor of the previous page, for this sort
  bool include_archived = false;
};

template <typename T>
struct Page {
  std::vector<T> items;
  // Set when more rows may follow; pass it back in PageRequest::cursor.
  std::optional<std::string> next_cursor;
};

}  // namespace banyan::store
