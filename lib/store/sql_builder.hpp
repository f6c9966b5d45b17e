// Turns filters, sorts and cursors into SQL fragments for one record type. Field names
// are checked against the type's catalogue and every value is a bound parameter.
#pragma once

#include <string>
#include <string_view>

#include "banyan/store/query.hpp"
#include "store/entity.hpp"

namespace banyan::store::detail {

std::string base64url_encode(std::string_view in);
// Returns false on malformed input.
bool base64url_decode(std::string_view in, std::string& out);

island::SqlParam int_param(std::int64_t v);
island::SqlParam text_param(std::string v);

template <typename T>
class SqlBuilder {
 public:
  using Row = typename Entity<T>::Row;

  // The field named `name`, or ValidationError(name).
  static const FieldDef<Row>& field(std::string_view name);
  // Appends "(<condition>)" for the filter.
  static void where(island::SqlFragment& out, const Filter& filter);
  // Appends the keyset condition, ORDER BY and LIMIT for one page.
  static void page(island::SqlFragment& out, const PageRequest& request);
  static std::string cursor_after(const Row& last, const Sort& sort);
};

}  // namespace banyan::store::detail
