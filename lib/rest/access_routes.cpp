// Roles, role assignments and API keys: administrators' routes.
#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

json role_json(const security::Role& role) {
  json grants = json::array();
  for (const auto& g : role.grants)
    grants.push_back({{"type", std::string(to_string(g.type))},
                      {"action", std::string(security::to_string(g.action))},
                      {"scope", std::string(security::to_string(g.scope))}});
  return {{"name", role.name},
          {"description", role.description},
          {"grants", grants},
          {"built_in", role.built_in}};
}

// {"name"?, "description"?, "grants"?: [{"type", "action", "scope"}]} onto `role`.
void apply_role_json(security::Role& role, const json& body, bool creating) {
  if (creating) {
    only_keys(body, {"name", "description", "grants"});
    const auto* name = body.contains("name") ? body["name"].get_ptr<const std::string*>() : nullptr;
    if (name == nullptr) throw ValidationError("name: a role name (a string) is required", "name");
    role.name = *name;
  } else {
    only_keys(body, {"description", "grants"});
  }
  if (body.contains("description")) {
    const auto* d = body["description"].get_ptr<const std::string*>();
    if (d == nullptr) throw ValidationError("description: must be a string", "description");
    role.description = *d;
  }
  if (!body.contains("grants")) return;
  if (!body["grants"].is_array()) throw ValidationError("grants: must be an array", "grants");
  role.grants.clear();
  for (std::size_t i = 0; i < body["grants"].size(); ++i) {
    const json& g = body["grants"][i];
    const std::string at = "grants[" + std::to_string(i) + "]";
    if (!g.is_object()) throw ValidationError(at + ": must be an object", at);
    only_keys(g, {"type", "action", "scope"}, at + ".");
    auto text = [&](const char* key) {
      const auto* v = g.contains(key) ? g[key].get_ptr<const std::string*>() : nullptr;
      if (v == nullptr)
        throw ValidationError(at + "." + key + ": a string is required", at + "." + key);
      return *v;
    };
    security::Grant grant;
    try {
      grant.type = parse_object_type(text("type"));
    } catch (const ValidationError&) {
      throw ValidationError(at + ".type: not an object type", at + ".type");
    }
    grant.action = security::parse_action(text("action"), at + ".action");
    grant.scope = security::parse_scope(text("scope"), at + ".scope");
    role.grants.push_back(grant);
  }
}

json api_key_json(const security::ApiKey& k) {
  return {
      {"id", k.id},
      {"user_id", k.user_id},
      {"name", k.name},
      {"prefix", k.prefix},
      {"created_at", format_timestamp(k.created_at)},
      {"last_used_at", k.last_used_at ? json(format_timestamp(*k.last_used_at)) : json(nullptr)},
      {"revoked_at", k.revoked_at ? json(format_timestamp(*k.revoked_at)) : json(nullptr)}};
}

HttpResponse list_roles(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  json items = json::array();
  for (const auto& role : api.db.read([&](store::UnitOfWork& uow) { return service.roles(uow); }))
    items.push_back(role_json(role));
  return json_response(200, json{{"items", items}});
}

HttpResponse create_role(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  security::Role role;
  apply_role_json(role, api.body_object(c.request), /*creating=*/true);
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    return json_response(201, role_json(service.create_role(uow, role)));
  });
  out.headers.emplace_back("Location", "/v1/roles/" + role.name);
  return out;
}

HttpResponse get_role(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  return json_response(200, role_json(api.db.read([&](store::UnitOfWork& uow) {
                         return service.role(uow, c.params[0]);
                       })));
}

HttpResponse update_role(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const json body = api.body_object(c.request);
  return api.write(c, [&](store::UnitOfWork& uow) {
    security::Role role = service.role(uow, c.params[0]);
    apply_role_json(role, body, /*creating=*/false);
    return json_response(200, role_json(service.update_role(uow, role)));
  });
}

HttpResponse delete_role(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  return api.write(c, [&](store::UnitOfWork& uow) {
    service.remove_role(uow, c.params[0]);
    return no_content();
  });
}

HttpResponse user_roles(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const Id user = c.id();
  return json_response(200, json{{"items", api.db.read([&](store::UnitOfWork& uow) {
                                    return service.roles_of(uow, user);
                                  })}});
}

HttpResponse assign_role(ApiContext& api, RouteCall& c, bool assign) {
  const auto service = admin(api, c);
  const Id user = c.id();
  return api.write(c, [&](store::UnitOfWork& uow) {
    if (assign)
      service.assign_role(uow, user, c.params[1]);
    else
      service.revoke_role(uow, user, c.params[1]);
    return no_content();
  });
}

HttpResponse list_api_keys(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const Id user = c.id();
  json items = json::array();
  for (const auto& k :
       api.db.read([&](store::UnitOfWork& uow) { return service.api_keys(uow, user); }))
    items.push_back(api_key_json(k));
  return json_response(200, json{{"items", items}});
}

HttpResponse create_api_key(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const Id user = c.id();
  const json body = api.body_object(c.request);
  only_keys(body, {"name"});
  const auto* name = body.contains("name") ? body["name"].get_ptr<const std::string*>() : nullptr;
  if (name == nullptr) throw ValidationError("name: a key name (a string) is required", "name");
  HttpResponse out = api.write(c, [&](store::UnitOfWork& uow) {
    const auto issued = service.issue_api_key(uow, user, *name);
    json j = api_key_json(issued.key);
    j["secret"] = issued.secret;  // shown this once
    HttpResponse created = json_response(201, j);
    created.headers.emplace_back("Location", "/v1/api-keys/" + std::to_string(issued.key.id));
    return created;
  });
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

HttpResponse get_api_key(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const Id id = c.id();
  return json_response(
      200,
      api_key_json(api.db.read([&](store::UnitOfWork& uow) { return service.api_key(uow, id); })));
}

// Revoked at once (authentication caches a key for up to 5 s).
HttpResponse revoke_api_key(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const Id id = c.id();
  return api.write(c, [&](store::UnitOfWork& uow) {
    return json_response(200, api_key_json(service.revoke_api_key(uow, id)));
  });
}

void access_schemas(Builder& b) {
  const json time = {{"type", "string"}, {"format", "date-time"}};
  const json nullable_time = {{"type", {"string", "null"}}, {"format", "date-time"}};
  json& schemas = b.schemas();
  schemas["Grant"] = object_of(
      {{"type", enum_schema(ObjectType::kActivity)},
       {"action",
        {{"type", "string"},
         {"enum",
          {"read", "create", "update", "delete", "export", "read_sensitive", "admin", "import"}}}},
       {"scope", {{"type", "string"}, {"enum", {"none", "own", "team", "all"}}}}},
      {"type", "action", "scope"});
  schemas["Role"] = object_of({{"name", {{"type", "string"}}},
                               {"description", {{"type", "string"}}},
                               {"grants", list_of(schema_ref("Grant"))["properties"]["items"]},
                               {"built_in", {{"type", "boolean"}}}},
                              {"name", "description", "grants", "built_in"});
  schemas["ApiKey"] =
      object_of({{"id", id_schema()},
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
}

}  // namespace

void add_access_routes(RouteTable& table) {
  using enum Guard::RouteClass;
  const auto principal = RouteAccess::kPrincipal;
  const json grants_input = {{"type", "array"}, {"items", schema_ref("Grant")}};
  const json role = schema_ref("Role"), key = schema_ref("ApiKey");
  table.add_components(access_schemas);
  table.add({"GET",
             "/v1/roles",
             kRead,
             principal,
             list_roles,
             {"list_roles", "Every role, built-in and custom", {}, [role](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The roles", list_of(role));
              }}});
  table.add({"POST",
             "/v1/roles",
             kWrite,
             principal,
             create_role,
             {"create_role", "Define a custom role", {400, 409, 415, 422}, [=](Builder&, json& o) {
                Builder::body(o, object_of({{"name", {{"type", "string"}}},
                                            {"description", {{"type", "string"}}},
                                            {"grants", grants_input}},
                                           {"name"}));
                o["responses"]["201"] = Builder::ok("Defined", role, {"Location"});
              }}});
  table.add({"GET",
             "/v1/roles/{name}",
             kRead,
             principal,
             get_role,
             {"get_role", "A role", {404}, [role](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The role", role);
              }}});
  table.add({"PATCH",
             "/v1/roles/{name}",
             kWrite,
             principal,
             update_role,
             {"update_role",
              "Change a custom role's description or grants",
              {400, 404, 409, 415, 422},
              [=](Builder&, json& o) {
                Builder::body(
                    o, object_of({{"description", {{"type", "string"}}}, {"grants", grants_input}},
                                 json::array()));
                o["responses"]["200"] = Builder::ok("The changed role", role);
              }}});
  table.add(
      {"DELETE",
       "/v1/roles/{name}",
       kWrite,
       principal,
       delete_role,
       {"delete_role", "Delete a custom role no one holds", {404, 409}, [](Builder&, json& o) {
          o["responses"]["204"] = Builder::no_content();
        }}});
  table.add({"GET",
             "/v1/users/{id}/roles",
             kRead,
             principal,
             user_roles,
             {"list_user_roles", "The roles a user holds", {404}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("Role names", list_of({{"type", "string"}}));
              }}});
  table.add({"PUT",
             "/v1/users/{id}/roles/{role}",
             kWrite,
             principal,
             [](ApiContext& api, RouteCall& c) { return assign_role(api, c, true); },
             {"assign_role", "Give a user a role (idempotent)", {404, 422}, [](Builder&, json& o) {
                o["responses"]["204"] = Builder::no_content();
              }}});
  table.add({"DELETE",
             "/v1/users/{id}/roles/{role}",
             kWrite,
             principal,
             [](ApiContext& api, RouteCall& c) { return assign_role(api, c, false); },
             {"revoke_role", "Take a role away (idempotent)", {404}, [](Builder&, json& o) {
                o["responses"]["204"] = Builder::no_content();
              }}});
  table.add({"GET",
             "/v1/users/{id}/api-keys",
             kRead,
             principal,
             list_api_keys,
             {"list_api_keys", "A user's API keys, newest first", {404}, [key](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The keys (never their secrets)", list_of(key));
              }}});
  table.add({"POST",
             "/v1/users/{id}/api-keys",
             kWrite,
             principal,
             create_api_key,
             {"create_api_key",
              "Issue an API key acting as the user",
              {400, 404, 415, 422},
              [](Builder&, json& o) {
                Builder::body(o, object_of({{"name", {{"type", "string"}}}}, {"name"}));
                o["responses"]["201"] = Builder::ok("The key with its secret, shown this once",
                                                    schema_ref("IssuedApiKey"), {"Location"});
              }}});
  table.add({"GET",
             "/v1/api-keys/{id}",
             kRead,
             principal,
             get_api_key,
             {"get_api_key", "An API key", {404}, [key](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The key", key);
              }}});
  table.add({"DELETE",
             "/v1/api-keys/{id}",
             kWrite,
             principal,
             revoke_api_key,
             {"revoke_api_key",
              "Revoke an API key (at once; cached for up to 5 s)",
              {404},
              [key](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The revoked key", key);
              }}});
}

}  // namespace banyan::rest
