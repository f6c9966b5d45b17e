// What the CLI's commands share: the database, opened only when a command's work starts
// (so a wrong command line, --help included, opens and creates nothing), the output
// streams, and the command the line chose.
#pragma once

#include <banyan/engine.hpp>
#include <banyan/model/time.hpp>
#include <banyan/store/database.hpp>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "command_line.hpp"
#include "host_log.hpp"

namespace CLI {
class App;
}

namespace banyan::cli {

using host::parse_id;
using host::UsageError;

class CommandContext {
 public:
  CommandContext(std::ostream& output, std::ostream& errors) : out(output), err(errors) {}

  // The database at database_url, opened on the first call. Throws like Database::open.
  store::Database& db();
  // The Engine on that database. The CLI acts as the system principal: whoever runs it
  // holds the database itself. Its writes are the system's in the audit trail, from "cli".
  Engine& engine();
  AdminService admin() { return engine().admin(principal()); }
  static const security::Principal& principal() {
    static const security::Principal system = security::Principal::system();
    return system;
  }
  // Runs `work` in a unit of work of the CLI's, committed (transact) or read-only (read);
  // returns what `work` returns.
  template <typename F>
  auto transact(F&& work) {
    return db().transact([&](store::UnitOfWork& uow) {
      uow.describe_actor({}, "cli");
      return work(uow);
    });
  }
  template <typename F>
  auto read(F&& work) {
    return db().read([&](store::UnitOfWork& uow) { return work(uow); });
  }
  // Makes `run` the work of `command` when the command line chooses it. Not thread-safe.
  void on(CLI::App* command, std::function<int()> run);
  // Runs the chosen command's work; its exit status.
  int run() const;

  std::string database_url;
  std::ostream& out;
  std::ostream& err;

 private:
  std::unique_ptr<host::HostLog> log_;  // outlives the database that writes to it
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<Engine> engine_;
  std::function<int()> chosen_;
};

// An instant as the CLI's tables print it: RFC 3339 to the second (format_timestamp's,
// without the fraction); "-" for none.
std::string when(Timestamp t);
std::string when(const std::optional<Timestamp>& t);

// Each adds its commands to the program's app: banyan init | demo | summary | pool-stats,
// user | role | apikey, audit, encryption and bus, dlq.
void add_store_commands(CLI::App& app, CommandContext& ctx);
void add_access_commands(CLI::App& app, CommandContext& ctx);
void add_audit_commands(CLI::App& app, CommandContext& ctx);
void add_encryption_commands(CLI::App& app, CommandContext& ctx);
void add_dlq_commands(CLI::App& app, CommandContext& ctx);

}  // namespace banyan::cli
