// A list route's query string as a store query: the page (limit, cursor, sort, archived
// records) and the filter ("?email=a@b.c", "?created_at[gt]=2026-01-01T00:00:00Z",
// "?id[in]=1,2,3", "?title[is_null]=true", "?custom.tier=gold": every condition must hold).
#pragma once

#include "banyan/banyan.hpp"
#include "http_support.hpp"

namespace banyan::rest {

// Reads the custom field definitions of T in `uow` as `fields` lets its principal, for
// filters on "custom.<name>".
// ValidationError naming the parameter at fault.
template <typename T>
store::PageRequest page_request(const CustomFieldService& fields, store::UnitOfWork& uow,
                                const Target& t);

// The fields a `fields=a,b,custom.tier` parameter selects (empty: every field): standard
// field names, "custom" (every custom value) and "custom.<name>" of the custom fields of T
// defined now. ValidationError naming "fields" for any other name, as for a filter.
template <typename T>
std::vector<std::string> selected_fields(const CustomFieldService& fields, store::UnitOfWork& uow,
                                         const Target& t);

}  // namespace banyan::rest
