#include "security/directory.hpp"

#include <chrono>

#include "banyan/errors.hpp"
#include "security/role_store.hpp"
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
  if (island::execute(tx_of(uow), ins) > 0)
    detail::audit_access(uow, "role_assigned", user, "role." + std::string(role), nullptr, true);
}

void Directory::revoke_role(store::UnitOfWork& uow, Id user, std::string_view role) const {
  SqlFragment del;
  del.text("DELETE FROM security_user_roles WHERE user_id = ")
      .param(int_param(as_int(user)))
      .text(" AND role = ")
      .param(text_param(std::string(role)));
  if (island::execute(tx_of(uow), del) > 0)
    detail::audit_access(uow, "role_revoked", user, "role." + std::string(role), true, nullptr);
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
  if (island::execute(tx_of(uow), ins) > 0)
    detail::audit_access(uow, "team_joined", user, "team." + std::to_string(team), nullptr, true);
}

void Directory::remove_member(store::UnitOfWork& uow, Id team, Id user) const {
  SqlFragment del;
  del.text("DELETE FROM security_team_members WHERE team_id = ")
      .param(int_param(as_int(team)))
      .text(" AND user_id = ")
      .param(int_param(as_int(user)));
  if (island::execute(tx_of(uow), del) > 0)
    detail::audit_access(uow, "team_left", user, "team." + std::to_string(team), true, nullptr);
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

namespace {

SqlFragment& where_identity(SqlFragment& q, const Identity& identity) {
  return q.text(" WHERE issuer = ")
      .param(text_param(identity.issuer))
      .text(" AND subject = ")
      .param(text_param(identity.subject));
}

void validate(const Identity& identity) {
  for (const auto& [name, value] :
       {std::pair{"issuer", &identity.issuer}, std::pair{"subject", &identity.subject}}) {
    if (value->empty()) throw ValidationError(std::string(name) + ": required", name);
    if (value->size() > 191) throw ValidationError(std::string(name) + ": at most 191 bytes", name);
  }
}

}  // namespace

void Directory::link_identity(store::UnitOfWork& uow, Id user, const Identity& identity) const {
  validate(identity);
  require_user(uow, user);
  if (const auto owner = user_of(uow, identity)) {
    if (*owner == user) return;
    throw Conflict("the identity " + identity.subject + " of " + identity.issuer +
                       " is linked to user " + std::to_string(*owner),
                   "subject");
  }
  SqlFragment ins;
  ins.text("INSERT INTO security_identities (issuer, subject, user_id, created_at) VALUES (")
      .param(text_param(identity.issuer))
      .text(", ")
      .param(text_param(identity.subject))
      .text(", ")
      .param(int_param(as_int(user)))
      .text(", ")
      .param(int_param(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()))
      .text(")");
  island::execute(tx_of(uow), ins);
  detail::audit_access(uow, "identity_linked", user, "identity", nullptr,
                       identity.subject + "@" + identity.issuer);
}

void Directory::unlink_identity(store::UnitOfWork& uow, const Identity& identity) const {
  const auto user = user_of(uow, identity);
  SqlFragment del;
  del.text("DELETE FROM security_identities");
  island::execute(tx_of(uow), where_identity(del, identity));
  if (user)
    detail::audit_access(uow, "identity_unlinked", *user, "identity",
                         identity.subject + "@" + identity.issuer, nullptr);
}

std::optional<Id> Directory::user_of(store::UnitOfWork& uow, const Identity& identity) const {
  SqlFragment q;
  q.text("SELECT user_id FROM security_identities");
  const auto ids = island::query_ids(tx_of(uow), where_identity(q, identity));
  if (ids.empty()) return std::nullopt;
  return ids.front();
}

std::vector<Identity> Directory::identities_of(store::UnitOfWork& uow, Id user) const {
  SqlFragment q;
  q.text("SELECT issuer, subject FROM security_identities WHERE user_id = ")
      .param(int_param(as_int(user)))
      .text(" ORDER BY issuer, subject");
  const auto cells = island::query_text(tx_of(uow), q, 2);
  std::vector<Identity> out;
  for (std::size_t i = 0; i + 1 < cells.size(); i += 2)
    out.push_back({cells[i].text, cells[i + 1].text});
  return out;
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
