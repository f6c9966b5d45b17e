// banyan: the admin CLI. The composition root: describe the commands, parse the line (all
// of it, before any database is opened), run the one it names. Everything a command does
// is a call into the library. `banyan --help` lists the commands; each has its own --help.
#include <iostream>

#include <CLI/CLI.hpp>

#include "command_context.hpp"
#include "command_line.hpp"

int main(int argc, char** argv) {
  using namespace banyan;
  CLI::App app;
  host::describe_program(app, "banyan");
  app.description(
      "Banyan's administration: the schema and demo data, users, roles and API keys, the audit\n"
      "trail, encryption at rest and the dead-letter queue.");
  app.require_subcommand(1);
  app.fallthrough();  // --database may follow the command too
  host::SettingFlags settings;
  settings.add(app, {host::kDatabaseSetting});
  cli::CommandContext ctx(std::cout, std::cerr);
  cli::add_store_commands(app, ctx);
  cli::add_access_commands(app, ctx);
  cli::add_audit_commands(app, ctx);
  cli::add_encryption_commands(app, ctx);
  cli::add_dlq_commands(app, ctx);
  return host::run_program(app, argc, argv, [&] {
    ctx.database_url = host::default_database_url();
    settings.apply(host::process_environment(),
                   [&](const std::string&, const std::string& value, const std::string&) {
                     ctx.database_url = value;
                   });
    return ctx.run();
  });
}
