// What a body names besides its own fields: other records, by id or by what another
// system knows of them, and links to make at create time.
//
// Wherever a body takes a record's id it may give {"external_id": "..."} instead (or
// {"id": n}); a deal's stage may be given as {"name": "..."}, found within the deal's
// pipeline. A record's reference member keeps its name ("company_id": {"external_id":
// "acme"}) or drops its "_id" ("company": {"external_id": "acme"}). A record named by
// external id or name must be one the caller may read: one it may not is refused exactly
// as a missing one is (422 naming the member), so a reference cannot probe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http_support.hpp"
#include "record_json.hpp"

namespace banyan::rest {

// A record named in a body: by id, else by external id, else (stages) by name.
struct RecordKey {
  Id id = 0;
  std::string external_id;
  std::string name;
};

// The key `value` gives at `place`: a positive integer, {"id": n}, {"external_id": "..."}
// or, where `by_name`, {"name": "..."}. ValidationError naming `place` otherwise.
RecordKey record_key(const json& value, const std::string& place, bool by_name = false);

// Finds what keys name, in one unit of work, as one principal.
class Resolver {
 public:
  Resolver(store::UnitOfWork& uow, Engine& engine, const security::Principal& who)
      : uow_(&uow), engine_(&engine), who_(&who) {}

  // The id `key` names, a record of `type`: as given when by id (the write that uses it
  // checks it); else the one the principal may read with that external id, or the stage
  // so named in `pipeline`. ValidationError naming `place` when there is none.
  Id id(ObjectType type, const RecordKey& key, const std::string& place,
        std::optional<Id> pipeline = std::nullopt);

  store::UnitOfWork& uow() const { return *uow_; }
  Engine& engine() const { return *engine_; }
  const security::Principal& principal() const { return *who_; }

 private:
  store::UnitOfWork* uow_;
  Engine* engine_;
  const security::Principal* who_;
};

// A record's reference members given by key, and a create's supplied history.
struct References {
  struct Member {
    std::string field;  // the field it sets: "company_id"
    std::string place;  // where the body gave it: "company"
    ObjectType type;    // what it names
    RecordKey key;
  };
  std::vector<Member> members;
  std::optional<Timestamp> created_at;  // a create's, for a migration
  std::optional<RecordKey> created_by;

  Creation creation() const {
    return created_at || created_by ? Creation::kSupplied : Creation::kNow;
  }
};

// Takes out of a record body its reference members given by key (a plain id stays for
// the record's reader) among the `writable` fields and, where `creating`, its created_at
// and created_by. ValidationError naming the member for a bad one, or for a field given
// twice ("company" and "company_id").
References take_references(const std::vector<std::string>& writable, json& body, bool creating);
template <typename T>
References take_references(json& body, bool creating) {
  static const std::vector<std::string> writable = [] {
    std::vector<std::string> names;
    for (const auto& f : json_fields<T>())
      if (f.writable) names.push_back(f.name);
    return names;
  }();
  return take_references(writable, body, creating);
}

// Resolves `refs` and sets them on `values` (each field resolved is added to `named`, when
// given: a patch's). A stage by name is looked for in the pipeline `values` is given
// (`pipeline_given`), else in `stored_pipeline()`'s (a deal being patched).
template <typename T>
void resolve(Resolver& resolver, const References& refs, T& values,
             std::vector<std::string>* named = nullptr, bool pipeline_given = true,
             const std::function<std::optional<Id>()>& stored_pipeline = {});

// Links a create may ask for beside the record: "tags" on the records tags mark,
// "companies" on contacts, "contacts" (in a role) on deals, "targets" on activities
// (implemented with the relation routes, relation_routes.cpp).
struct CreateLinks {
  std::vector<std::pair<RecordKey, bool>> companies;  // company, primary
  std::vector<RecordKey> tags;
  std::vector<std::pair<RecordKey, DealRole>> contacts;   // a deal's contact, its role
  std::vector<std::pair<ObjectType, RecordKey>> targets;  // what an activity concerns
};

// Takes "companies" ([key, or {"id" or "external_id", "primary"?}], at most one primary),
// "tags" ([key]), a deal's "contacts" ([key, or {"id" or "external_id", "role"?}]) and an
// activity's "targets" ([{"type": "contact", "id" or "external_id"}]) out of a create's
// body for a record of `type`, leaving the record's own members; each at most 100 long.
// ValidationError naming the member ("tags[2]") for a bad one; members a type does not
// take are left for the record's reader to refuse.
CreateLinks take_links(ObjectType type, json& body);

// Links a record just created as asked, as RelationService does for the caller (events
// and audit entries included). A linked record that is missing, or hidden from the
// caller, is a ValidationError naming its place ("companies[0]"), the same for both.
void link_created(Resolver& resolver, ObjectRef record, const CreateLinks& links);

// Adds "companies" and "tags" to a create's body schema where `type` takes them, and
// created_at and created_by; false when it takes no links.
bool document_create_links(ObjectType type, json& schema);
// A reference member's schema: an id, or an object naming the record by key.
json reference_schema(bool by_name = false);
// Lets the reference fields of a record's input schema (properties) be given by key, under
// their names and their aliases ("company").
void document_references(json& schema);
// Adds a create's created_at and created_by to its schema.
void document_creation(json& schema);

}  // namespace banyan::rest
