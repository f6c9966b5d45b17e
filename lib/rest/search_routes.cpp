// GET /v1/search: full-text search across record types, as the caller may see it
// (Engine::search).
#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// GET /v1/search?q=ada lov&types=contacts,leads&limit=20
HttpResponse search(ApiContext& api, RouteCall& c) {
  for (const auto& [key, value] : c.target.query)
    if (key != "q" && key != "types" && key != "limit")
      throw ValidationError(key + ": no such parameter; search takes q, types and limit", key);
  store::SearchRequest request;
  const auto q = query_value(c.target, "q");
  if (!q || q->empty()) throw ValidationError("q: the words to search for", "q");
  request.query = *q;
  if (const auto types = query_value(c.target, "types")) {
    for (const auto& name : split(*types, ',')) {
      const auto type = type_of_collection(name);
      if (!type) throw ValidationError("types: no collection '" + name + "'", "types");
      request.types.push_back(*type);
    }
  }
  if (const auto limit = query_value(c.target, "limit")) {
    const auto v = parse_integer(*limit);
    if (!v || *v < 1 || *v > 200) throw ValidationError("limit: a number from 1 to 200", "limit");
    request.limit = static_cast<std::size_t>(*v);
  }
  const auto hits = api.db.read(
      [&](store::UnitOfWork& uow) { return api.engine.search(uow, c.principal(), request); });
  json items = json::array();
  for (const auto& hit : hits) {
    const std::string collection = collection_of(hit.record.type);
    items.push_back({{"type", std::string(to_string(hit.record.type))},
                     {"id", hit.record.id},
                     {"title", hit.title},
                     {"score", hit.score},
                     {"path", "/v1/" + collection + "/" + std::to_string(hit.record.id)}});
  }
  return json_response(200, json{{"items", items}});
}

}  // namespace

void add_search_routes(RouteTable& table) {
  const json hit = object_of({{"type", {{"type", "string"}}},
                              {"id", id_schema()},
                              {"title", {{"type", "string"}}},
                              {"score", {{"type", "number"}}},
                              {"path", {{"type", "string"}}}},
                             {"type", "id", "title", "score", "path"});
  table.add(
      {"GET",
       "/v1/search",
       Guard::RouteClass::kRead,
       RouteAccess::kPrincipal,
       search,
       {"search",
        "Full-text search across record types, best first",
        {403, 422},
        [hit](Builder&, json& o) {
          o["description"] =
              "Every word must match, each as a prefix (`ada lov` finds Ada Lovelace), in "
              "contact and lead names and emails (not emails sealed at rest), a lead's company "
              "name, company names and domains, deal titles and notes' subjects and bodies; "
              "archived records are not found. Only records the caller may read come back, and "
              "a record whose sensitive fields it may not see only when every word is found in "
              "the fields it sees. On MariaDB words shorter than three characters are ignored.";
          Builder::query(o, "q", "The words to search for", {{"type", "string"}, {"minLength", 1}});
          o["parameters"].back()["required"] = true;
          Builder::query(o, "types",
                         "Comma-separated collections (companies, contacts, leads, deals, "
                         "activities); all the caller reads when absent",
                         {{"type", "string"}});
          Builder::query(o, "limit", "1 to 200 (20)",
                         {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}});
          o["responses"]["200"] = Builder::ok("The hits", list_of(hit));
        }}});
}

}  // namespace banyan::rest
