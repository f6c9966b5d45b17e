// banyan user | role | apikey: who may do what, from the command line. An API key's secret
// is printed alone on its line, so scripts can take it with $(...).
#include <banyan/errors.hpp>

#include <CLI/CLI.hpp>

#include "command_context.hpp"

namespace banyan::cli {

namespace {

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

void add_user_commands(CLI::App& app, CommandContext& ctx) {
  auto* user =
      app.add_subcommand("user", "Users: add, show, link an OIDC identity")->require_subcommand(1);

  auto* add = user->add_subcommand("add", "Add a user (prints the id)");
  struct AddArgs {
    std::string email, name;
    std::vector<std::string> roles;
    std::vector<std::uint64_t> teams;
    bool if_missing = false;
  };
  auto a = std::make_shared<AddArgs>();
  add->add_option("--email", a->email, "The user's email")->required();
  add->add_option("--name", a->name, "The user's name")->required();
  add->add_option("--role", a->roles, "A role to grant (repeatable)")->allow_extra_args(false);
  add->add_option("--team", a->teams, "A team to join (repeatable)")
      ->type_name("ID")
      ->check(host::number_check())
      ->allow_extra_args(false);
  add->add_flag("--if-missing", a->if_missing, "Reuse the user with this email when there is one");
  ctx.on(add, [&ctx, a] {
    const auto admin = ctx.admin();
    const auto users = ctx.engine().users(CommandContext::principal());
    const Id id = ctx.transact([&](store::UnitOfWork& uow) {
      store::PageRequest by_email;
      by_email.filter = store::Filter::eq("email", a->email);
      auto found = users.query(uow, by_email).items;
      Id created = 0;
      if (!found.empty() && a->if_missing) {
        created = found.front().id;
      } else {
        User u;
        u.email = a->email;
        u.name = a->name;
        created = users.create(uow, u).id;
      }
      for (const auto& role : a->roles) admin.assign_role(uow, created, role);
      for (const auto team : a->teams) admin.add_member(uow, team, created);
      return created;
    });
    ctx.out << id << "\n";
    return 0;
  });

  auto* show = user->add_subcommand("show", "A user's roles, teams and identities");
  auto show_id = std::make_shared<std::uint64_t>(0);
  show->add_option("id", *show_id, "The user")
      ->type_name("ID")
      ->check(host::number_check())
      ->required();
  ctx.on(show, [&ctx, show_id] {
    const auto admin = ctx.admin();
    ctx.read([&](store::UnitOfWork& uow) {
      const auto who = admin.principal_of(uow, *show_id);
      ctx.out << "user " << *who.user_id << " " << who.name << "\n  roles:";
      for (const auto& r : who.roles) ctx.out << ' ' << r;
      ctx.out << "\n  teams:";
      for (Id t : who.team_ids) ctx.out << ' ' << t;
      ctx.out << "\n  identities:";
      for (const auto& i : admin.identities_of(uow, *who.user_id))
        ctx.out << ' ' << i.subject << '@' << i.issuer;
      ctx.out << "\n";
    });
    return 0;
  });

  // link ID and unlink: an issuer's subject acts as the user (or no longer does).
  for (const bool link : {true, false}) {
    auto* sub = user->add_subcommand(link ? "link" : "unlink",
                                     link ? "Tokens of this issuer's subject act as the user"
                                          : "Tokens of this issuer's subject act as no one");
    struct LinkArgs {
      std::uint64_t id = 0;
      std::string issuer, subject;
    };
    auto l = std::make_shared<LinkArgs>();
    if (link)
      sub->add_option("id", l->id, "The user")
          ->type_name("ID")
          ->check(host::number_check())
          ->required();
    sub->add_option("--issuer", l->issuer, "The OIDC issuer")->type_name("URL")->required();
    sub->add_option("--subject", l->subject, "The token's subject")->type_name("SUB")->required();
    ctx.on(sub, [&ctx, l, link] {
      const security::Identity identity{l->issuer, l->subject};
      const auto admin = ctx.admin();
      ctx.transact([&](store::UnitOfWork& uow) {
        if (link)
          admin.link_identity(uow, l->id, identity);
        else
          admin.unlink_identity(uow, identity);
      });
      ctx.out << (link ? "linked " : "unlinked ") << l->subject << " of " << l->issuer << "\n";
      return 0;
    });
  }
}

void add_role_commands(CLI::App& app, CommandContext& ctx) {
  auto* role = app.add_subcommand("role", "Roles: what each may do")->require_subcommand(1);

  ctx.on(role->add_subcommand("list", "Every role"), [&ctx] {
    const auto admin = ctx.admin();
    ctx.read([&](store::UnitOfWork& uow) {
      for (const auto& r : admin.roles(uow))
        ctx.out << r.name << (r.built_in ? " (built-in)" : "") << ": " << r.description << "\n";
    });
    return 0;
  });

  // show NAME and delete NAME
  for (const bool show : {true, false}) {
    auto* sub = role->add_subcommand(show ? "show" : "delete",
                                     show ? "A role and its grants" : "Delete a role");
    auto name = std::make_shared<std::string>();
    sub->add_option("name", *name, "The role")->type_name("NAME")->required();
    ctx.on(sub, [&ctx, name, show] {
      const auto admin = ctx.admin();
      if (show) {
        ctx.read([&](store::UnitOfWork& uow) { print_role(admin.role(uow, *name), ctx.out); });
      } else {
        ctx.transact([&](store::UnitOfWork& uow) { admin.remove_role(uow, *name); });
        ctx.out << "deleted role " << *name << "\n";
      }
      return 0;
    });
  }

  auto* create = role->add_subcommand("create", "Define a role");
  struct CreateArgs {
    std::string name, description;
    std::vector<std::string> grants;
  };
  auto c = std::make_shared<CreateArgs>();
  create->add_option("name", c->name, "The role")->type_name("NAME")->required();
  create->add_option("--grant", c->grants, "TYPE:ACTION:SCOPE, e.g. deal:read:team (repeatable)")
      ->allow_extra_args(false);
  create->add_option("--description", c->description, "What the role is for")->type_name("TEXT");
  ctx.on(create, [&ctx, c] {
    security::Role r{c->name, c->description, {}, false};
    for (const auto& g : c->grants) r.grants.push_back(parse_grant(g));
    const auto admin = ctx.admin();
    ctx.transact([&](store::UnitOfWork& uow) { print_role(admin.create_role(uow, r), ctx.out); });
    return 0;
  });

  // assign USER ROLE and revoke USER ROLE
  for (const bool assign : {true, false}) {
    auto* sub = role->add_subcommand(assign ? "assign" : "revoke",
                                     assign ? "Grant a user a role" : "Take a role from a user");
    struct GrantArgs {
      std::uint64_t user = 0;
      std::string role;
    };
    auto g = std::make_shared<GrantArgs>();
    sub->add_option("user", g->user, "The user")
        ->type_name("USER_ID")
        ->check(host::number_check())
        ->required();
    sub->add_option("role", g->role, "The role")->type_name("ROLE")->required();
    ctx.on(sub, [&ctx, g, assign] {
      const auto admin = ctx.admin();
      ctx.transact([&](store::UnitOfWork& uow) {
        if (assign)
          admin.assign_role(uow, g->user, g->role);
        else
          admin.revoke_role(uow, g->user, g->role);
      });
      ctx.out << (assign ? "assigned " : "revoked ") << g->role
              << (assign ? " to user " : " from user ") << g->user << "\n";
      return 0;
    });
  }
}

void add_apikey_commands(CLI::App& app, CommandContext& ctx) {
  auto* apikey =
      app.add_subcommand("apikey", "API keys: create, list, revoke")->require_subcommand(1);

  auto* create = apikey->add_subcommand("create", "Issue a key (prints the secret, once)");
  struct CreateArgs {
    std::uint64_t user = 0;
    std::string name;
  };
  auto c = std::make_shared<CreateArgs>();
  create->add_option("--user", c->user, "The user the key acts as")
      ->type_name("ID")
      ->check(host::number_check())
      ->required();
  create->add_option("--name", c->name, "What the key is for")->required();
  ctx.on(create, [&ctx, c] {
    const auto admin = ctx.admin();
    const auto issued = ctx.transact(
        [&](store::UnitOfWork& uow) { return admin.issue_api_key(uow, c->user, c->name); });
    ctx.out << issued.secret << "\n";
    ctx.err << "API key " << issued.key.id << " (" << issued.key.prefix << ") for user "
            << issued.key.user_id << ": the secret above is shown only now\n";
    return 0;
  });

  auto* list = apikey->add_subcommand("list", "Every key (never a secret)");
  auto user = std::make_shared<std::uint64_t>(0);
  CLI::Option* only_user = list->add_option("--user", *user, "Only this user's keys")
                               ->type_name("ID")
                               ->check(host::number_check());
  ctx.on(list, [&ctx, user, only_user] {
    std::optional<Id> of;
    if (only_user->count() > 0) of = *user;
    const auto admin = ctx.admin();
    ctx.read([&](store::UnitOfWork& uow) {
      for (const auto& k : admin.api_keys(uow, of)) {
        ctx.out << k.id << "  " << k.prefix << "  user " << k.user_id << "  " << k.name
                << "  created " << when(k.created_at) << "  last used " << when(k.last_used_at)
                << (k.revoked_at ? "  revoked " + when(k.revoked_at) : std::string()) << "\n";
      }
    });
    return 0;
  });

  auto* revoke = apikey->add_subcommand("revoke", "Revoke a key");
  auto key = std::make_shared<std::uint64_t>(0);
  revoke->add_option("id", *key, "The key")
      ->type_name("ID")
      ->check(host::number_check())
      ->required();
  ctx.on(revoke, [&ctx, key] {
    const auto admin = ctx.admin();
    const auto k =
        ctx.transact([&](store::UnitOfWork& uow) { return admin.revoke_api_key(uow, *key); });
    ctx.out << "revoked API key " << k.id << " (" << k.prefix << ")\n";
    return 0;
  });
}

}  // namespace

void add_access_commands(CLI::App& app, CommandContext& ctx) {
  add_user_commands(app, ctx);
  add_role_commands(app, ctx);
  add_apikey_commands(app, ctx);
}

}  // namespace banyan::cli
