// The security layer's tables: custom roles, the roles and teams of users, API keys and
// identities at OIDC issuers. Its statements are in security_sql.hpp's users.
#include "security/schema.hpp"

#include <string>

namespace banyan::security::detail {
namespace {

// Version 9: who may do what. Custom roles (the built-in ones live in
// code), the roles and teams of each user, and service accounts' API keys, kept only as
// a hash. A deleted user or team takes its rows here with it.
void create_security_tables(island::Transaction& tx, island::Backend backend) {
  const store::detail::ColumnTypes c(backend);
  const std::string &pk = c.pk, &id = c.id, &time = c.time, &key = c.key, &engine = c.engine;
  auto references = [](const std::string& column, const std::string& table) {
    return ", FOREIGN KEY (" + column + ") REFERENCES " + table + " (id) ON DELETE CASCADE";
  };
  island::execute(tx, "CREATE TABLE security_roles (name " + key +
                          " NOT NULL PRIMARY KEY, description TEXT NOT NULL, grants TEXT NOT NULL, "
                          "updated_at " +
                          time + " NOT NULL)" + engine);
  island::execute(tx, "CREATE TABLE security_user_roles (user_id " + id + " NOT NULL, role " + key +
                          " NOT NULL, PRIMARY KEY (user_id, role)" +
                          references("user_id", "users") + ")" + engine);
  island::execute(tx, "CREATE INDEX security_user_roles_role_ix ON security_user_roles (role)");
  island::execute(tx, "CREATE TABLE security_team_members (team_id " + id + " NOT NULL, user_id " +
                          id + " NOT NULL, PRIMARY KEY (team_id, user_id)" +
                          references("team_id", "teams") + references("user_id", "users") + ")" +
                          engine);
  island::execute(tx,
                  "CREATE INDEX security_team_members_user_ix ON security_team_members (user_id)");
  island::execute(tx, "CREATE TABLE security_api_keys (" + pk + ", user_id " + id +
                          " NOT NULL, name " + key + " NOT NULL, prefix " + key +
                          " NOT NULL, secret_hash " + key + " NOT NULL, created_at " + time +
                          " NOT NULL, last_used_at " + time + " NOT NULL DEFAULT 0, revoked_at " +
                          time + " NOT NULL DEFAULT 0" + references("user_id", "users") + ")" +
                          engine);
  island::execute(tx,
                  "CREATE UNIQUE INDEX security_api_keys_prefix_uq ON security_api_keys (prefix)");
  island::execute(tx, "CREATE INDEX security_api_keys_user_ix ON security_api_keys (user_id)");
}

// Version 11: identities at OIDC issuers (a token's iss and sub) linked to users.
void create_identity_tables(island::Transaction& tx, island::Backend backend) {
  const store::detail::ColumnTypes c(backend);
  island::execute(
      tx,
      "CREATE TABLE security_identities (issuer " + c.key + " NOT NULL, subject " + c.key +
          " NOT NULL, user_id " + c.id + " NOT NULL, created_at " + c.time +
          " NOT NULL, PRIMARY KEY (issuer, subject), FOREIGN KEY (user_id) REFERENCES users (id) "
          "ON DELETE CASCADE)" +
          c.engine);
  island::execute(tx, "CREATE INDEX security_identities_user_ix ON security_identities (user_id)");
}

}  // namespace

store::detail::SchemaPart schema_part() {
  store::detail::SchemaPart part;
  part.owner = "security";
  part.create = [](island::Transaction& tx, island::Backend backend) {
    create_security_tables(tx, backend);
    create_identity_tables(tx, backend);
  };
  part.migrations = {{9, create_security_tables}, {11, create_identity_tables}};
  return part;
}

}  // namespace banyan::security::detail
