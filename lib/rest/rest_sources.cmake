# The REST layer's sources (the request path: routes, JSON, OpenAPI, guard, metrics),
# relative to lib/rest. One list for the library and for the fuzz target, which compiles
# them again with clang's instrumentation.
set(BANYAN_REST_SOURCES
  api.cpp http_support.cpp routes.cpp system_routes.cpp record_routes.cpp record_query.cpp
  action_routes.cpp relation_routes.cpp references.cpp search_routes.cpp event_routes.cpp custom_field_routes.cpp access_routes.cpp admin_routes.cpp json_body.cpp
  record_json.cpp record_fields.cpp item_results.cpp metrics.cpp guard.cpp backfill_jobs.cpp openapi.cpp)
