// The OpenAPI 3.1 document of the REST API, built from the same field lists that read and
// write the records, and the route templates it names (for metrics and the tests).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace banyan::server {

// The whole document, as served at /openapi.json.
const nlohmann::json& openapi_document();

// The document's path template that `path` (no query) falls under: "/v1/contacts/{id}"
// for "/v1/contacts/42"; a literal segment wins over a parameter ("/v1/contacts/batch").
// "other" when no documented path matches.
std::string route_template(const std::string& path);

}  // namespace banyan::server
