// Custom field definitions: read with their type's records, changed by its administrators;
// backfills of a value into every record without one.
#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

json backfill_json(const BackfillJobs::Progress& p) {
  json out{{"state", std::string(BackfillJobs::to_string(p.state))},
           {"filled", p.filled},
           {"left", p.left}};
  if (!p.error.empty()) out["error"] = p.error;
  return out;
}

// A definition as the single-definition routes answer it: with how many records of its
// type hold no value for it, and the latest backfill this process ran of it. `progress`
// is read before the unit of work begins, so that a backfill it calls done has committed
// before the count's snapshot (read inside, the count could predate what it reports).
json definition_answer(ApiContext& api, store::UnitOfWork& uow, const Who& who,
                       const CustomFieldDefinition& d,
                       const std::optional<BackfillJobs::Progress>& progress) {
  json out = definition_json(d);
  if (const auto without = api.engine.count_without_value(uow, who, d))
    out["records_without_value"] = *without;
  if (progress) out["backfill"] = backfill_json(*progress);
  return out;
}

// The value a backfill gives, checked against the definition before anything is written.
CustomValue backfill_value(const CustomFieldDefinition& d, const json& v) {
  CustomValue value = custom_value_of(v, "backfill");
  if (std::holds_alternative<std::monostate>(value))
    throw ValidationError("backfill: a value is needed", "backfill");
  try {
    store::check_custom_value(d, value);
  } catch (const ValidationError& e) {
    throw ValidationError(std::string("backfill: ") + e.what(), "backfill");
  }
  return value;
}

// The definitions as the request's principal may read and change them.
CustomFieldService definitions(ApiContext& api, RouteCall& c) {
  return api.engine.custom_fields(c.principal());
}

// GET /v1/custom-fields[?object_type=]: of one type, or of every type the principal reads.
HttpResponse list_definitions(ApiContext& api, RouteCall& c) {
  std::optional<ObjectType> type;
  if (auto wanted = query_value(c.target, "object_type")) type = parse_object_type(*wanted);
  const auto of = definitions(api, c);
  json items = json::array();
  api.db.read([&](store::UnitOfWork& uow) {
    for (const auto& d : of.list(uow, type)) items.push_back(definition_json(d));
  });
  return json_response(200, json{{"items", items}});
}

HttpResponse define(ApiContext& api, RouteCall& c) {
  const Who& who = c.principal();
  json body = api.body_object(c.request);
  std::optional<json> backfill;
  if (body.contains("backfill")) {
    backfill = body["backfill"];
    body.erase("backfill");
  }
  CustomFieldDefinition d;
  apply_definition_json(d, body, true);
  const auto of = definitions(api, c);
  std::optional<CustomValue> value;
  Id made_id = 0;
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    const auto made = of.define(uow, d);
    made_id = made.id;
    if (backfill) value = backfill_value(made, *backfill);
    // A backfill, if any, is queued: it starts once this commits.
    json answer = definition_answer(
        api, uow, who, made,
        value ? std::optional<BackfillJobs::Progress>(BackfillJobs::Progress{}) : std::nullopt);
    HttpResponse created = json_response(201, answer);
    created.headers.emplace_back("ETag", etag_of(made.version));
    created.headers.emplace_back("Location", "/v1/custom-fields/" + std::to_string(made.id));
    return created;
  });
  if (value) api.backfills.start(who, made_id, *value, c.request.remote);
  return out;
}

HttpResponse get_definition(ApiContext& api, RouteCall& c) {
  const Id id = c.id();
  const auto progress = api.backfills.progress(id);
  std::uint64_t version = 0;
  HttpResponse out = json_response(200, api.db.read([&](store::UnitOfWork& uow) {
    const auto d = definitions(api, c).get(uow, id);
    version = d.version;
    return definition_answer(api, uow, c.principal(), d, progress);
  }));
  if (none_match(c.request, version)) return not_modified(version);
  out.headers.emplace_back("ETag", etag_of(version));
  return out;
}

HttpResponse update_definition(ApiContext& api, RouteCall& c) {
  const json body = api.body_object(c.request);
  const auto expected = if_match(c.request);
  const auto progress = api.backfills.progress(c.id());
  const auto of = definitions(api, c);
  std::optional<ObjectType> now_sensitive;
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    auto d = of.administered(uow, c.id());  // refused before the version is compared
    check_version(expected, d.version);
    const bool was_sensitive = d.sensitive;
    apply_definition_json(d, body, false);
    const auto updated = of.update(uow, d);
    if (updated.sensitive && !was_sensitive) now_sensitive = updated.object_type;
    HttpResponse answer =
        json_response(200, definition_answer(api, uow, c.principal(), updated, progress));
    answer.headers.emplace_back("ETag", etag_of(updated.version));
    return answer;
  });
  if (now_sensitive && out.status == 200) {
    // The values already stored are sealed now, in batches, and the answer says how many.
    json answer = json::parse(out.body);
    answer["sealed_records"] = of.seal_sensitive_values(*now_sensitive);
    out.body = answer.dump();
  }
  return out;
}

HttpResponse remove_definition(ApiContext& api, RouteCall& c) {
  return api.write(c, [&](store::UnitOfWork& uow) {
    definitions(api, c).remove(uow, c.id());
    return no_content();
  });
}

HttpResponse start_backfill(ApiContext& api, RouteCall& c) {
  const json body = api.body_object(c.request);
  only_keys(body, {"value"});
  if (!body.contains("value"))
    throw ValidationError("value: the value to give records without one", "value");
  const auto [d, value] = api.db.read([&](store::UnitOfWork& uow) {
    auto def = definitions(api, c).administered(uow, c.id());
    return std::make_pair(def, backfill_value(def, body["value"]));
  });
  const auto progress = api.backfills.start(c.principal(), d.id, value, c.request.remote);
  HttpResponse out =
      json_response(202, json{{"field_id", d.id}, {"backfill", backfill_json(progress)}});
  out.headers.emplace_back("Location", "/v1/custom-fields/" + std::to_string(d.id));
  return out;
}

// The body's one string member `name` (required).
std::string string_member(const json& body, const char* name, const char* what) {
  only_keys(body, {name});
  if (!body.contains(name) || !body[name].is_string())
    throw ValidationError(std::string(name) + ": " + what + " is required", name);
  return body[name].get<std::string>();
}

// A definition as the answer of a change to it, with its version as the ETag.
HttpResponse definition_response(const CustomFieldDefinition& d) {
  HttpResponse out = json_response(200, definition_json(d));
  out.headers.emplace_back("ETag", etag_of(d.version));
  return out;
}

HttpResponse rename(ApiContext& api, RouteCall& c) {
  const std::string name = string_member(api.body_object(c.request), "name", "the new name");
  return api.write(c, [&](store::UnitOfWork& uow) {
    return definition_response(definitions(api, c).rename(uow, c.id(), name));
  });
}

HttpResponse change_type(ApiContext& api, RouteCall& c) {
  const auto type =
      parse_custom_field_type(string_member(api.body_object(c.request), "type", "the new type"));
  return api.write(c, [&](store::UnitOfWork& uow) {
    return definition_response(definitions(api, c).change_type(uow, c.id(), type));
  });
}

void definition_schemas(Builder& b) {
  json input = custom_field_definition_schema();
  input["properties"].erase("id");
  input["properties"].erase("version");
  input["properties"].erase("records_without_value");
  input["properties"].erase("sealed_records");
  input["properties"]["backfill"] = {
      {"description",
       "On create: a value given, batch by batch after the answer, to every existing record "
       "without one (follow it on GET /v1/custom-fields/{id})"},
      {"$ref", "#/components/schemas/CustomValue"}};
  input.erase("required");
  b.schemas()["CustomFieldDefinitionInput"] = input;
  json patch_input = input;
  patch_input["properties"].erase("backfill");
  b.schemas()["CustomFieldDefinitionPatch"] = patch_input;
}

}  // namespace

void add_custom_field_routes(RouteTable& table) {
  using enum Guard::RouteClass;
  const auto principal = RouteAccess::kPrincipal;
  const json definition = schema_ref("CustomFieldDefinition");
  const std::string list = "/v1/custom-fields", item = list + "/{id}";
  table.add_components(definition_schemas);
  table.add(
      {"GET",
       list,
       kRead,
       principal,
       list_definitions,
       {"list_custom_fields", "Custom field definitions", {422}, [definition](Builder&, json& o) {
          Builder::query(o, "object_type", "", enum_schema(ObjectType::kActivity));
          o["responses"]["200"] =
              Builder::ok("Every definition (of one object type if asked)", list_of(definition));
        }}});
  table.add({"POST",
             list,
             kWrite,
             principal,
             define,
             {"define_custom_field",
              "Define a custom field (object_type, name and type required)",
              {400, 409, 415, 422},
              [definition](Builder&, json& o) {
                Builder::body(o, schema_ref("CustomFieldDefinitionInput"));
                o["responses"]["201"] = Builder::ok("Defined", definition, {"ETag", "Location"});
              }}});
  table.add({"GET",
             item,
             kRead,
             principal,
             get_definition,
             {"get_custom_field", "A definition", {400, 404}, [definition](Builder&, json& o) {
                Builder::params(o, {"If-None-Match"});
                o["responses"]["200"] = Builder::ok("The definition", definition, {"ETag"});
                o["responses"]["304"] = Builder::not_modified();
              }}});
  table.add({"PATCH",
             item,
             kWrite,
             principal,
             update_definition,
             {"update_custom_field",
              "Change label, rules, options, default",
              {400, 404, 412, 415, 422},
              [definition](Builder&, json& o) {
                Builder::params(o, {"If-Match"});
                Builder::body(o, schema_ref("CustomFieldDefinitionPatch"));
                o["responses"]["200"] = Builder::ok("The changed definition", definition, {"ETag"});
              }}});
  table.add(
      {"DELETE",
       item,
       kWrite,
       principal,
       remove_definition,
       {"delete_custom_field", "Remove a definition and its values", {404}, [](Builder&, json& o) {
          o["responses"]["204"] = Builder::no_content();
        }}});
  table.add({"POST",
             item + "/backfill",
             kWrite,
             principal,
             start_backfill,
             {"backfill_custom_field",
              "Give a value to every record of the field's type that has none",
              {400, 404, 415, 422},
              [](Builder&, json& o) {
                o["description"] =
                    "Runs after the answer, a batch of records per transaction, each an ordinary "
                    "update (a new version, an event, an audit entry). Progress: GET "
                    "/v1/custom-fields/{id}.";
                Builder::body(o, object_of({{"value", schema_ref("CustomValue")}}, {"value"}));
                o["responses"]["202"] = Builder::ok(
                    "Queued",
                    object_of({{"field_id", id_schema()}, {"backfill", schema_ref("Backfill")}},
                              {"field_id", "backfill"}),
                    {"Location"});
              }}});
  table.add({"POST",
             item + "/rename",
             kWrite,
             principal,
             rename,
             {"rename_custom_field",
              "Rename, keeping the values",
              {400, 404, 409, 415, 422},
              [definition](Builder&, json& o) {
                Builder::body(o, object_of({{"name", {{"type", "string"}}}}, {"name"}));
                o["responses"]["200"] = Builder::ok("The renamed definition", definition, {"ETag"});
              }}});
  table.add({"POST",
             item + "/type",
             kWrite,
             principal,
             change_type,
             {"change_custom_field_type",
              "Change the type, converting the stored values",
              {400, 404, 415, 422},
              [definition](Builder&, json& o) {
                Builder::body(
                    o, object_of({{"type", enum_schema(CustomFieldType::kCurrency)}}, {"type"}));
                o["responses"]["200"] = Builder::ok("The changed definition", definition, {"ETag"});
              }}});
}

}  // namespace banyan::rest
