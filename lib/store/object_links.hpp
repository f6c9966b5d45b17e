// Moving relation rows from one record to another (lead conversion, merge).
#pragma once

#include <functional>
#include <set>
#include <string>

#include "banyan/model/record.hpp"
#include "store/odb/island.hpp"

namespace banyan::store::detail {

// Re-points the rows of a relation selected by `where_from` to their new owner with
// `repoint`, dropping those the new owner (`where_to`) already has. `key` says which rows
// are the same relation ("the same company", "the same tag").
template <typename Row>
void move_rows(island::Transaction& tx, const std::string& where_from, const std::string& where_to,
               const std::function<std::string(const Row&)>& key,
               const std::function<void(Row&)>& repoint) {
  std::set<std::string> have;
  for (const Row& r : island::RowStore<Row>::select(tx, island::SqlFragment().text(where_to)))
    have.insert(key(r));
  for (Row& r : island::RowStore<Row>::select(tx, island::SqlFragment().text(where_from))) {
    if (have.count(key(r))) {
      island::RowStore<Row>::erase(tx, r.id);
    } else {
      repoint(r);
      island::RowStore<Row>::update(tx, r);
    }
  }
}

// Re-points every activity link and tag of `from` to `to` (which may be of another type);
// a link `to` already has is dropped rather than doubled.
void move_object_links(island::Transaction& tx, ObjectRef from, ObjectRef to);

}  // namespace banyan::store::detail
