#include "openapi.hpp"

#include <algorithm>
#include <initializer_list>
#include <tuple>
#include <vector>

#include "banyan/banyan.hpp"
#include "record_json.hpp"

namespace banyan::server {

namespace {

json schema_ref(const std::string& schema) { return {{"$ref", "#/components/schemas/" + schema}}; }
json nullable(const json& schema) { return {{"anyOf", {schema, {{"type", "null"}}}}}; }
json id_schema() { return {{"type", "integer"}, {"minimum", 1}}; }
json object_of(const json& properties, const json& required) {
  return {{"type", "object"},
          {"properties", properties},
          {"required", required},
          {"additionalProperties", false}};
}
json list_of(const json& items) {
  return object_of({{"items", {{"type", "array"}, {"items", items}}}}, {"items"});
}

json problem_schema() {
  return object_of(
      {{"type", {{"type", "string"}, {"format", "uri"}}},
       {"title", {{"type", "string"}}},
       {"status", {{"type", "integer"}, {"minimum", 400}, {"maximum", 599}}},
       {"code",
        {{"type", "string"},
         {"description", "Stable and machine-readable: not_found, validation, ..."}}},
       {"detail", {{"type", "string"}}},
       {"request_id", {{"type", "string"}}},
       {"field", {{"type", "string"}, {"description", "The field at fault, when there is one"}}}},
      {"type", "title", "status", "code", "detail", "request_id"});
}

const char* status_meaning(int status) {
  switch (status) {
    case 400:
      return "Malformed: the URL, a header, or the body is not valid JSON within the limits";
    case 404:
      return "No such record";
    case 409:
      return "Conflicts with stored data (a duplicate key, a record still referenced)";
    case 412:
      return "If-Match names a version that is no longer the stored one";
    case 415:
      return "The body is not application/json";
    case 422:
      return "Valid JSON that breaks a rule; `field` names the field";
    case 503:
      return "The database does not answer";
    default:
      return "An error";
  }
}

// Builds the operations of the document; every one carries the request id header, a
// problem for any status it does not list, and the errors it names.
class Builder {
 public:
  json doc;

  Builder() {
    doc = {{"openapi", "3.1.0"},
           {"info",
            {{"title", "Banyan"},
             {"version", "1"},
             {"description",
              "The REST API of banyan-server, an embeddable CRM engine. Errors are RFC 9457 "
              "problems (application/problem+json) with a stable `code`."}}},
           {"paths", json::object()}};
    json& c = doc["components"];
    // Every operation needs a bearer credential (an API key or, when the server is set up
    // for an OIDC issuer, its access token) unless it says otherwise.
    c["securitySchemes"]["bearer"] = {
        {"type", "http"},
        {"scheme", "bearer"},
        {"description",
         "An API key (banyan apikey create) or, with --oidc-issuer, an "
         "access token (a JWT) of that issuer, sent as "
         "Authorization: Bearer <credential>"}};
    doc["security"] = json::array({{{"bearer", json::array()}}});
    c["headers"]["WWW-Authenticate"] = {
        {"description", "The scheme to use, and why the credential was refused"},
        {"required", true},
        {"schema", {{"type", "string"}}}};
    c["schemas"]["Problem"] = problem_schema();
    c["schemas"]["Money"] = money_schema();
    c["schemas"]["CustomValue"] = custom_value_schema();
    c["schemas"]["CustomFieldDefinition"] = custom_field_definition_schema();
    c["schemas"]["Backfill"] = backfill_schema();
    c["headers"]["X-Request-Id"] = {
        {"description", "This request's id, also in the access log and in problems"},
        {"required", true},
        {"schema", {{"type", "string"}}}};
    c["headers"]["ETag"] = {
        {"description", "The record's version, quoted: send it back in If-Match"},
        {"required", true},
        {"schema", {{"type", "string"}}}};
    c["headers"]["Location"] = {{"description", "Where the new record lives"},
                                {"required", true},
                                {"schema", {{"type", "string"}}}};
    auto param = [&](const char* name, const char* in, const char* description,
                     const json& schema) {
      c["parameters"][name] = {
          {"name", name}, {"in", in}, {"description", description}, {"schema", schema}};
      if (std::string(in) == "path") c["parameters"][name]["required"] = true;
    };
    param("id", "path", "A record id", id_schema());
    param("If-Match", "header",
          "The version the change is based on (an ETag); a stale one gives 412",
          {{"type", "string"}});
    param("Idempotency-Key", "header",
          "1 to 255 printable ASCII characters. A retry with the same key and request returns the "
          "first response "
          "(with Idempotent-Replayed: true) and changes nothing; kept for 24 hours",
          {{"type", "string"}, {"minLength", 1}, {"maxLength", 255}});
    param("X-Request-Id", "header",
          "A request id of your own (letters, digits, - _ .; up to 64), else one is made",
          {{"type", "string"}});
    param("limit", "query", "Page size",
          {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}, {"default", 50}});
    param("cursor", "query", "The `next` of the previous page", {{"type", "string"}});
    param("sort", "query", "A field to sort by; a leading - sorts descending",
          {{"type", "string"}});
    param("fields", "query", "Comma-separated fields to return (id always comes)",
          {{"type", "string"}});
    param("include_archived", "query", "Archived records too",
          {{"type", "boolean"}, {"default", false}});
  }

  json& op(const std::string& path, const std::string& method, const std::string& id,
           const std::string& summary, std::initializer_list<int> errors) {
    json& o = doc["paths"][path][method];
    o["operationId"] = id;
    o["summary"] = summary;
    o["parameters"] = json::array({{{"$ref", "#/components/parameters/X-Request-Id"}}});
    if (method == "post")
      o["parameters"].push_back({{"$ref", "#/components/parameters/Idempotency-Key"}});
    o["responses"]["default"] = problem("Any other error: 405, 413, 429, 431, 503, ...");
    o["responses"]["401"] =
        problem("No valid credentials: none, malformed, unknown, revoked or expired");
    o["responses"]["401"]["headers"]["WWW-Authenticate"] = {
        {"$ref", "#/components/headers/WWW-Authenticate"}};
    o["responses"]["403"] = problem("The principal's roles do not allow this");
    for (int status : errors)
      o["responses"][std::to_string(status)] = problem(status_meaning(status));
    return o;
  }

  // An operation anyone may call, without credentials.
  json& public_op(const std::string& path, const std::string& id, const std::string& summary,
                  std::initializer_list<int> errors) {
    json& o = op(path, "get", id, summary, errors);
    o["security"] = json::array();
    o["responses"].erase("401");
    o["responses"].erase("403");
    return o;
  }

  static json problem(const std::string& description) {
    return {{"description", description},
            {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}},
            {"content", {{"application/problem+json", {{"schema", schema_ref("Problem")}}}}}};
  }

  // A JSON response; `headers` names components/headers beyond the request id.
  static json ok(const std::string& description, const json& schema,
                 std::initializer_list<const char*> headers = {}) {
    json out = {{"description", description},
                {"content", {{"application/json", {{"schema", schema}}}}}};
    out["headers"]["X-Request-Id"] = {{"$ref", "#/components/headers/X-Request-Id"}};
    for (const char* h : headers)
      out["headers"][h] = {{"$ref", std::string("#/components/headers/") + h}};
    return out;
  }
  static json no_content() {
    return {{"description", "Done"},
            {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}}};
  }

  static void body(json& o, const json& schema) {
    o["requestBody"] = {{"required", true},
                        {"content", {{"application/json", {{"schema", schema}}}}}};
  }
  static void params(json& o, std::initializer_list<const char*> names) {
    for (const char* n : names)
      o["parameters"].push_back({{"$ref", std::string("#/components/parameters/") + n}});
  }
  void path_id(const std::string& path) {
    doc["paths"][path]["parameters"] = json::array({{{"$ref", "#/components/parameters/id"}}});
  }

  // A record type: its schemas and its CRUD, archive, batch and upsert routes.
  template <typename T>
  void resource(const std::string& base, const std::string& name, const std::string& one) {
    json& schemas = doc["components"]["schemas"];
    json properties = json::object(), input = json::object(), required = json::array();
    std::string filterable;
    for (const auto& f : json_fields<T>()) {
      properties[f.name] = f.schema;
      required.push_back(f.name);
      if (f.writable) input[f.name] = f.schema;
      if (f.kind != FieldKind::kOther) filterable += (filterable.empty() ? "" : ", ") + f.name;
    }
    schemas[name] = object_of(properties, required);
    schemas[name + "Selection"] = object_of(properties, {"id"});
    schemas[name + "Selection"]["description"] = "The fields asked for with `fields`, and id";
    schemas[name + "Input"] = {
        {"type", "object"}, {"properties", input}, {"additionalProperties", false}};
    const json record = schema_ref(name);
    const json selected = {{"anyOf", {record, schema_ref(name + "Selection")}}};

    const std::string list_path = "/v1/" + base, item = list_path + "/{id}";
    json& list = op(list_path, "get", "list_" + base,
                    "List " + base + ", filtered, sorted, a page at a time", {400, 422});
    list["description"] =
        "Filters: `field=value` or `field[op]=value` with op one of eq, ne, lt, le, gt, ge, "
        "contains, starts_with, "
        "in (comma-separated), is_null (true or false); every condition must hold. Filterable: " +
        filterable + ", and custom fields as `custom.<name>`, typed by their definition.";
    params(list, {"limit", "cursor", "sort", "fields", "include_archived"});
    list["responses"]["200"] = ok("A page; `next` is null on the last",
                                  object_of({{"items", {{"type", "array"}, {"items", selected}}},
                                             {"next", {{"type", {"string", "null"}}}}},
                                            {"items", "next"}));
    json& create = op(list_path, "post", "create_" + one, "Create a " + one, {400, 409, 415, 422});
    body(create, schema_ref(name + "Input"));
    create["responses"]["201"] = ok("Created", record, {"ETag", "Location"});

    path_id(item);
    json& get = op(item, "get", "get_" + one, "Get a " + one, {404, 422});
    params(get, {"fields"});
    get["parameters"].push_back(
        {{"name", "as_of"},
         {"in", "query"},
         {"description", "The " + one +
                             " as it was at this time, rebuilt from the audit trail "
                             "(404 when it did not exist then)"},
         {"schema", {{"type", "string"}, {"format", "date-time"}}}});
    get["responses"]["200"] = ok("The " + one, selected, {"ETag"});
    path_id(item + "/history");
    json& history = op(item + "/history", "get", "history_of_" + one,
                       "Every change to the " + one + "'s fields", {404});
    history["parameters"].push_back(
        {{"name", "field"},
         {"in", "query"},
         {"description", "One field only (custom ones as custom.<name>)"},
         {"schema", {{"type", "string"}}}});
    history["responses"]["200"] = ok("Oldest first; fields the caller may not see have null values",
                                     list_of(schema_ref("FieldChange")));
    json& patch = op(item, "patch", "update_" + one,
                     "Change the fields present in the body (JSON Merge Patch)",
                     {400, 404, 409, 412, 415, 422});
    patch["description"] =
        "RFC 7396 JSON Merge Patch, sent as application/merge-patch+json or application/json: the "
        "members present "
        "change, null clears one, the rest stay as stored. An object for amount changes the "
        "members it has; `custom` "
        "changes the custom fields it names (null clears one) and a null `custom` clears them all. "
        "A patch that "
        "changes nothing writes nothing: the answer is the " +
        one + " at its current version.";
    params(patch, {"If-Match"});
    schemas[name + "Patch"] = schemas[name + "Input"];
    schemas[name + "Patch"]["properties"]["custom"] =
        nullable(schemas[name + "Input"]["properties"]["custom"]);
    const json patch_body = schema_ref(name + "Patch");
    patch["requestBody"] = {{"required", true},
                            {"content",
                             {{"application/merge-patch+json", {{"schema", patch_body}}},
                              {"application/json", {{"schema", patch_body}}}}}};
    patch["responses"]["200"] = ok("The " + one + " after the patch", record, {"ETag"});
    json& remove = op(item, "delete", "delete_" + one, "Delete a " + one, {404, 409});
    remove["responses"]["204"] = no_content();
    for (const std::string verb : {"archive", "restore"}) {
      path_id(item + "/" + verb);
      json& o = op(item + "/" + verb, "post", verb + "_" + one,
                   verb == "archive" ? "Archive (hide from lists)" : "Restore", {404, 409});
      o["responses"]["200"] = ok("The " + one, record, {"ETag"});
    }
    const json batch = object_of({{"items",
                                   {{"type", "array"},
                                    {"items", schema_ref(name + "Input")},
                                    {"minItems", 1},
                                    {"maxItems", 100}}}},
                                 {"items"});
    json& b = op(list_path + "/batch", "post", "batch_create_" + base,
                 "Create up to 100 " + base +
                     ", all or nothing; a problem's field names the item (items[3].email)",
                 {400, 409, 415, 422});
    body(b, batch);
    b["responses"]["201"] = ok("Created, in order", list_of(record));
    json& u = op(list_path + "/upsert", "post", "upsert_" + base,
                 "Create or update one " + one + ", or up to 100 " + base + ", by external_id",
                 {400, 409, 412, 415, 422});
    u["description"] =
        "Each record is found by its external_id (required): when there is one, the fields given "
        "change as a JSON "
        "Merge Patch does (the rest stay); else it is created. Each is reported as created, "
        "updated or unchanged (an "
        "unchanged one writes nothing). A batch ({\"items\": [...]}) is all or nothing; a "
        "problem's field names the "
        "item. A single " +
        one + " answers 201 when created, else 200. External ids are unique across every " + one +
        ", so only a principal that reads them all may write one (403 with field external_id "
        "otherwise, whether the "
        "id is taken or not).";
    json keyed = schemas[name + "Input"];
    keyed["required"] = {"external_id"};
    schemas[name + "Upsert"] = keyed;
    const json upsert_batch = object_of({{"items",
                                          {{"type", "array"},
                                           {"items", schema_ref(name + "Upsert")},
                                           {"minItems", 1},
                                           {"maxItems", 100}}}},
                                        {"items"});
    body(u, {{"anyOf", {schema_ref(name + "Upsert"), upsert_batch}}});
    const json outcome = {{"type", "string"}, {"enum", {"created", "updated", "unchanged"}}};
    schemas[name + "UpsertResult"] =
        object_of({{"outcome", outcome}, {"record", record}}, {"outcome", "record"});
    const json count = {{"type", "integer"}, {"minimum", 0}};
    const json batch_result =
        object_of({{"items", {{"type", "array"}, {"items", schema_ref(name + "UpsertResult")}}},
                   {"created", count},
                   {"updated", count},
                   {"unchanged", count}},
                  {"items", "created", "updated", "unchanged"});
    u["responses"]["201"] =
        ok("One " + one + ", created", schema_ref(name + "UpsertResult"), {"ETag", "Location"});
    u["responses"]["200"] = ok("One " + one + " updated or unchanged, or a batch, in order",
                               {{"anyOf", {schema_ref(name + "UpsertResult"), batch_result}}});
    u["responses"]["200"]["headers"]["ETag"] = {{"description", "The version of a single record"},
                                                {"schema", {{"type", "string"}}}};
  }

  template <typename T>
  void merge(const std::string& base, const std::string& name) {
    const std::string path = "/v1/" + base + "/{id}/merge";
    path_id(path);
    json& o = op(path, "post", "merge_" + base, "Merge duplicates into this record (the survivor)",
                 {400, 404, 409, 415, 422});
    body(o, object_of({{"losers", {{"type", "array"}, {"items", id_schema()}, {"minItems", 1}}},
                       {"winners",
                        {{"type", "object"},
                         {"description", "Per field, the record whose value the survivor keeps"},
                         {"additionalProperties", id_schema()}}}},
                      {"losers"}));
    o["responses"]["200"] = ok("The survivor and the merged ids",
                               object_of({{"survivor", schema_ref(name)},
                                          {"merged", {{"type", "array"}, {"items", id_schema()}}}},
                                         {"survivor", "merged"}));
  }

  void actions() {
    json& schemas = doc["components"]["schemas"];
    path_id("/v1/leads/{id}/convert");
    json& convert =
        op("/v1/leads/{id}/convert", "post", "convert_lead",
           "Convert a lead into a contact, a company (new or given) and optionally a deal",
           {400, 404, 409, 415, 422});
    const json& deal_input = schemas["DealInput"]["properties"];
    body(convert, {{"type", "object"},
                   {"properties",
                    {{"company_id", nullable(id_schema())},
                     {"deal", nullable(object_of({{"pipeline_id", deal_input["pipeline_id"]},
                                                  {"stage_id", deal_input["stage_id"]},
                                                  {"title", deal_input["title"]},
                                                  {"amount", deal_input["amount"]},
                                                  {"expected_close", deal_input["expected_close"]},
                                                  {"contact_role", enum_schema(DealRole::kOther)}},
                                                 {"pipeline_id", "stage_id"}))}}},
                   {"additionalProperties", false}});
    convert["responses"]["200"] =
        ok("What the conversion made",
           object_of({{"lead", schema_ref("Lead")},
                      {"contact", schema_ref("Contact")},
                      {"company", schema_ref("Company")},
                      {"company_created", {{"type", "boolean"}}},
                      {"deal", nullable(schema_ref("Deal"))}},
                     {"lead", "contact", "company", "company_created", "deal"}));
    merge<Contact>("contacts", "Contact");
    merge<Company>("companies", "Company");
    merge<Lead>("leads", "Lead");
    path_id("/v1/deals/{id}/stage");
    json& stage = op("/v1/deals/{id}/stage", "post", "move_deal",
                     "Move a deal to another stage of its pipeline", {400, 404, 412, 415, 422});
    params(stage, {"If-Match"});
    body(stage, object_of({{"stage_id", id_schema()}}, {"stage_id"}));
    stage["description"] =
        "Moving to a won or lost stage wins or loses the deal (its status and closed_at follow); "
        "a won or lost deal moves only once reopened.";
    stage["responses"]["200"] = ok("The moved deal", schema_ref("Deal"), {"ETag"});
    path_id("/v1/deals/{id}/reopen");
    json& reopen =
        op("/v1/deals/{id}/reopen", "post", "reopen_deal",
           "Reopen a won or lost deal (open again, closed_at cleared; the event deal.reopened)",
           {400, 404, 409, 412, 415, 422});
    reopen["description"] =
        "Into `stage_id` (an open stage of its pipeline), or else the open stage it left when it "
        "closed. An empty body is fine.";
    params(reopen, {"If-Match"});
    reopen["requestBody"] = {
        {"required", false},
        {"content",
         {{"application/json",
           {{"schema", object_of({{"stage_id", id_schema()}}, json::array())}}}}}};
    reopen["responses"]["200"] = ok("The reopened deal", schema_ref("Deal"), {"ETag"});
    path_id("/v1/deals/{id}/stage-history");
    json& history = op("/v1/deals/{id}/stage-history", "get", "deal_stage_history",
                       "Every stage move of a deal", {404});
    history["responses"]["200"] =
        ok("Oldest first",
           list_of(object_of({{"from_stage_id", {{"type", {"integer", "null"}}}},
                              {"to_stage_id", id_schema()},
                              {"changed_at", {{"type", "string"}, {"format", "date-time"}}},
                              {"changed_by", {{"type", {"integer", "null"}}}},
                              {"seconds_in_previous_stage", {{"type", {"number", "null"}}}}},
                             {"from_stage_id", "to_stage_id", "changed_at", "changed_by",
                              "seconds_in_previous_stage"})));
  }

  void custom_fields() {
    const json definition = schema_ref("CustomFieldDefinition");
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
    doc["components"]["schemas"]["CustomFieldDefinitionInput"] = input;
    json patch_input = input;
    patch_input["properties"].erase("backfill");
    doc["components"]["schemas"]["CustomFieldDefinitionPatch"] = patch_input;
    json& list =
        op("/v1/custom-fields", "get", "list_custom_fields", "Custom field definitions", {422});
    list["parameters"].push_back(
        {{"name", "object_type"}, {"in", "query"}, {"schema", enum_schema(ObjectType::kActivity)}});
    list["responses"]["200"] =
        ok("Every definition (of one object type if asked)", list_of(definition));
    json& define =
        op("/v1/custom-fields", "post", "define_custom_field",
           "Define a custom field (object_type, name and type required)", {400, 409, 415, 422});
    body(define, schema_ref("CustomFieldDefinitionInput"));
    define["responses"]["201"] = ok("Defined", definition, {"Location"});
    const std::string item = "/v1/custom-fields/{id}";
    path_id(item);
    op(item, "get", "get_custom_field", "A definition", {404})["responses"]["200"] =
        ok("The definition", definition);
    json& patch = op(item, "patch", "update_custom_field", "Change label, rules, options, default",
                     {400, 404, 412, 415, 422});
    params(patch, {"If-Match"});
    body(patch, schema_ref("CustomFieldDefinitionPatch"));
    patch["responses"]["200"] = ok("The changed definition", definition);
    path_id(item + "/backfill");
    json& backfill =
        op(item + "/backfill", "post", "backfill_custom_field",
           "Give a value to every record of the field's type that has none", {400, 404, 415, 422});
    backfill["description"] =
        "Runs after the answer, a batch of records per transaction, each an ordinary update "
        "(a new version, an event, an audit entry). Progress: GET /v1/custom-fields/{id}.";
    body(backfill, object_of({{"value", schema_ref("CustomValue")}}, {"value"}));
    backfill["responses"]["202"] =
        ok("Queued",
           object_of({{"field_id", id_schema()}, {"backfill", schema_ref("Backfill")}},
                     {"field_id", "backfill"}),
           {"Location"});
    op(item, "delete", "delete_custom_field", "Remove a definition and its values",
       {404})["responses"]["204"] = no_content();
    path_id(item + "/rename");
    json& rename = op(item + "/rename", "post", "rename_custom_field", "Rename, keeping the values",
                      {400, 404, 409, 415, 422});
    body(rename, object_of({{"name", {{"type", "string"}}}}, {"name"}));
    rename["responses"]["200"] = ok("The renamed definition", definition);
    path_id(item + "/type");
    json& type = op(item + "/type", "post", "change_custom_field_type",
                    "Change the type, converting the stored values", {400, 404, 415, 422});
    body(type, object_of({{"type", enum_schema(CustomFieldType::kCurrency)}}, {"type"}));
    type["responses"]["200"] = ok("The changed definition", definition);
  }

  // Roles, role assignments and API keys (administrators).
  void access() {
    const json time = {{"type", "string"}, {"format", "date-time"}};
    const json nullable_time = {{"type", {"string", "null"}}, {"format", "date-time"}};
    json& schemas = doc["components"]["schemas"];
    schemas["Grant"] = object_of(
        {{"type", enum_schema(ObjectType::kActivity)},
         {"action",
          {{"type", "string"},
           {"enum", {"read", "create", "update", "delete", "export", "read_sensitive", "admin"}}}},
         {"scope", {{"type", "string"}, {"enum", {"none", "own", "team", "all"}}}}},
        {"type", "action", "scope"});
    schemas["Role"] = object_of({{"name", {{"type", "string"}}},
                                 {"description", {{"type", "string"}}},
                                 {"grants", list_of(schema_ref("Grant"))["properties"]["items"]},
                                 {"built_in", {{"type", "boolean"}}}},
                                {"name", "description", "grants", "built_in"});
    schemas["ApiKey"] = object_of(
        {{"id", id_schema()},
         {"user_id", id_schema()},
         {"name", {{"type", "string"}}},
         {"prefix", {{"type", "string"}, {"description", "The public part, safe to show"}}},
         {"created_at", time},
         {"last_used_at", nullable_time},
         {"revoked_at", nullable_time}},
        {"id", "user_id", "name", "prefix", "created_at", "last_used_at", "revoked_at"});
    json issued = schemas["ApiKey"];
    issued["properties"]["secret"] = {{"type", "string"},
                                      {"description", "The key itself, shown this once only"}};
    issued["required"].push_back("secret");
    schemas["IssuedApiKey"] = issued;
    const json grants_input = {{"type", "array"}, {"items", schema_ref("Grant")}};

    json& list = op("/v1/roles", "get", "list_roles", "Every role, built-in and custom", {});
    list["responses"]["200"] = ok("The roles", list_of(schema_ref("Role")));
    json& create =
        op("/v1/roles", "post", "create_role", "Define a custom role", {400, 409, 415, 422});
    body(create, object_of({{"name", {{"type", "string"}}},
                            {"description", {{"type", "string"}}},
                            {"grants", grants_input}},
                           {"name"}));
    create["responses"]["201"] = ok("Defined", schema_ref("Role"), {"Location"});
    doc["paths"]["/v1/roles/{name}"]["parameters"] = json::array(
        {{{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
    op("/v1/roles/{name}", "get", "get_role", "A role", {404})["responses"]["200"] =
        ok("The role", schema_ref("Role"));
    json& change = op("/v1/roles/{name}", "patch", "update_role",
                      "Change a custom role's description or grants", {400, 404, 409, 415, 422});
    body(change, object_of({{"description", {{"type", "string"}}}, {"grants", grants_input}},
                           json::array()));
    change["responses"]["200"] = ok("The changed role", schema_ref("Role"));
    op("/v1/roles/{name}", "delete", "delete_role", "Delete a custom role no one holds",
       {404, 409})["responses"]["204"] = no_content();

    path_id("/v1/users/{id}/roles");
    op("/v1/users/{id}/roles", "get", "list_user_roles", "The roles a user holds",
       {404})["responses"]["200"] = ok("Role names", list_of({{"type", "string"}}));
    doc["paths"]["/v1/users/{id}/roles/{role}"]["parameters"] = json::array(
        {{{"$ref", "#/components/parameters/id"}},
         {{"name", "role"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
    op("/v1/users/{id}/roles/{role}", "put", "assign_role", "Give a user a role (idempotent)",
       {404, 422})["responses"]["204"] = no_content();
    op("/v1/users/{id}/roles/{role}", "delete", "revoke_role", "Take a role away (idempotent)",
       {404})["responses"]["204"] = no_content();

    path_id("/v1/users/{id}/api-keys");
    op("/v1/users/{id}/api-keys", "get", "list_api_keys", "A user's API keys, newest first",
       {404})["responses"]["200"] =
        ok("The keys (never their secrets)", list_of(schema_ref("ApiKey")));
    json& issue = op("/v1/users/{id}/api-keys", "post", "create_api_key",
                     "Issue an API key acting as the user", {400, 404, 415, 422});
    body(issue, object_of({{"name", {{"type", "string"}}}}, {"name"}));
    issue["responses"]["201"] =
        ok("The key with its secret, shown this once", schema_ref("IssuedApiKey"), {"Location"});
    path_id("/v1/api-keys/{id}");
    op("/v1/api-keys/{id}", "get", "get_api_key", "An API key", {404})["responses"]["200"] =
        ok("The key", schema_ref("ApiKey"));
    op("/v1/api-keys/{id}", "delete", "revoke_api_key",
       "Revoke an API key (at once; cached for up to 5 s)", {404})["responses"]["200"] =
        ok("The revoked key", schema_ref("ApiKey"));
  }

  void admin() {
    const json time = {{"type", "string"}, {"format", "date-time"}};
    doc["components"]["schemas"]["DeadLetter"] = object_of(
        {{"id", id_schema()},
         {"queue", {{"type", "string"}}},
         {"event",
          object_of({{"id", {{"type", "string"}}},
                     {"sequence", {{"type", "integer"}}},
                     {"type", {{"type", "string"}}},
                     {"aggregate_type", enum_schema(ObjectType::kActivity)},
                     {"aggregate_id", {{"type", "integer"}}},
                     {"payload",
                      {{"type", "string"}, {"description", "The event's JSON payload, as text"}}}},
                    {"id", "sequence", "type", "aggregate_type", "aggregate_id", "payload"})},
         {"attempts", {{"type", "integer"}}},
         {"first_failed_at", time},
         {"last_failed_at", time},
         {"last_error", {{"type", "string"}}},
         {"error_class", enum_schema(messaging::ErrorClass::kPermanent)},
         {"consumer", {{"type", "string"}}},
         {"dead_at", time},
         {"replayed_at", {{"type", {"string", "null"}}, {"format", "date-time"}}},
         {"replays", {{"type", "integer"}}}},
        {"id", "queue", "event", "attempts", "first_failed_at", "last_failed_at", "last_error",
         "error_class", "consumer", "dead_at", "replayed_at", "replays"});
    auto filters = [](json& o) {
      o["parameters"].push_back(
          {{"name", "queue"}, {"in", "query"}, {"schema", {{"type", "string"}}}});
      o["parameters"].push_back({{"name", "type"},
                                 {"in", "query"},
                                 {"description", "Event type"},
                                 {"schema", {{"type", "string"}}}});
      o["parameters"].push_back({{"name", "error"},
                                 {"in", "query"},
                                 {"description", "Text in the last error"},
                                 {"schema", {{"type", "string"}}}});
      o["parameters"].push_back(
          {{"name", "include_replayed"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}});
    };
    const std::string base = "/v1/admin/dead-letters";
    json& list = op(base, "get", "list_dead_letters", "Dead letters, newest first", {422});
    filters(list);
    params(list, {"limit"});
    list["parameters"].push_back({{"name", "before"},
                                  {"in", "query"},
                                  {"description", "The `next` of the previous page"},
                                  {"schema", {{"type", "string"}}}});
    list["responses"]["200"] =
        ok("A page", object_of({{"items", {{"type", "array"}, {"items", schema_ref("DeadLetter")}}},
                                {"next", {{"type", {"string", "null"}}}}},
                               {"items", "next"}));
    op(base + "/stats", "get", "dead_letter_stats", "Depth and oldest age per queue",
       {})["responses"]["200"] =
        ok("Per queue", list_of(object_of({{"queue", {{"type", "string"}}},
                                           {"depth", {{"type", "integer"}}},
                                           {"oldest_age_seconds", {{"type", "number"}}}},
                                          {"queue", "depth", "oldest_age_seconds"})));
    const json replayed =
        object_of({{"replayed", {{"type", "integer"}, {"minimum", 0}}}}, {"replayed"});
    json& replay_all =
        op(base + "/replay", "post", "replay_dead_letters",
           "Send the matching dead letters back to their queues (attempts reset)", {422});
    filters(replay_all);
    replay_all["responses"]["200"] =
        ok("How many went back, and those a saga could not take back, with why",
           object_of({{"replayed", {{"type", "integer"}, {"minimum", 0}}},
                      {"refused",
                       {{"type", "array"},
                        {"items", object_of({{"id", id_schema()}, {"reason", {{"type", "string"}}}},
                                            {"id", "reason"})}}}},
                     {"replayed", "refused"}));
    path_id(base + "/{id}");
    op(base + "/{id}", "get", "get_dead_letter", "A dead letter", {404})["responses"]["200"] =
        ok("It", schema_ref("DeadLetter"));
    op(base + "/{id}", "delete", "purge_dead_letter", "Purge a dead letter",
       {404})["responses"]["204"] = no_content();
    path_id(base + "/{id}/replay");
    op(base + "/{id}/replay", "post", "replay_dead_letter",
       "Send one dead letter back to its queue (409 with the reason when its saga cannot take it "
       "back)",
       {404, 409})["responses"]["200"] = ok("Sent back", replayed);

    const json nullable_id = {{"type", {"integer", "null"}}};
    const json any = json::object();
    doc["components"]["schemas"]["FieldChange"] =
        object_of({{"entry", id_schema()},
                   {"at", time},
                   {"actor_id", nullable_id},
                   {"actor", {{"type", "string"}}},
                   {"action", {{"type", "string"}}},
                   {"field", {{"type", "string"}}},
                   {"before", any},
                   {"after", any}},
                  {"entry", "at", "actor_id", "actor", "action", "field", "before", "after"});
    doc["components"]["schemas"]["AuditEntry"] =
        object_of({{"id", id_schema()},
                   {"at", time},
                   {"actor_id", nullable_id},
                   {"actor", {{"type", "string"}}},
                   {"origin", {{"type", "string"}, {"description", "The client address"}}},
                   {"action",
                    {{"type", "string"},
                     {"enum",
                      {"created", "updated", "archived", "restored", "deleted", "merged",
                       "converted", "role_assigned", "role_revoked", "team_joined", "team_left",
                       "api_key_created", "api_key_revoked", "identity_linked", "identity_unlinked",
                       "role_created", "role_updated", "role_deleted", "denied"}}}},
                   {"object_type", enum_schema(ObjectType::kActivity)},
                   {"object_id", {{"type", "integer"}, {"minimum", 0}}},
                   {"changes",
                    {{"type", "object"},
                     {"description", "{\"field\": [before, after], ...}, values as stored"}}},
                   {"detail", {{"type", "string"}}},
                   {"hash", {{"type", "string"}}}},
                  {"id", "at", "actor_id", "actor", "origin", "action", "object_type", "object_id",
                   "changes", "detail", "hash"});
    json& audit =
        op("/v1/admin/audit", "get", "list_audit_entries", "The audit trail, oldest first", {422});
    for (const auto& [name, description, schema] :
         std::initializer_list<std::tuple<const char*, const char*, json>>{
             {"object_type", "With object_id: one record's entries",
              enum_schema(ObjectType::kActivity)},
             {"object_id",
              "With object_type (user 0: custom role definitions)",
              {{"type", "integer"}, {"minimum", 0}}},
             {"actor_id", "One actor's entries", {{"type", "integer"}, {"minimum", 1}}},
             {"from", "At or after", {{"type", "string"}, {"format", "date-time"}}},
             {"to", "Before", {{"type", "string"}, {"format", "date-time"}}},
             {"after", "The `next` of the previous page", {{"type", "string"}}},
             {"limit",
              "1 to 1000 (100)",
              {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}}})
      audit["parameters"].push_back(
          {{"name", name}, {"in", "query"}, {"description", description}, {"schema", schema}});
    audit["responses"]["200"] =
        ok("A page", object_of({{"items", {{"type", "array"}, {"items", schema_ref("AuditEntry")}}},
                                {"next", {{"type", {"string", "null"}}}}},
                               {"items", "next"}));
    op("/v1/admin/audit/verify", "get", "verify_audit_trail",
       "Check every entry's number, link and hash, and the head", {})["responses"]["200"] =
        ok("What was found", object_of({{"intact", {{"type", "boolean"}}},
                                        {"entries", {{"type", "integer"}}},
                                        {"first_bad", nullable_id},
                                        {"problem", {{"type", "string"}}}},
                                       {"intact", "entries", "first_bad", "problem"}));

    access();

    op("/v1/admin/sagas", "get", "saga_stats", "Saga instances by saga and status",
       {})["responses"]["200"] =
        ok("Counts", list_of(object_of({{"saga", {{"type", "string"}}},
                                        {"status", enum_schema(saga::SagaStatus::kFailed)},
                                        {"count", {{"type", "integer"}}}},
                                       {"saga", "status", "count"})));
    path_id("/v1/admin/sagas/{id}");
    op("/v1/admin/sagas/{id}", "get", "get_saga", "One saga instance and its history",
       {404})["responses"]["200"] =
        ok("The instance",
           object_of({{"id", id_schema()},
                      {"saga", {{"type", "string"}}},
                      {"key", {{"type", "string"}}},
                      {"subject", object_of({{"type", enum_schema(ObjectType::kActivity)},
                                             {"id", {{"type", "integer"}}}},
                                            {"type", "id"})},
                      {"status", enum_schema(saga::SagaStatus::kFailed)},
                      {"step", {{"type", "integer"}}},
                      {"data",
                       {{"type", "object"},
                        {"additionalProperties", {{"type", "string"}}},
                        {"description", "What the steps have recorded, by name"}}},
                      {"history",
                       {{"type", "array"},
                        {"items", object_of({{"step", {{"type", "string"}}},
                                             {"what", {{"type", "string"}}},
                                             {"attempt", {{"type", "integer"}}},
                                             {"at", time},
                                             {"error", {{"type", "string"}}}},
                                            {"step", "what", "attempt", "at", "error"})}}},
                      {"error", {{"type", "string"}}},
                      {"created_at", time},
                      {"updated_at", time}},
                     {"id", "saga", "key", "subject", "status", "step", "data", "history", "error",
                      "created_at", "updated_at"}));
  }

  void operations() {
    const json status = object_of({{"status", {{"const", "ok"}}}}, {"status"});
    public_op("/healthz", "healthz", "The process answers", {})["responses"]["200"] =
        ok("Alive", status);
    json& ready = public_op(
        "/readyz", "readyz",
        "The database takes reads and writes (a probe each second) and the encryption keys "
        "are in order; answered without waiting on the database",
        {503});
    ready["responses"]["200"] = ok("Ready", status);
    ready["responses"]["503"] =
        ok("Not ready: the database's last probe failed or has not answered for 2 s, or the key "
           "ring is wrong",
           object_of({{"status", {{"const", "unready"}}},
                      {"problems", {{"type", "array"}, {"items", {{"type", "string"}}}}}},
                     {"status", "problems"}));
    json& metrics = op("/metrics", "get", "metrics",
                       "Prometheus text: requests, pool, outbox lag, dead letters", {});
    metrics["responses"]["200"] = {
        {"description", "Prometheus text format 0.0.4"},
        {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}},
        {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
    public_op("/openapi.json", "openapi", "This document", {})["responses"]["200"] =
        ok("OpenAPI 3.1", {{"type", "object"}, {"required", {"openapi", "paths"}}});
  }
};

json build() {
  Builder b;
  b.resource<Contact>("contacts", "Contact", "contact");
  b.resource<Company>("companies", "Company", "company");
  b.resource<Lead>("leads", "Lead", "lead");
  b.resource<Deal>("deals", "Deal", "deal");
  b.resource<Pipeline>("pipelines", "Pipeline", "pipeline");
  b.resource<Stage>("stages", "Stage", "stage");
  b.resource<Activity>("activities", "Activity", "activity");
  b.resource<User>("users", "User", "user");
  b.resource<Team>("teams", "Team", "team");
  b.resource<Tag>("tags", "Tag", "tag");
  b.actions();
  b.custom_fields();
  b.admin();
  b.operations();
  return std::move(b.doc);
}

}  // namespace

const json& openapi_document() {
  static const json doc = build();
  return doc;
}

std::string route_template(const std::string& path) {
  struct Route {
    std::string name;
    std::vector<std::string> segments;
    std::size_t literals;
  };
  static const std::vector<Route> routes = [] {
    std::vector<Route> out;
    for (const auto& [name, item] : openapi_document()["paths"].items()) {
      auto segments = split(name, '/');
      const auto literals = static_cast<std::size_t>(std::count_if(
          segments.begin(), segments.end(), [](const std::string& s) { return s.front() != '{'; }));
      out.push_back({name, std::move(segments), literals});
    }
    return out;
  }();
  const auto segments = split(path, '/');
  const Route* best = nullptr;
  for (const auto& r : routes) {
    if (r.segments.size() != segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; match && i < segments.size(); ++i)
      match = r.segments[i].front() == '{' || r.segments[i] == segments[i];
    if (match && (best == nullptr || r.literals > best->literals)) best = &r;
  }
  return best ? best->name : "other";
}

}  // namespace banyan::server
