// The REST API's route table: dispatch, the metrics' route label and /openapi.json come from
// it, so a route cannot exist without its documentation.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "rest/http_support.hpp"
#include "rest/openapi.hpp"
#include "rest/routes.hpp"

namespace banyan::rest {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(RouteTableTest, EveryRouteIsAnOperationOfTheDocumentWithASuccessAnswer) {
  const auto& doc = openapi_document();
  std::set<std::string> ids;
  for (const auto& route : api_routes().routes()) {
    SCOPED_TRACE(route.method + " " + route.path);
    ASSERT_TRUE(doc["paths"].contains(route.path));
    const auto& op = doc["paths"][route.path][lower(route.method)];
    ASSERT_TRUE(op.is_object());
    EXPECT_EQ(op["operationId"], route.operation.id);
    EXPECT_FALSE(route.operation.summary.empty());
    EXPECT_TRUE(ids.insert(route.operation.id).second) << "operationId used twice";
    bool success = false;
    for (const auto& [status, answer] : op["responses"].items())
      success = success || status.front() == '2';
    EXPECT_TRUE(success) << "no success answer documented";
  }
}

TEST(RouteTableTest, EveryOperationOfTheDocumentIsARoute) {
  std::size_t operations = 0;
  for (const auto& [path, item] : openapi_document()["paths"].items())
    for (const auto& [method, op] : item.items())
      if (method != "parameters") ++operations;
  EXPECT_EQ(operations, api_routes().routes().size());
}

TEST(RouteTableTest, EveryPathParameterIsDeclaredOnItsPath) {
  const auto& doc = openapi_document();
  for (const auto& route : api_routes().routes()) {
    const auto braces = std::count(route.path.begin(), route.path.end(), '{');
    const auto& declared = doc["paths"][route.path]["parameters"];
    EXPECT_EQ(declared.is_array() ? declared.size() : 0u, static_cast<std::size_t>(braces))
        << route.path;
  }
}

TEST(RouteTableTest, ALiteralSegmentWinsOverAParameter) {
  const auto m = api_routes().match("POST", {"v1", "contacts", "batch"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->path, "/v1/contacts/batch");
  EXPECT_EQ(m.route->route_class, Guard::RouteClass::kBulk);
  EXPECT_TRUE(m.params.empty());
}

TEST(RouteTableTest, PathParametersAreCapturedInOrder) {
  const auto m = api_routes().match("PUT", {"v1", "users", "7", "roles", "sales_rep"});
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path, "/v1/users/{id}/roles/{role}");
  EXPECT_EQ(m.params, (std::vector<std::string>{"7", "sales_rep"}));
}

TEST(RouteTableTest, AWrongMethodFindsThePathAndItsAllowedMethods) {
  const auto m = api_routes().match("PUT", {"v1", "contacts", "42"});
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.path, "/v1/contacts/{id}");
  EXPECT_EQ(m.allow, "GET, PATCH, DELETE");
  EXPECT_TRUE(m.credentials);
}

TEST(RouteTableTest, PublicPathsNeedNoCredentials) {
  for (const char* path : {"healthz", "readyz", "openapi.json"}) {
    const auto m = api_routes().match("POST", {path});
    EXPECT_EQ(m.allow, "GET") << path;
    EXPECT_FALSE(m.credentials) << path;
  }
  EXPECT_TRUE(api_routes().match("GET", {"metrics"}).credentials);
}

TEST(RouteTableTest, AnUnknownPathMatchesNothing) {
  const auto m = api_routes().match("GET", {"v1", "contacts", "42", "nonsense"});
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path.empty());
  EXPECT_TRUE(m.allow.empty());
}

TEST(RouteTableTest, TwoRoutesForOneMethodAndPathAreRefused) {
  RouteTable table;
  table.add(
      {"GET", "/x/{id}", Guard::RouteClass::kRead, RouteAccess::kPublic, {}, {"a", "A", {}, {}}});
  EXPECT_THROW(table.add({"GET",
                          "/x/{id}",
                          Guard::RouteClass::kRead,
                          RouteAccess::kPublic,
                          {},
                          {"b", "B", {}, {}}}),
               std::logic_error);
  table.add(
      {"POST", "/x/{id}", Guard::RouteClass::kWrite, RouteAccess::kPublic, {}, {"c", "C", {}, {}}});
  EXPECT_EQ(table.match("DELETE", {"x", "1"}).allow, "GET, POST");
}

TEST(RouteTableTest, WritesAndBulkRoutesAreNotRateLimitedAsReads) {
  for (const auto& route : api_routes().routes()) {
    if (route.method == "GET")
      EXPECT_EQ(route.route_class, Guard::RouteClass::kRead) << route.path;
    else
      EXPECT_NE(route.route_class, Guard::RouteClass::kRead) << route.method << " " << route.path;
  }
}

}  // namespace
}  // namespace banyan::rest

// A 503 tells the client when to come back, whichever error it stands for.
TEST(ProblemResponses, EveryServiceUnavailableAnswerCarriesRetryAfter) {
  const auto retry_after = [](const banyan::rest::HttpResponse& r) {
    for (const auto& [name, value] : r.headers)
      if (name == "Retry-After") return value;
    return std::string();
  };
  const auto pool = banyan::rest::problem_of(banyan::PoolExhausted("no connection"), "r1");
  const auto away = banyan::rest::problem_of(banyan::Unavailable("gone"), "r2");
  const auto missing = banyan::rest::problem_of(banyan::NotFound("no contact 7"), "r3");
  EXPECT_EQ(pool.status, 503);
  EXPECT_EQ(retry_after(pool), "1");
  EXPECT_EQ(away.status, 503);
  EXPECT_EQ(retry_after(away), "1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(retry_after(missing), "");
}
