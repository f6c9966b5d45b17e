// banyan encryption: keys for encryption at rest, and resealing stored values.
#pragma once

#include <banyan/messaging/message_bus.hpp>
#include <banyan/store/database.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace banyan::cli {

extern const char* const kEncryptionUsage;

// "encryption keygen [--id ID]" and "bus keygen" need no database: print new keys.
bool is_keygen(const std::vector<std::string>& args);
int run_keygen(const std::vector<std::string>& args, std::ostream& out);
// `args` is what follows "encryption": status | rewrap [--batch N]. Throws UsageError
// and banyan::Error.
int run_encryption(store::Database& db, const std::vector<std::string>& args, std::ostream& out);

}  // namespace banyan::cli
