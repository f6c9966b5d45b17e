#include "openapi.hpp"

#include "record_json.hpp"
#include "routes.hpp"

namespace banyan::rest {

namespace openapi {

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
json time_schema() { return {{"type", "string"}, {"format", "date-time"}}; }
json page_of(const json& item, bool with_total) {
  json page = object_of(
      {{"items", {{"type", "array"}, {"items", item}}}, {"next", {{"type", {"string", "null"}}}}},
      {"items", "next"});
  if (with_total)
    page["properties"]["total"] = {{"type", "integer"},
                                   {"minimum", 0},
                                   {"description", "With count=true: every matching record"}};
  return page;
}

namespace {

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

}  // namespace

Builder::Builder() {
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
  c["securitySchemes"]["bearer"] = {{"type", "http"},
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
  // An item's problem within a 207: the request's id is the answer's X-Request-Id.
  json item_problem = problem_schema();
  item_problem["properties"].erase("request_id");
  item_problem["required"] = {"type", "title", "status", "code", "detail"};
  c["schemas"]["ItemProblem"] = item_problem;
  c["schemas"]["Money"] = money_schema();
  c["schemas"]["CustomValue"] = custom_value_schema();
  c["schemas"]["CustomFieldDefinition"] = custom_field_definition_schema();
  c["schemas"]["Backfill"] = backfill_schema();
  c["headers"]["X-Request-Id"] = {
      {"description", "This request's id, also in the access log and in problems"},
      {"required", true},
      {"schema", {{"type", "string"}}}};
  c["headers"]["ETag"] = {{"description",
                           "The record's version, quoted (a strong tag): send it back in "
                           "If-Match, or in If-None-Match to read it only when it changed"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}};
  c["headers"]["Location"] = {{"description", "Where the new record lives"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}};
  auto param = [&](const char* name, const char* in, const char* description, const json& schema) {
    c["parameters"][name] = {
        {"name", name}, {"in", in}, {"description", description}, {"schema", schema}};
    if (std::string(in) == "path") c["parameters"][name]["required"] = true;
  };
  param("id", "path", "A record id", id_schema());
  param("If-Match", "header",
        "The version the change is based on (an ETag, or * for any); a stale one, or a weak "
        "tag (compared strongly, it never matches), gives 412",
        {{"type", "string"}});
  param("If-None-Match", "header",
        "ETags the client holds (W/ allowed, compared weakly), or *: when one names the current "
        "version the answer is 304 without a body",
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
  param("sort", "query",
        "Up to four fields to sort by, comma-separated, each ordering the rows the ones "
        "before it tie on; a leading - sorts that field descending (sort=last_name,-created_at)",
        {{"type", "string"}});
  param("fields", "query",
        "Comma-separated fields to return (id always comes): standard fields, `custom` or "
        "`custom.<name>`; an unknown name is a 422",
        {{"type", "string"}});
  param("include_archived", "query", "Archived records too",
        {{"type", "boolean"}, {"default", false}});
  param("count", "query",
        "Also answer `total`, the number of records the filter matches that the caller may "
        "read: a COUNT in the same read as the page. Cheap when the filter names an indexed "
        "field (id, external_id, a contact's or lead's email, a contact's last_name, a "
        "company's domain, a deal's stage_id) and the caller reads every record of the type; "
        "otherwise (owner and team scopes are not indexed) it scans the type's table",
        {{"type", "boolean"}, {"default", false}});
}

json& Builder::op(const std::string& path, const std::string& method, const std::string& id,
                  const std::string& summary, const std::vector<int>& errors) {
  json& parameters = doc["paths"][path]["parameters"];
  if (parameters.is_null()) {
    parameters = json::array();
    for (const auto& segment : split(path, '/')) {
      if (segment.front() != '{') continue;
      const std::string name = segment.substr(1, segment.size() - 2);
      if (name == "id")
        parameters.push_back({{"$ref", "#/components/parameters/id"}});
      else if (name.ends_with("_id"))
        parameters.push_back(
            {{"name", name}, {"in", "path"}, {"required", true}, {"schema", id_schema()}});
      else
        parameters.push_back(
            {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    if (parameters.empty()) doc["paths"][path].erase("parameters");
  }
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

json Builder::problem(const std::string& description) {
  return {{"description", description},
          {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}},
          {"content", {{"application/problem+json", {{"schema", schema_ref("Problem")}}}}}};
}

json Builder::ok(const std::string& description, const json& schema,
                 std::initializer_list<const char*> headers) {
  json out = {{"description", description},
              {"content", {{"application/json", {{"schema", schema}}}}}};
  out["headers"]["X-Request-Id"] = {{"$ref", "#/components/headers/X-Request-Id"}};
  for (const char* h : headers)
    out["headers"][h] = {{"$ref", std::string("#/components/headers/") + h}};
  return out;
}
json Builder::no_content() {
  return {{"description", "Done"},
          {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}}};
}

json Builder::not_modified() {
  json out = no_content();
  out["description"] = "Not modified: If-None-Match names the current version (or is *); no body";
  out["headers"]["ETag"] = {{"$ref", "#/components/headers/ETag"}};
  return out;
}

void Builder::body(json& o, const json& schema) {
  o["requestBody"] = {{"required", true},
                      {"content", {{"application/json", {{"schema", schema}}}}}};
}
void Builder::params(json& o, std::initializer_list<const char*> names) {
  for (const char* n : names)
    o["parameters"].push_back({{"$ref", std::string("#/components/parameters/") + n}});
}

void Builder::query(json& operation, const char* name, const std::string& description,
                    const json& schema) {
  json parameter = {{"name", name}, {"in", "query"}, {"schema", schema}};
  if (!description.empty()) parameter["description"] = description;
  operation["parameters"].push_back(std::move(parameter));
}

}  // namespace openapi

namespace {

// Every route's operation; routes that need no credentials say so.
json build(const RouteTable& table) {
  openapi::Builder b;
  for (const auto& components : table.components()) components(b);
  for (const auto& route : table.routes()) {
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Operation& o = route.operation;
    json& op = b.op(route.path, method, o.id, o.summary, o.errors);
    if (route.access == RouteAccess::kHealth || route.access == RouteAccess::kPublic) {
      op["security"] = json::array();
      op["responses"].erase("401");
      op["responses"].erase("403");
    }
    if (o.document) o.document(b, op);
  }
  return std::move(b.doc);
}

}  // namespace

const json& openapi_document() {
  static const json doc = build(api_routes());
  return doc;
}

}  // namespace banyan::rest
