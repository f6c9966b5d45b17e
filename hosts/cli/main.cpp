// banyan: the admin CLI. The composition root: parse arguments, open the store, run one
// command. Everything it does is a call into the library.
//
//   banyan init       [--database URL]   create or migrate the schema
//   banyan demo       [--database URL]   load the demo data set and print the pipeline summary
//   banyan summary    [--database URL]   print the pipeline summary
//   banyan pool-stats [--database URL]
//   banyan dlq ...    [--database URL]   the dead-letter queue (see usage)
//   banyan user | role | apikey ...     who may do what (see usage)
//   banyan audit verify | list | history    the audit trail (see usage)
//   banyan encryption keygen | status | rewrap   encryption at rest (see usage)
//   banyan bus keygen                            CURVE keys for the bus on tcp://
#include <banyan/banyan.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "access_command.hpp"
#include "args.hpp"
#include "audit_command.hpp"
#include "demo.hpp"
#include "dlq_command.hpp"
#include "encryption_command.hpp"

namespace {

int usage(const std::string& problem = {}) {
  if (!problem.empty()) std::cerr << "banyan: " << problem << "\n";
  std::cerr << "usage: banyan <command> [--database URL]\n"
               "  banyan init | demo | summary | pool-stats\n"
            << banyan::cli::kDlqUsage << banyan::cli::kAccessUsage << banyan::cli::kAuditUsage
            << banyan::cli::kEncryptionUsage
            << "  URL defaults to sqlite://<current directory>/banyan.db\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  std::string url = "sqlite://" + (std::filesystem::current_path() / "banyan.db").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--database") {
      if (i + 1 >= argc) return usage("--database needs a URL");
      url = argv[++i];
    } else {
      args.push_back(a);
    }
  }
  if (args.empty()) return usage();
  const std::string command = args[0];
  try {
    if (banyan::cli::is_keygen(args)) return banyan::cli::run_keygen(args, std::cout);
    auto db = banyan::store::Database::open(url);
    if (command == "init" && args.size() == 1) {
      std::cout << "schema version " << db->schema_version() << " at " << url << "\n";
    } else if (command == "demo" && args.size() == 1) {
      banyan::cli::load_demo_data(*db);
      std::cout << "Demo data loaded into " << url << "\n\n";
      banyan::cli::print_pipeline_summary(*db, std::cout);
      std::cout << '\n';
      banyan::cli::print_custom_field_report(*db, std::cout);
      banyan::cli::print_converted_leads(*db, std::cout);
    } else if (command == "summary" && args.size() == 1) {
      banyan::cli::print_pipeline_summary(*db, std::cout);
    } else if (command == "pool-stats" && args.size() == 1) {
      auto m = db->pool_metrics();
      std::cout << "created " << m.created << ", destroyed " << m.destroyed << ", in use "
                << m.in_use << ", idle " << m.idle << ", waiters " << m.waiters << ", timeouts "
                << m.timeouts << "\n";
    } else if (command == "user" || command == "role" || command == "apikey") {
      return banyan::cli::run_access(*db, command, std::vector<std::string>(args.begin() + 1, args.end()), std::cout,
                                     std::cerr);
    } else if (command == "audit") {
      return banyan::cli::run_audit(*db, std::vector<std::string>(args.begin() + 1, args.end()), std::cout);
    } else if (command == "encryption") {
      return banyan::cli::run_encryption(*db, std::vector<std::string>(args.begin() + 1, args.end()), std::cout);
    } else if (command == "dlq") {
      return banyan::cli::run_dlq(*db, std::vector<std::string>(args.begin() + 1, args.end()), std::cout);
    } else {
      return usage("unknown command '" + command + "'");
    }
  } catch (const banyan::cli::UsageError& e) {
    return usage(e.what());
  } catch (const banyan::Error& e) {
    std::cerr << "banyan: " << banyan::to_string(e.code()) << ": " << e.what();
    if (!e.field().empty()) std::cerr << " (field " << e.field() << ")";
    std::cerr << "\n";
    return 1;
  }
  return 0;
}
