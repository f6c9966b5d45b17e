// Links a create may ask for beside the record: "tags" on the records tags mark,
// "companies" on contacts. Implemented with the relation routes (relation_routes.cpp).
#pragma once

#include <utility>
#include <vector>

#include "http_support.hpp"

namespace banyan::rest {

struct CreateLinks {
  std::vector<std::pair<Id, bool>> companies;  // company id, primary
  std::vector<Id> tags;
};

// Takes "companies" ([id, or {"id", "primary"?}], at most one primary) and "tags" ([id])
// out of a create's body for a record of `type`, leaving the record's own members; each
// at most 100 long. ValidationError naming the member ("tags[2]") for a bad one; members a
// type does not take are left for the record's reader to refuse.
CreateLinks take_links(ObjectType type, json& body);

// Links a record just created in `uow` as asked, as RelationService does for the caller
// (events and audit entries included). A linked record that is missing, or hidden from the
// caller, is a ValidationError naming its place ("companies[0]"), the same for both.
void link_created(store::UnitOfWork& uow, const RelationService& relations, ObjectRef record,
                  const CreateLinks& links);

// Adds "companies" and "tags" to a create's body schema where `type` takes them; false
// when it takes neither.
bool document_create_links(ObjectType type, json& schema);

}  // namespace banyan::rest
