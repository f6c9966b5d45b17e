#include "store/search.hpp"

#include <string>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/odb/rows.hxx"
#include "store/session.hpp"
#include "store/sql_builder.hpp"
#include "store/validation.hpp"

namespace banyan::store {

std::vector<std::string> search_words(const std::string& query) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (unsigned char c : query) {
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

namespace {

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<SearchHit> Search::search(UnitOfWork& uow, const SearchRequest& request) const {
  detail::check_text("query", request.query, 1024);
  if (request.limit < 1 || request.limit > 200)
    throw ValidationError("limit: must be between 1 and 200", "limit");
  const bool sqlite = db_->backend == island::Backend::kSqlite;
  std::vector<std::string> terms = search_words(request.query);
  if (terms.size() > 16) throw ValidationError("query: at most 16 words", "query");
  for (const auto& t : terms)
    if (utf8_chars(t) > 64)
      throw ValidationError("query: a word has more than 64 characters", "query");
  if (!sqlite) {
    // InnoDB indexes no word shorter than its minimum token size (3).
    std::erase_if(terms, [](const std::string& t) { return utf8_chars(t) < 3; });
  }
  if (terms.empty()) throw ValidationError("query: no word to search for", "query");

  // Every word must match, as a prefix. Words hold only letters and digits, so they need
  // no quoting inside the match expression; it is still bound as a parameter.
  std::string match;
  for (const auto& t : terms)
    match += (match.empty() ? "" : " ") + (sqlite ? "\"" + t + "\"*" : "+" + t + "*");

  island::SqlFragment q;
  if (sqlite) {
    // bm25 is lower for better matches; title words weigh ten times body words.
    q.text(
        "SELECT object_type, object_id, title, -bm25(search_index, 0.0, 0.0, 10.0, 1.0) "
        "AS score FROM search_index WHERE search_index MATCH ");
    q.param(detail::text_param(match));
  } else {
    q.text("SELECT object_type, object_id, title, MATCH(title) AGAINST (");
    q.param(detail::text_param(match));
    q.text(" IN BOOLEAN MODE) * 10 + MATCH(title, body) AGAINST (");
    q.param(detail::text_param(match));
    q.text(" IN BOOLEAN MODE) AS score FROM search_documents WHERE MATCH(title, body) AGAINST (");
    q.param(detail::text_param(match));
    q.text(" IN BOOLEAN MODE)");
  }
  if (!request.types.empty()) {
    q.text(" AND object_type IN (");
    for (std::size_t i = 0; i < request.types.size(); ++i) {
      if (i > 0) q.text(", ");
      q.param(detail::text_param(std::string(to_string(request.types[i]))));
    }
    q.text(")");
  }
  q.text(" ORDER BY score DESC, object_id ASC LIMIT " + std::to_string(request.limit));

  std::vector<SearchHit> out;
  for (const auto& row : island::ViewStore<odbrows::SearchHitView>::query(Session(uow).tx(), q)) {
    out.push_back(
        SearchHit{{parse_object_type(row.object_type), row.object_id}, row.title, row.score});
  }
  return out;
}

}  // namespace banyan::store
