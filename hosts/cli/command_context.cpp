#include "command_context.hpp"

#include <CLI/CLI.hpp>

namespace banyan::cli {

store::Database& CommandContext::db() {
  if (!db_) {
    // What goes wrong with the database (a connection held too long) reaches the user.
    if (!log_) log_ = std::make_unique<host::HostLog>("banyan", LogLevel::kWarning, err);
    store::DatabaseOptions options;
    options.log = log_->sink();
    db_ = store::Database::open(database_url, std::move(options));
  }
  return *db_;
}

Engine& CommandContext::engine() {
  if (!engine_) engine_ = std::make_unique<Engine>(db());
  return *engine_;
}

void CommandContext::on(CLI::App* command, std::function<int()> run) {
  command->callback([this, run = std::move(run)] { chosen_ = run; });
}

std::string when(Timestamp t) {
  const std::string text = format_timestamp(t);  // "YYYY-MM-DDTHH:MM:SS.ffffffZ"
  return text.substr(0, text.find('.')) + "Z";
}

std::string when(const std::optional<Timestamp>& t) { return t ? when(*t) : "-"; }

int CommandContext::run() const { return chosen_ ? chosen_() : 0; }

}  // namespace banyan::cli
