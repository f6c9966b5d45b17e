#include "command_context.hpp"

#include <CLI/CLI.hpp>

namespace banyan::cli {

store::Database& CommandContext::db() {
  if (!db_) db_ = store::Database::open(database_url);
  return *db_;
}

void CommandContext::on(CLI::App* command, std::function<int()> run) {
  command->callback([this, run = std::move(run)] { chosen_ = run; });
}

int CommandContext::run() const { return chosen_ ? chosen_() : 0; }

}  // namespace banyan::cli
