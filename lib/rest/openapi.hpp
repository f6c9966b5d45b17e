// The OpenAPI 3.1 document of the REST API, built from the route table (each route's
// Operation) and from the same field lists that read and write the records.
#pragma once

#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace banyan::rest {

using nlohmann::json;

// The whole document, as served at /openapi.json.
const json& openapi_document();

namespace openapi {

json schema_ref(const std::string& schema);
json nullable(const json& schema);
json id_schema();
json time_schema();
// A closed object: these properties, these required.
json object_of(const json& properties, const json& required);
// {"items": [item, ...]}
json list_of(const json& items);
// {"items": [...], "next": cursor or null}: a page.
json page_of(const json& item, bool with_total = false);

// The document being built: its components and paths.
class Builder {
 public:
  Builder();

  json doc;

  json& schemas() { return doc["components"]["schemas"]; }
  // The operation of a route, with the request id header, a problem for any status it
  // does not list, 401 and 403, and the errors it names; parameters of its path template
  // are declared on the path ({id} as a record id, any other as a string).
  json& op(const std::string& path, const std::string& method, const std::string& id,
           const std::string& summary, const std::vector<int>& errors);

  static json problem(const std::string& description);
  // A JSON response; `headers` names components/headers beyond the request id.
  static json ok(const std::string& description, const json& schema,
                 std::initializer_list<const char*> headers = {});
  static json no_content();
  // 304 to an If-None-Match naming the current version: the ETag, no body.
  static json not_modified();
  static void body(json& operation, const json& schema);
  // Adds components/parameters by name.
  static void params(json& operation, std::initializer_list<const char*> names);
  // Adds a query parameter of the operation's own ("" for none: no description).
  static void query(json& operation, const char* name, const std::string& description,
                    const json& schema);
};

}  // namespace openapi
}  // namespace banyan::rest
