// banyan user / role / apikey: who may do what, from the command line.
#pragma once

#include <banyan/store/database.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace banyan::cli {

extern const char* const kAccessUsage;

// `command` is "user", "role" or "apikey"; `args` what follows it. Output to `out`; an
// API key's secret alone on its line, so scripts can take it with $(...). Returns the exit
// status; throws UsageError and banyan::Error.
int run_access(store::Database& db, const std::string& command,
               const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace banyan::cli
