// The REST API's one route table. Each route names its method, its path template, its
// rate-limit class, who may call it, its handler and its OpenAPI operation; dispatch, the
// rate limits, the metrics' route label and /openapi.json all come from the table, so a
// route cannot exist without its documentation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guard.hpp"
#include "http_support.hpp"

namespace banyan::rest {

class ApiContext;
namespace openapi {
class Builder;
}

// Who a request acts for: every route but the public ones runs as a principal.
using Who = security::Principal;

// What routing learned about one request, for its handler and for its answer.
struct RouteCall {
  explicit RouteCall(const HttpRequest& r) : request(r) {}

  const HttpRequest& request;
  Target target;
  std::vector<std::string> params;  // the values of the template's {...} segments, in order
  std::optional<Who> who;           // once authenticated
  Headers headers;                  // the RateLimit headers
  std::string_view route_template;  // the path's template in the table ("" for none)

  const Who& principal() const { return *who; }
  // The first path parameter as a record id (404 when it is none).
  Id id() const { return parse_id(params.at(0)); }
};

enum class RouteAccess {
  kHealth,     // no credentials and no limits: the probes of an orchestrator
  kPublic,     // no credentials; the client address's limit applies
  kMetrics,    // the metrics token of the configuration, or an administrator
  kPrincipal,  // valid credentials (what the principal may do is the handler's to check)
};

// The route's entry in the OpenAPI document: operationId, summary, the error statuses it
// names beyond those every operation has, and what else it says (body, parameters,
// responses).
struct Operation {
  std::string id;
  std::string summary;
  std::vector<int> errors;
  std::function<void(openapi::Builder&, json& operation)> document;
};

struct Route {
  std::string method;  // "GET"
  std::string path;    // "/v1/contacts/{id}/merge"
  Guard::RouteClass route_class = Guard::RouteClass::kRead;
  RouteAccess access = RouteAccess::kPrincipal;
  std::function<HttpResponse(ApiContext&, RouteCall&)> handler;
  Operation operation;
};

class RouteTable {
 public:
  void add(Route route);
  // Schemas and other components that operations refer to, added to the document first.
  void add_components(std::function<void(openapi::Builder&)> components);

  struct Match {
    const Route* route = nullptr;  // null: no route for the method (see allow) or the path
    std::string_view path;         // the template the path falls under ("" for none)
    std::vector<std::string> params;
    std::string allow;         // the path's methods ("GET, POST"), when it has routes
    bool credentials = false;  // some route of the path may need a principal
  };
  // The route for the method and the path's (decoded) segments. Among templates that match,
  // the one with most literal segments wins ("/v1/contacts/batch" over "/v1/contacts/{id}").
  Match match(const std::string& method, const std::vector<std::string>& segments) const;

  const std::vector<Route>& routes() const { return routes_; }
  const std::vector<std::function<void(openapi::Builder&)>>& components() const {
    return components_;
  }

 private:
  struct Template {
    std::string path;
    std::vector<std::string> segments;
    std::size_t literals = 0;
    std::vector<std::size_t> routes;  // indexes into routes_
  };
  std::vector<Route> routes_;
  std::vector<Template> templates_;
  std::vector<std::function<void(openapi::Builder&)>> components_;
};

// The table of banyan-server's REST API, built once.
const RouteTable& api_routes();

// The parts of the table, one per file of routes.
void add_record_routes(RouteTable& table);
void add_action_routes(RouteTable& table);
void add_relation_routes(RouteTable& table);
void add_search_routes(RouteTable& table);
void add_event_routes(RouteTable& table);
void add_custom_field_routes(RouteTable& table);
void add_access_routes(RouteTable& table);
void add_admin_routes(RouteTable& table);
void add_system_routes(RouteTable& table);

}  // namespace banyan::rest
