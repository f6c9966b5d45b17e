// Search: full-text search across record types, unchecked.
// Internal to the library: the layers above the store and the tests use it; the hosts,
// the bindings and users reach it only through banyan::Engine.
#pragma once

#include "banyan/store/search.hpp"

namespace banyan::store {

namespace detail {
struct DatabaseState;
}

// The words of a query or a text as the index cuts them: runs of letters and digits (any
// non-ASCII byte counts as a letter, so UTF-8 words stay whole), case kept.
std::vector<std::string> search_words(const std::string& text);

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
