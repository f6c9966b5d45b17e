#include "banyan/security/directory.hpp"

#include "banyan/errors.hpp"
#include "banyan/security/role_store.hpp"
#include "security/security_sql.hpp"

namespace banyan::security {
namespace {

using detail::int_param;
using detail::SqlFragment;
using detail::text_param;
using detail::tx_of;

std::int64_t as_int(Id id) { return static_cast<std::int64_t>(id); }

void require_user(store::UnitOfWork& uow, Id user) {
  if (!detail::exists(uow, "users", user))
    throw NotFound("no user with id " + std::to_string(user));
}

}  // namespace

void Directory::assign_role(store::UnitOfWork& uow, Id user, std::string_view role) const {
  require_user(uow, user);
  try {
    RoleStore().get(uow, role);
  } catch (const NotFound&) {
    throw ValidationError("role: no role named '" + std::string(role) + "'", "role");
  }
  SqlFragment ins;
  ins.text(detail::insert_ignore(uow))
      .text("security_user_roles (user_id, role) VALUES (")
      .param(int_param(as_int(user)))
      .text(", ")
      .param(text_param(std::string(role)))
      .text(")");
  island::execute(tx_of(uow), ins);
}

void Directory::revoke_role(store::UnitOfWork& uow, Id user, std::string_view role) const {
  SqlFragment del;
  del.text("DELETE FROM security_user_roles WHERE user_id = ")
      .param(int_param(as_int(user)))
      .text(" AND role = ")
      .param(text_param(std::string(role)));
  island::execute(tx_of(uow), del);
}

std::vector<std::string> Directory::roles_of(store::UnitOfWork& uow, Id user) const {
  SqlFragment q;
  q.text("SELECT role FROM security_user_roles WHERE user_id = ")
      .param(int_param(as_int(user)))
      .text(" ORDER BY role");
  std::vector<std::string> out;
  for (auto& cell : island::query_text(tx_of(uow), q, 1)) out.push_back(std::move(cell.text));
  return out;
}

void Directory::add_member(store::UnitOfWork& uow, Id team, Id user) const {
  if (!detail::exists(uow, "teams", team))
    throw NotFound("no team with id " + std::to_string(team));
  require_user(uow, user);
  SqlFragment ins;
  ins.text(detail::insert_ignore(uow))
      .text("security_team_members (team_id, user_id) VALUES (")
      .param(int_param(as_int(team)))
      .text(", ")
      .param(int_param(as_int(user)))
      .text(")");
  island::execute(tx_of(uow), ins);
}

void Directory::remove_member(store::UnitOfWork& uow, Id team, Id user) const {
  SqlFragment del;
  del.text("DELETE FROM security_team_members WHERE team_id = ")
      .param(int_param(as_int(team)))
      .text(" AND user_id = ")
      .param(int_param(as_int(user)));
  island::execute(tx_of(uow), del);
}

std::vector<Id> Directory::teams_of(store::UnitOfWork& uow, Id user) const {
  SqlFragment q;
  q.text("SELECT team_id FROM security_team_members WHERE user_id = ")
      .param(int_param(as_int(user)))
      .text(" ORDER BY team_id");
  return island::query_ids(tx_of(uow), q);  // Id is the ids' type
}

std::vector<Id> Directory::members_of(store::UnitOfWork& uow, Id team) const {
  SqlFragment q;
  q.text("SELECT user_id FROM security_team_members WHERE team_id = ")
      .param(int_param(as_int(team)))
      .text(" ORDER BY user_id");
  return island::query_ids(tx_of(uow), q);  // Id is the ids' type
}

Principal Directory::principal(store::UnitOfWork& uow, Id user, Principal::Kind kind) const {
  SqlFragment q;
  q.text("SELECT email, active FROM users WHERE id = ").param(int_param(as_int(user)));
  const auto row = island::query_text(tx_of(uow), q, 2);
  if (row.size() < 2) throw NotFound("no user with id " + std::to_string(user));
  if (row[1].text == "0") throw PermissionDenied(row[0].text + " is deactivated");
  return Principal{kind, user, row[0].text, roles_of(uow, user), teams_of(uow, user)};
}

}  // namespace banyan::security
