// The routes of every record type: list, create, get (as of a time), patch, delete,
// history, archive and restore, batch and upsert, each with its OpenAPI operation.
#include "api_context.hpp"
#include "item_results.hpp"
#include "openapi.hpp"
#include "record_query.hpp"
#include "references.hpp"

#include "banyan/model/fields.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// A record type as the routes see it: its services for a principal, and its names.
template <typename T>
struct Kind {
  RecordService<T> (Engine::*service)(const security::Principal&);
  std::string base;  // "contacts": the collection in paths
  std::string name;  // "Contact": the schema
  std::string one;   // "contact": in summaries and operation ids

  RecordService<T> of(ApiContext& api, const RouteCall& c) const {
    return (api.engine.*service)(c.principal());
  }
};

// Whether a list asks for its total (`count=true`).
bool counts(const Target& t) {
  const auto given = query_value(t, "count");
  if (given && *given != "true" && *given != "false")
    throw ValidationError("count: true or false", "count");
  return given == "true";
}

template <typename T>
HttpResponse list(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  std::vector<std::string> fields;
  std::optional<std::uint64_t> total;
  const bool counting = counts(c.target);
  auto page = api.db.read([&](store::UnitOfWork& uow) {
    const CustomFieldService custom = api.engine.custom_fields(c.principal());
    fields = selected_fields<T>(custom, uow, c.target);
    const store::PageRequest request = page_request<T>(custom, uow, c.target);
    // In the same read as the page, so the two agree.
    if (counting) total = repo.count(uow, request.filter, request.include_archived);
    return repo.query(uow, request);
  });
  HttpResponse out;
  out.body = "{\"items\":[";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i > 0) out.body += ',';
    append_json_text(page.items[i], fields, out.body);
  }
  out.body += "],\"next\":";
  if (page.next_cursor)
    append_json_string(*page.next_cursor, out.body);
  else
    out.body += "null";
  if (total) out.body += ",\"total\":" + std::to_string(*total);
  out.body += '}';
  return out;
}

// The pipeline of the stored deal `find` finds, for a stage named in a patch of it; no
// function for other types.
template <typename T, typename Find>
std::function<std::optional<Id>()> stored_pipeline(const RecordService<T>& repo,
                                                   store::UnitOfWork& uow, Find find) {
  if constexpr (std::is_same_v<T, Deal>) {
    return [&repo, &uow, find]() -> std::optional<Id> {
      const auto stored = find(repo, uow);
      return stored ? std::optional<Id>(stored->pipeline_id) : std::nullopt;
    };
  } else {
    return {};
  }
}

template <typename T>
HttpResponse create(ApiContext& api, const RecordService<T>& repo, const std::string& base,
                    const RouteCall& c) {
  T record;
  json body = api.body_object(c.request);
  const CreateLinks links = take_links(T::kType, body);
  const References refs = take_references<T>(body, /*creating=*/true);
  apply_json(record, body);
  return api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, c.principal());
    T given = record;
    resolve(resolver, refs, given);
    T created = repo.create(uow, given, refs.creation());
    link_created(resolver, {T::kType, created.id}, links);
    HttpResponse out = record_response(201, created);
    out.headers.emplace_back("Location", "/v1/" + base + "/" + std::to_string(created.id));
    return out;
  });
}

// GET /v1/{type}/{id}[?as_of=time][&fields=a,b]
template <typename T>
HttpResponse get(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  const Id id = c.id();
  std::optional<Timestamp> at;
  if (auto when = query_value(c.target, "as_of")) {
    at = query_time(*when);
    if (!at) throw ValidationError("as_of: an RFC 3339 time, e.g. 2026-11-29T12:00:00Z", "as_of");
  }
  std::vector<std::string> fields;
  T record = api.db.read([&](store::UnitOfWork& uow) {
    fields = selected_fields<T>(api.engine.custom_fields(c.principal()), uow, c.target);
    return at ? repo.as_of(uow, id, *at) : repo.get(uow, id);
  });
  if (none_match(c.request, record.version)) return not_modified(record.version);
  return record_response(200, record, fields);
}

// JSON Merge Patch: what the body names changes, the rest stays.
template <typename T>
HttpResponse patch(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  const Id id = c.id();
  json body = api.body_object(c.request);
  const References refs = take_references<T>(body, /*creating=*/false);
  Patch<T> patch = patch_of<T>(body);
  patch.expected_version = if_match(c.request);
  return api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, c.principal());
    Patch<T> given = patch;
    resolve(resolver, refs, given.values, &given.fields, /*pipeline_given=*/false,
            stored_pipeline(repo, uow, [id](const RecordService<T>& r, store::UnitOfWork& u) {
              return r.find(u, id);
            }));
    return record_response(200, repo.patch(uow, id, given).record);
  });
}

template <typename T>
HttpResponse remove(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  const Id id = c.id();
  const auto expected = if_match(c.request);
  return api.write(c, [&](store::UnitOfWork& uow) {
    if (expected) check_version(expected, repo.get(uow, id).version);
    repo.remove(uow, id);
    return no_content();
  });
}

json field_change_json(const store::FieldChange& c) {
  return {{"entry", c.entry},
          {"at", format_timestamp(c.at)},
          {"actor_id", c.actor_id ? json(*c.actor_id) : json(nullptr)},
          {"actor", c.actor},
          {"action", c.action},
          {"field", c.field},
          {"before", json::parse(c.before, nullptr, false)},
          {"after", json::parse(c.after, nullptr, false)}};
}

template <typename T>
HttpResponse history(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  const Id id = c.id();
  const std::string field = query_value(c.target, "field").value_or("");
  json items = json::array();
  for (const auto& change :
       api.db.read([&](store::UnitOfWork& uow) { return repo.history(uow, id, field); }))
    items.push_back(field_change_json(change));
  return json_response(200, json{{"items", items}});
}

template <typename T>
HttpResponse archive(ApiContext& api, const RecordService<T>& repo, const RouteCall& c,
                     bool archiving) {
  const Id id = c.id();
  const auto expected = if_match(c.request);
  return api.write(c, [&](store::UnitOfWork& uow) {
    if (expected) check_version(expected, repo.get(uow, id).version);
    return record_response(200, archiving ? repo.archive(uow, id) : repo.restore(uow, id));
  });
}

// 403 for a whole non-atomic batch when no item could succeed: the principal may do none
// of `actions` to any record of the type (an atomic one fails at its first item anyway).
void refuse_if_never(ApiContext& api, const RouteCall& c, ObjectType type,
                     std::initializer_list<security::Action> actions) {
  const auto policy = api.engine.policy();
  for (const auto action : actions)
    if (policy->scope(c.principal(), action, type) != security::Scope::kNone) return;
  throw PermissionDenied(c.principal().name + " may not write " + std::string(to_string(type)) +
                         " records");
}

const json& batch_items(const json& body) {
  if (!body.contains("items") || !body["items"].is_array() || body["items"].empty() ||
      body["items"].size() > 100)
    throw ValidationError("items: a list of 1 to 100 records", "items");
  for (const auto& [k, v] : body.items())
    if (k != "items" && k != "atomic") throw ValidationError(k + ": no such field", k);
  return body["items"];
}

// An item's error as the batch's: its field prefixed with the item ("items[3].email").
[[noreturn]] void at_item(std::size_t i, const Error& e) {
  const std::string where = "items[" + std::to_string(i) + "]";
  const std::string field = e.field().empty() ? where : where + "." + e.field();
  switch (e.code()) {
    case ErrorCode::kConflict:  // a stale version stays "version": it is a 412
      throw Conflict(where + ": " + e.what(), e.field() == "version" ? "version" : field);
    case ErrorCode::kNotFound:
    case ErrorCode::kValidation:
      throw ValidationError(where + ": " + e.what(), field);
    case ErrorCode::kPermissionDenied:
      throw PermissionDenied(where + ": " + e.what(), field);
    default:
      throw;
  }
}

// POST /v1/{type}/batch {"items": [...]} creates up to 100 records. All or nothing: the
// first bad item's problem names it ("items[3].email") and nothing is written. With
// "atomic": false each item is created or refused on its own, answered 207.
template <typename T>
HttpResponse batch(ApiContext& api, const RecordService<T>& repo, const RouteCall& c) {
  const json body = api.body_object(c.request);
  const json& items = batch_items(body);
  const bool atomic = atomic_batch(body);
  if (!atomic) refuse_if_never(api, c, T::kType, {security::Action::kCreate});
  ItemResults results(items.size());
  std::vector<T> records(items.size());
  std::vector<CreateLinks> links(items.size());
  std::vector<References> refs(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    try {
      json item = items[i];
      if (item.is_object()) {
        links[i] = take_links(T::kType, item);
        refs[i] = take_references<T>(item, true);
      }
      apply_json(records[i], item);
    } catch (const ValidationError& e) {
      if (atomic) at_item(i, e);
      results.fail(i, e);
    }
  }
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, c.principal());
    const auto create = [&](std::size_t i) {
      T given = records[i];
      resolve(resolver, refs[i], given);
      const T created = repo.create(uow, given, refs[i].creation());
      link_created(resolver, {T::kType, created.id}, links[i]);
      return to_json(created);
    };
    if (!atomic) {
      for (std::size_t i = 0; i < records.size(); ++i)
        if (!results.failed(i)) results.run(uow, i, [&] { results.done(i, "created", create(i)); });
      return results.response();
    }
    json made = json::array();
    for (std::size_t i = 0; i < records.size(); ++i) {
      try {
        made.push_back(create(i));
      } catch (const Error& e) {
        at_item(i, e);
      }
    }
    return json_response(201, json{{"items", made}});
  });
  results.audit_refusals(api, c);
  return out;
}

template <typename T>
json upsert_json(const WriteResult<T>& done) {
  return json{{"outcome", std::string(to_string(done.outcome))}, {"record", to_json(done.record)}};
}

// POST /v1/{type}/upsert: one record, or {"items": [...]} up to 100, each created or
// changed by its external_id with merge semantics (what an item names changes, the rest
// stays) and reported as created, updated or unchanged. An unchanged item writes
// nothing. A batch is all or nothing, as /batch is, unless it says "atomic": false.
template <typename T>
HttpResponse upsert(ApiContext& api, const RecordService<T>& repo, const std::string& base,
                    const RouteCall& c) {
  const json body = api.body_object(c.request);
  const bool single = !body.contains("items");
  const json one = json::array({body});
  const json& items = single ? one : batch_items(body);
  const bool atomic = single || atomic_batch(body);
  if (!atomic)
    refuse_if_never(api, c, T::kType, {security::Action::kCreate, security::Action::kUpdate});
  ItemResults results(items.size());
  std::vector<Patch<T>> patches(items.size());
  std::vector<References> refs(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    try {
      json item = items[i];
      if (item.is_object()) refs[i] = take_references<T>(item, true);
      patches[i] = patch_of<T>(item);
      if (!patches[i].values.external_id)
        throw ValidationError("external_id: an upsert needs one", "external_id");
      patches[i].creation = refs[i].creation();
    } catch (const ValidationError& e) {
      if (single) throw;
      if (atomic) at_item(i, e);
      results.fail(i, e);
    }
  }
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, c.principal());
    // An item's references resolved; a stage by name is looked for in the pipeline of the
    // deal with the item's external id when the item names none.
    const auto upserted = [&](std::size_t i) {
      Patch<T> given = patches[i];
      const std::string key = *given.values.external_id;
      resolve(resolver, refs[i], given.values, &given.fields, /*pipeline_given=*/false,
              stored_pipeline(repo, uow, [key](const RecordService<T>& r, store::UnitOfWork& u) {
                return r.find_by_external_id(u, key);
              }));
      return repo.upsert(uow, given);
    };
    if (single) {
      const auto done = upserted(0);
      const bool created = done.outcome == WriteOutcome::kCreated;
      HttpResponse answer = json_response(created ? 201 : 200, upsert_json(done));
      answer.headers.emplace_back("ETag", "\"" + std::to_string(done.record.version) + "\"");
      if (created)
        answer.headers.emplace_back("Location",
                                    "/v1/" + base + "/" + std::to_string(done.record.id));
      return answer;
    }
    if (!atomic) {
      for (std::size_t i = 0; i < patches.size(); ++i) {
        if (results.failed(i)) continue;
        results.run(uow, i, [&] {
          const auto done = upserted(i);
          results.done(i, std::string(to_string(done.outcome)), to_json(done.record));
        });
      }
      return results.response();
    }
    json made = json::array();
    std::size_t counts[3] = {0, 0, 0};
    for (std::size_t i = 0; i < patches.size(); ++i) {
      try {
        const auto done = upserted(i);
        ++counts[static_cast<int>(done.outcome)];
        made.push_back(upsert_json(done));
      } catch (const Error& e) {
        at_item(i, e);
      }
    }
    return json_response(200,
                         json{{"items", made},
                              {"created", counts[static_cast<int>(WriteOutcome::kCreated)]},
                              {"updated", counts[static_cast<int>(WriteOutcome::kUpdated)]},
                              {"unchanged", counts[static_cast<int>(WriteOutcome::kUnchanged)]}});
  });
  results.audit_refusals(api, c);
  return out;
}

// The schemas of a record type: the record, a selection of its fields, what a create, a
// patch and an upsert take, and what an upsert answers.
template <typename T>
void record_schemas(const Kind<T>& k, Builder& b) {
  json& schemas = b.schemas();
  const std::string& name = k.name;
  json properties = json::object(), input = json::object(), required = json::array();
  for (const auto& f : json_fields<T>()) {
    properties[f.name] = f.schema;
    required.push_back(f.name);
    if (f.writable) input[f.name] = f.schema;
  }
  schemas[name] = object_of(properties, required);
  schemas[name + "Selection"] = object_of(properties, {"id"});
  schemas[name + "Selection"]["description"] = "The fields asked for with `fields`, and id";
  schemas[name + "Input"] = {
      {"type", "object"}, {"properties", input}, {"additionalProperties", false}};
  document_references(schemas[name + "Input"]);
  json create = schemas[name + "Input"];
  document_create_links(T::kType, create);
  document_creation(create);
  schemas[name + "Create"] = create;
  schemas[name + "Patch"] = schemas[name + "Input"];
  schemas[name + "Patch"]["properties"]["custom"] =
      nullable(schemas[name + "Input"]["properties"]["custom"]);
  json keyed = schemas[name + "Input"];
  document_creation(keyed);
  keyed["required"] = {"external_id"};
  schemas[name + "Upsert"] = keyed;
  const json outcome = {{"type", "string"}, {"enum", {"created", "updated", "unchanged"}}};
  schemas[name + "UpsertResult"] =
      object_of({{"outcome", outcome}, {"record", schema_ref(name)}}, {"outcome", "record"});
}

// A batch body: 1 to 100 items, and whether it is all or nothing.
json items_of(const json& item) {
  json out = object_of(
      {{"items", {{"type", "array"}, {"items", item}, {"minItems", 1}, {"maxItems", 100}}},
       {"atomic",
        {{"type", "boolean"},
         {"default", true},
         {"description",
          "true: all or nothing, the first bad item's problem answers. false: each item is "
          "applied on its own and the answer is 207 with a result per item"}}}},
      {"items"});
  out["additionalProperties"] = false;
  return out;
}

// The 207 of a batch with "atomic": false: a result per item, in order, and the counts.
json multi_status(const json& record) {
  const json count = {{"type", "integer"}, {"minimum", 0}};
  const json outcome = {{"type", "string"}, {"enum", {"created", "updated", "unchanged", "error"}}};
  const json result = object_of({{"index", count},
                                 {"status", {{"type", "integer"}}},
                                 {"outcome", outcome},
                                 {"record", record},
                                 {"error", schema_ref("ItemProblem")}},
                                {"index", "status", "outcome"});
  return Builder::ok(
      "With \"atomic\": false: each item's result (status 201, 200, or its problem's), in "
      "order; items that failed wrote nothing, the others are committed",
      object_of({{"items", {{"type", "array"}, {"items", result}}},
                 {"created", count},
                 {"updated", count},
                 {"unchanged", count},
                 {"failed", count}},
                {"items", "created", "updated", "unchanged", "failed"}));
}

template <typename T>
void document_list(const Kind<T>& k, json& o) {
  std::string filterable;
  for (const auto& f : json_fields<T>())
    if (f.filterable) filterable += (filterable.empty() ? "" : ", ") + f.name;
  if constexpr (std::is_same_v<T, Deal>)
    filterable +=
        ", amount (or amount.minor_units: the minor units; pair it with "
        "amount.currency) and amount.currency, which also sort";
  if (standard_field<T>("addresses") != nullptr)  // the types with contact points
    filterable +=
        ", city and country (of any address; ne: of none), email and phone matching any of "
        "the record's emails or phones (sealed emails: eq, ne and in only)";
  o["description"] =
      "Filters: `field=value` or `field[op]=value` with op one of eq, ne, lt, le, gt, ge, "
      "contains, starts_with, in (comma-separated), is_null (true or false); every condition "
      "must hold. Filterable: " +
      filterable + ", and custom fields as `custom.<name>`, typed by their definition.";
  Builder::params(o, {"limit", "cursor", "sort", "fields", "include_archived", "count"});
  const json selected = {{"anyOf", {schema_ref(k.name), schema_ref(k.name + "Selection")}}};
  o["responses"]["200"] =
      Builder::ok("A page; `next` is null on the last", page_of(selected, /*with_total=*/true));
}

template <typename T>
void document_upsert(const Kind<T>& k, json& o) {
  const std::string& one = k.one;
  o["description"] =
      "Each record is found by its external_id (required): when there is one, the fields given "
      "change as a JSON Merge Patch does (the rest stay); else it is created. Each is reported "
      "as created, updated or unchanged (an unchanged one writes nothing). A batch "
      "({\"items\": [...]}) is all or nothing, a problem's field naming the item, unless it "
      "says \"atomic\": false: then each item is applied on its own and the answer is 207 "
      "with a result per item. A single " +
      one + " answers 201 when created, else 200. External ids are unique across every " + one +
      ", so only a principal that reads them all may write one (403 with field external_id "
      "otherwise, whether the id is taken or not).";
  const json result = schema_ref(k.name + "UpsertResult");
  Builder::body(
      o, {{"anyOf", {schema_ref(k.name + "Upsert"), items_of(schema_ref(k.name + "Upsert"))}}});
  const json count = {{"type", "integer"}, {"minimum", 0}};
  const json batch_result = object_of({{"items", {{"type", "array"}, {"items", result}}},
                                       {"created", count},
                                       {"updated", count},
                                       {"unchanged", count}},
                                      {"items", "created", "updated", "unchanged"});
  o["responses"]["201"] = Builder::ok("One " + one + ", created", result, {"ETag", "Location"});
  o["responses"]["200"] = Builder::ok("One " + one + " updated or unchanged, or a batch, in order",
                                      {{"anyOf", {result, batch_result}}});
  o["responses"]["207"] = multi_status(schema_ref(k.name));
  o["responses"]["200"]["headers"]["ETag"] = {{"description", "The version of a single record"},
                                              {"schema", {{"type", "string"}}}};
}

std::string patch_description(const std::string& one) {
  return "RFC 7396 JSON Merge Patch, sent as application/merge-patch+json or application/json: "
         "the members present change, null clears one, the rest stay as stored. An object for "
         "amount changes the members it has; `custom` changes the custom fields it names (null "
         "clears one) and a null `custom` clears them all. A patch that changes nothing writes "
         "nothing: the answer is the " +
         one + " at its current version.";
}

// What a create takes: the record's writable fields, the links it may ask for and a
// migration's created_at and created_by.
template <typename T>
std::string create_schema(const Kind<T>& k) {
  return k.name + "Create";
}

template <typename T>
void add_records(RouteTable& table, const Kind<T>& k) {
  using enum Guard::RouteClass;
  using Handler = std::function<HttpResponse(ApiContext&, RouteCall&)>;
  const std::string list_path = "/v1/" + k.base, item = list_path + "/{id}";
  const std::string &one = k.one, &base = k.base;
  const json record = schema_ref(k.name);
  table.add_components([k](Builder& b) { record_schemas(k, b); });
  auto add = [&](const char* method, const std::string& path, Guard::RouteClass route_class,
                 Handler handler, Operation operation) {
    table.add({method, path, route_class, RouteAccess::kPrincipal, std::move(handler),
               std::move(operation)});
  };
  add("GET", list_path, kRead,
      [k](ApiContext& api, RouteCall& c) { return list(api, k.of(api, c), c); },
      {"list_" + base,
       "List " + base + ", filtered, sorted, a page at a time",
       {400, 422},
       [k](Builder&, json& o) { document_list(k, o); }});
  add("POST", list_path, kWrite,
      [k](ApiContext& api, RouteCall& c) { return create(api, k.of(api, c), k.base, c); },
      {"create_" + one, "Create a " + one, {400, 409, 415, 422}, [k, record](Builder&, json& o) {
         Builder::body(o, schema_ref(create_schema(k)));
         o["responses"]["201"] = Builder::ok("Created", record, {"ETag", "Location"});
       }});
  add("GET", item, kRead, [k](ApiContext& api, RouteCall& c) { return get(api, k.of(api, c), c); },
      {"get_" + one, "Get a " + one, {400, 404, 422}, [k, record](Builder&, json& o) {
         Builder::params(o, {"fields", "If-None-Match"});
         Builder::query(o, "as_of",
                        "The " + k.one +
                            " as it was at this time, rebuilt from the audit trail (404 when it "
                            "did not exist then)",
                        time_schema());
         const json selected = {{"anyOf", {record, schema_ref(k.name + "Selection")}}};
         o["responses"]["200"] = Builder::ok("The " + k.one, selected, {"ETag"});
         o["responses"]["304"] = Builder::not_modified();
       }});
  add("PATCH", item, kWrite,
      [k](ApiContext& api, RouteCall& c) { return patch(api, k.of(api, c), c); },
      {"update_" + one,
       "Change the fields present in the body (JSON Merge Patch)",
       {400, 404, 409, 412, 415, 422},
       [k, record](Builder&, json& o) {
         o["description"] = patch_description(k.one);
         Builder::params(o, {"If-Match"});
         const json body = schema_ref(k.name + "Patch");
         o["requestBody"] = {{"required", true},
                             {"content",
                              {{"application/merge-patch+json", {{"schema", body}}},
                               {"application/json", {{"schema", body}}}}}};
         o["responses"]["200"] = Builder::ok("The " + k.one + " after the patch", record, {"ETag"});
       }});
  add("DELETE", item, kWrite,
      [k](ApiContext& api, RouteCall& c) { return remove(api, k.of(api, c), c); },
      {"delete_" + one, "Delete a " + one, {400, 404, 409, 412}, [](Builder&, json& o) {
         Builder::params(o, {"If-Match"});
         o["responses"]["204"] = Builder::no_content();
       }});
  add("GET", item + "/history", kRead,
      [k](ApiContext& api, RouteCall& c) { return history(api, k.of(api, c), c); },
      {"history_of_" + one,
       "Every change to the " + one + "'s fields",
       {404},
       [](Builder&, json& o) {
         Builder::query(o, "field", "One field only (custom ones as custom.<name>)",
                        {{"type", "string"}});
         o["responses"]["200"] =
             Builder::ok("Oldest first; fields the caller may not see have null values",
                         list_of(schema_ref("FieldChange")));
       }});
  for (const bool archiving : {true, false}) {
    const std::string verb = archiving ? "archive" : "restore";
    add("POST", (item + '/').append(verb), kWrite,
        [k, archiving](ApiContext& api, RouteCall& c) {
          return archive(api, k.of(api, c), c, archiving);
        },
        {(verb + '_').append(one),
         archiving ? "Archive (hide from lists)" : "Restore",
         {400, 404, 409, 412},
         [record, one](Builder&, json& o) {
           Builder::params(o, {"If-Match"});
           o["responses"]["200"] = Builder::ok("The " + one, record, {"ETag"});
         }});
  }
  add("POST", list_path + "/batch", kBulk,
      [k](ApiContext& api, RouteCall& c) { return batch(api, k.of(api, c), c); },
      {"batch_create_" + base,
       "Create up to 100 " + base +
           ", all or nothing (a problem's field names the item, items[3].email), or each on "
           "its own with \"atomic\": false",
       {400, 409, 415, 422},
       [k, record](Builder&, json& o) {
         Builder::body(o, items_of(schema_ref(create_schema(k))));
         o["responses"]["201"] = Builder::ok("Created, in order", list_of(record));
         o["responses"]["207"] = multi_status(record);
       }});
  add("POST", list_path + "/upsert", kBulk,
      [k](ApiContext& api, RouteCall& c) { return upsert(api, k.of(api, c), k.base, c); },
      {"upsert_" + base,
       "Create or update one " + one + ", or up to 100 " + base + ", by external_id",
       {400, 409, 412, 415, 422},
       [k](Builder&, json& o) { document_upsert(k, o); }});
}

}  // namespace

void add_record_routes(RouteTable& table) {
  add_records<Contact>(table, {&Engine::contacts, "contacts", "Contact", "contact"});
  add_records<Company>(table, {&Engine::companies, "companies", "Company", "company"});
  add_records<Lead>(table, {&Engine::leads, "leads", "Lead", "lead"});
  add_records<Deal>(table, {&Engine::deals, "deals", "Deal", "deal"});
  add_records<Pipeline>(table, {&Engine::pipelines, "pipelines", "Pipeline", "pipeline"});
  add_records<Stage>(table, {&Engine::stages, "stages", "Stage", "stage"});
  add_records<Activity>(table, {&Engine::activities, "activities", "Activity", "activity"});
  add_records<User>(table, {&Engine::users, "users", "User", "user"});
  add_records<Team>(table, {&Engine::teams, "teams", "Team", "team"});
  add_records<Tag>(table, {&Engine::tags, "tags", "Tag", "tag"});
}

}  // namespace banyan::rest
