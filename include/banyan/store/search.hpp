// Full-text search across record types.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/model/record.hpp"
#include "banyan/store/unit_of_work.hpp"

namespace banyan::store {

// What is searchable: contact and lead names and emails (not emails encrypted at rest)
// and a lead's company name, company names and domains, deal titles, and the subjects and
// bodies of notes. Archived records are not found. The index is written in the same unit
// of work as the record.
struct BANYAN_EXPORT SearchRequest {
  // Words to find; every word must match, each as a prefix ("ada lov" finds Ada
  // Lovelace). Punctuation separates words. At most 16 words of up to 64 characters.
  std::string query;
  std::vector<ObjectType> types;  // empty: every searchable type
  std::size_t limit = 20;         // 1..200
};

struct BANYAN_EXPORT SearchHit {
  ObjectRef record;
  std::string title;  // the record's name, title or subject
  double score = 0;   // higher is a better match; comparable within one result list
};

}  // namespace banyan::store
