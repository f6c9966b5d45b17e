#include "access_command.hpp"

#include <banyan/errors.hpp>
#include <banyan/security/api_key_store.hpp>
#include <banyan/security/directory.hpp>
#include <banyan/security/role_store.hpp>
#include <ctime>

#include "args.hpp"

namespace banyan::cli {

const char* const kAccessUsage =
    "  banyan user add --email E --name N [--role R]... [--team ID]... [--if-missing]\n"
    "  banyan user show ID\n"
    "  banyan user link ID --issuer URL --subject SUB   (tokens of that subject act as the user)\n"
    "  banyan user unlink --issuer URL --subject SUB\n"
    "  banyan role list | show NAME | delete NAME\n"
    "  banyan role create NAME --grant TYPE:ACTION:SCOPE... [--description TEXT]\n"
    "  banyan role assign USER_ID ROLE | revoke USER_ID ROLE\n"
    "  banyan apikey create --user ID --name N   (prints the secret, once)\n"
    "  banyan apikey list [--user ID] | revoke ID\n";

namespace {

std::string when(const std::optional<Timestamp>& t) {
  if (!t) return "-";
  const std::time_t secs =
      std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_role(const security::Role& role, std::ostream& out) {
  out << role.name << (role.built_in ? " (built-in)" : "") << ": " << role.description << "\n";
  for (const auto& g : role.grants)
    out << "  " << to_string(g.type) << ':' << security::to_string(g.action) << ':'
        << security::to_string(g.scope) << "\n";
}

security::Grant parse_grant(const std::string& text) {
  const auto a = text.find(':');
  const auto b = a == std::string::npos ? a : text.find(':', a + 1);
  if (b == std::string::npos)
    throw UsageError("--grant takes TYPE:ACTION:SCOPE, e.g. deal:read:team");
  return {parse_object_type(text.substr(0, a)),
          security::parse_action(text.substr(a + 1, b - a - 1), "grant"),
          security::parse_scope(text.substr(b + 1), "grant")};
}

int user_command(store::Database& db, const Args& a, std::ostream& out) {
  const auto& p = a.positionals();
  const security::Directory directory;
  if (p.size() == 1 && p[0] == "add") {
    const auto email = a.option("--email");
    const auto name = a.option("--name");
    if (!email || !name) throw UsageError("user add needs --email and --name");
    const Id id = db.transact([&](store::UnitOfWork& uow) {
      store::PageRequest by_email;
      by_email.filter = store::Filter::eq("email", *email);
      auto found = db.users().query(uow, by_email).items;
      Id user = 0;
      if (!found.empty() && a.flag("--if-missing")) {
        user = found.front().id;
      } else {
        User u;
        u.email = *email;
        u.name = *name;
        user = db.users().create(uow, u).id;
      }
      for (const auto& role : a.all("--role")) directory.assign_role(uow, user, role);
      for (const auto& team : a.all("--team")) directory.add_member(uow, parse_id(team), user);
      return user;
    });
    out << id << "\n";
    return 0;
  }
  if (p.size() == 2 && p[0] == "show") {
    db.read([&](store::UnitOfWork& uow) {
      const auto who = directory.principal(uow, parse_id(p[1]));
      out << "user " << *who.user_id << " " << who.name << "\n  roles:";
      for (const auto& r : who.roles) out << ' ' << r;
      out << "\n  teams:";
      for (Id t : who.team_ids) out << ' ' << t;
      out << "\n  identities:";
      for (const auto& i : directory.identities_of(uow, *who.user_id)) out << ' ' << i.subject << '@' << i.issuer;
      out << "\n";
    });
    return 0;
  }
  if ((p.size() == 2 && p[0] == "link") || (p.size() == 1 && p[0] == "unlink")) {
    const auto issuer = a.option("--issuer");
    const auto subject = a.option("--subject");
    if (!issuer || !subject) throw UsageError("user " + p[0] + " needs --issuer and --subject");
    const security::Identity identity{*issuer, *subject};
    db.transact([&](store::UnitOfWork& uow) {
      if (p[0] == "link") directory.link_identity(uow, parse_id(p[1]), identity);
      else directory.unlink_identity(uow, identity);
    });
    out << p[0] << "ed " << *subject << " of " << *issuer << "\n";
    return 0;
  }
  throw UsageError("user: add, show, link or unlink");
}

int role_command(store::Database& db, const Args& a, std::ostream& out) {
  const auto& p = a.positionals();
  const security::RoleStore roles;
  if (p.size() == 1 && p[0] == "list") {
    db.read([&](store::UnitOfWork& uow) {
      for (const auto& r : roles.list(uow))
        out << r.name << (r.built_in ? " (built-in)" : "") << ": " << r.description << "\n";
    });
    return 0;
  }
  if (p.size() == 2 && p[0] == "show") {
    db.read([&](store::UnitOfWork& uow) { print_role(roles.get(uow, p[1]), out); });
    return 0;
  }
  if (p.size() == 2 && p[0] == "create") {
    security::Role role{p[1], a.option("--description").value_or(""), {}, false};
    for (const auto& g : a.all("--grant")) role.grants.push_back(parse_grant(g));
    db.transact([&](store::UnitOfWork& uow) { print_role(roles.create(uow, role), out); });
    return 0;
  }
  if (p.size() == 2 && p[0] == "delete") {
    db.transact([&](store::UnitOfWork& uow) { roles.remove(uow, p[1]); });
    out << "deleted role " << p[1] << "\n";
    return 0;
  }
  if (p.size() == 3 && (p[0] == "assign" || p[0] == "revoke")) {
    const Id user = parse_id(p[1]);
    db.transact([&](store::UnitOfWork& uow) {
      if (p[0] == "assign")
        security::Directory().assign_role(uow, user, p[2]);
      else
        security::Directory().revoke_role(uow, user, p[2]);
    });
    out << (p[0] == "assign" ? "assigned " : "revoked ") << p[2]
        << (p[0] == "assign" ? " to user " : " from user ") << user << "\n";
    return 0;
  }
  throw UsageError("role: list, show, create, delete, assign or revoke");
}

int apikey_command(store::Database& db, const Args& a, std::ostream& out, std::ostream& err) {
  const auto& p = a.positionals();
  const security::ApiKeyStore keys;
  if (p.size() == 1 && p[0] == "create") {
    const auto user = a.option("--user");
    const auto name = a.option("--name");
    if (!user || !name) throw UsageError("apikey create needs --user and --name");
    const auto issued = db.transact(
        [&](store::UnitOfWork& uow) { return keys.create(uow, parse_id(*user), *name); });
    out << issued.secret << "\n";
    err << "API key " << issued.key.id << " (" << issued.key.prefix << ") for user "
        << issued.key.user_id << ": the secret above is shown only now\n";
    return 0;
  }
  if (p.size() == 1 && p[0] == "list") {
    std::optional<Id> user;
    if (auto u = a.option("--user")) user = parse_id(*u);
    db.read([&](store::UnitOfWork& uow) {
      for (const auto& k : keys.list(uow, user)) {
        out << k.id << "  " << k.prefix << "  user " << k.user_id << "  " << k.name << "  created "
            << when(k.created_at) << "  last used " << when(k.last_used_at)
            << (k.revoked_at ? "  revoked " + when(k.revoked_at) : std::string()) << "\n";
      }
    });
    return 0;
  }
  if (p.size() == 2 && p[0] == "revoke") {
    const auto k =
        db.transact([&](store::UnitOfWork& uow) { return keys.revoke(uow, parse_id(p[1])); });
    out << "revoked API key " << k.id << " (" << k.prefix << ")\n";
    return 0;
  }
  throw UsageError("apikey: create, list or revoke");
}

}  // namespace

int run_access(store::Database& db, const std::string& command,
               const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const Args a(args,
               {"--email", "--name", "--role", "--team", "--grant", "--description", "--user", "--issuer",
                "--subject"});
  a.only_switches({"--if-missing"});
  if (command == "user") return user_command(db, a, out);
  if (command == "role") return role_command(db, a, out);
  return apikey_command(db, a, out, err);
}

}  // namespace banyan::cli
