// banyan audit: the audit trail from the command line.
#pragma once

#include <banyan/store/database.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace banyan::cli {

extern const char* const kAuditUsage;

// `args` is what follows "audit". Returns the exit status: for verify, 0 when the trail
// is intact and 1 when it is not. Throws UsageError and banyan::Error.
int run_audit(store::Database& db, const std::vector<std::string>& args, std::ostream& out);

}  // namespace banyan::cli
