// banyan dlq: inspect, replay and purge the dead-letter queue.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <banyan/store/database.hpp>

namespace banyan::cli {

extern const char* const kDlqUsage;

// Runs "dlq <verb> ..." (args start after "dlq"); returns the exit status.
int run_dlq(store::Database& db, const std::vector<std::string>& args, std::ostream& out);

}  // namespace banyan::cli
