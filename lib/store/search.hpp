// Search: full-text search across record types, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/search.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// Obtain from Database::search(); valid while the Database lives.
class Search {
 public:
  explicit Search(detail::DatabaseState* db) noexcept : db_(db) {}

  // Ranked best first (SQLite FTS5 bm25; MariaDB FULLTEXT relevance), title matches
  // weighing more than body matches. ValidationError("query") for a query with no word,
  // ValidationError("limit") outside 1..200. On MariaDB, words shorter than three
  // characters are ignored (InnoDB's minimum token size).
  std::vector<SearchHit> search(UnitOfWork& uow, const SearchRequest& request) const;

 private:
  detail::DatabaseState* db_;
};

}  // namespace banyan::store
