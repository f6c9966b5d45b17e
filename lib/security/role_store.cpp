#include "security/role_store.hpp"

#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "security/security_sql.hpp"

namespace banyan::security {
namespace {

using detail::SqlFragment;
using detail::text_param;
using detail::tx_of;
using nlohmann::json;

std::string grants_json(const std::vector<Grant>& grants) {
  json out = json::array();
  for (const Grant& g : grants)
    out.push_back({{"type", banyan::to_string(g.type)},
                   {"action", to_string(g.action)},
                   {"scope", to_string(g.scope)}});
  return out.dump();
}

std::vector<Grant> parse_grants(const std::string& role, const std::string& text) {
  std::vector<Grant> out;
  try {
    for (const json& g : json::parse(text)) {
      out.push_back({parse_object_type(g.at("type").get<std::string>()),
                     parse_action(g.at("action").get<std::string>()),
                     parse_scope(g.at("scope").get<std::string>())});
    }
  } catch (const std::exception& e) {  // JSON or names: the table was edited by hand
    throw InternalError("the stored grants of role '" + role + "' are damaged: " + e.what());
  }
  return out;
}

std::vector<Role> custom_roles(store::UnitOfWork& uow,
                               const std::optional<std::string_view>& name) {
  SqlFragment q;
  q.text("SELECT name, description, grants FROM security_roles");
  if (name) q.text(" WHERE name = ").param(text_param(std::string(*name)));
  q.text(" ORDER BY name");
  const auto cells = island::query_text(tx_of(uow), q, 3);
  std::vector<Role> out;
  for (std::size_t i = 0; i + 2 < cells.size(); i += 3)
    out.push_back(Role{cells[i].text, cells[i + 1].text,
                       parse_grants(cells[i].text, cells[i + 2].text), false});
  return out;
}

void check_custom(const Role& role) {
  if (find_built_in_role(role.name))
    throw PermissionDenied("the built-in role '" + role.name + "' cannot change");
}

void store_row(store::UnitOfWork& uow, const Role& role, bool insert) {
  const auto now = store::detail::micros(store::Session(uow).now());
  SqlFragment s;
  if (insert) {
    s.text("INSERT INTO security_roles (name, description, grants, updated_at) VALUES (")
        .param(text_param(role.name))
        .text(", ")
        .param(text_param(role.description))
        .text(", ")
        .param(text_param(grants_json(role.grants)))
        .text(", ")
        .param(detail::int_param(now))
        .text(")");
  } else {
    s.text("UPDATE security_roles SET description = ")
        .param(text_param(role.description))
        .text(", grants = ")
        .param(text_param(grants_json(role.grants)))
        .text(", updated_at = ")
        .param(detail::int_param(now))
        .text(" WHERE name = ")
        .param(text_param(role.name));
  }
  island::execute(tx_of(uow), s);
}

// A role definition as its audit entries show it.
json definition(const Role& role) {
  return {{"description", role.description}, {"grants", json::parse(grants_json(role.grants))}};
}

// Role definitions belong to no record: their entries name the access configuration as
// user 0, with the role in the field name ("role.<name>"), so they are found by actor and
// time, and under object user:0.
void audit_definition(store::UnitOfWork& uow, const char* action, const std::string& name,
                      const json& before, const json& after) {
  detail::audit_access(uow, action, 0, "role." + name, before, after);
}

}  // namespace

std::vector<Role> RoleStore::list(store::UnitOfWork& uow) const {
  std::vector<Role> out = built_in_roles();
  for (auto& role : custom_roles(uow, std::nullopt)) out.push_back(std::move(role));
  return out;
}

Role RoleStore::get(store::UnitOfWork& uow, std::string_view name) const {
  if (auto role = find_built_in_role(name)) return *role;
  auto found = custom_roles(uow, name);
  if (found.empty()) throw NotFound("no role named '" + std::string(name) + "'");
  return found.front();
}

Role RoleStore::create(store::UnitOfWork& uow, const Role& role) const {
  validate(role);
  if (find_built_in_role(role.name) || !custom_roles(uow, role.name).empty())
    throw Conflict("name: there is already a role named '" + role.name + "'", "name");
  store_row(uow, role, true);
  Role created = get(uow, role.name);
  audit_definition(uow, "role_created", created.name, nullptr, definition(created));
  return created;
}

Role RoleStore::update(store::UnitOfWork& uow, const Role& role) const {
  check_custom(role);
  validate(role);
  Role before = get(uow, role.name);  // NotFound
  // A change to what is there already writes nothing, as record patches do.
  if (definition(before) == definition(role)) return before;
  store_row(uow, role, false);
  Role after = get(uow, role.name);
  audit_definition(uow, "role_updated", after.name, definition(before), definition(after));
  return after;
}

void RoleStore::remove(store::UnitOfWork& uow, std::string_view name) const {
  const std::string role(name);
  check_custom(Role{role, "", {}, false});
  const Role before = get(uow, role);  // NotFound
  SqlFragment held;
  held.text("SELECT COUNT(*) FROM security_user_roles WHERE role = ").param(text_param(role));
  if (const auto n = island::query_int(tx_of(uow), held); n > 0)
    throw Conflict("the role '" + role + "' is held by " + std::to_string(n) +
                   " user(s); revoke it first");
  SqlFragment del;
  del.text("DELETE FROM security_roles WHERE name = ").param(text_param(role));
  island::execute(tx_of(uow), del);
  audit_definition(uow, "role_deleted", role, definition(before), nullptr);
}

AccessPolicy RoleStore::policy(store::UnitOfWork& uow) const {
  return AccessPolicy(custom_roles(uow, std::nullopt));
}

}  // namespace banyan::security
