// banyan: the admin CLI. The composition root: parse arguments, open the store, run one
// command. Everything it does is a call into the library.
//
//   banyan init    [--database URL]   create or migrate the schema
//   banyan demo    [--database URL]   load the demo data set and print the pipeline summary
//   banyan summary [--database URL]   print the pipeline summary
//   banyan pool-stats [--database URL]
#include <banyan/banyan.hpp>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "demo.hpp"

namespace {

int usage() {
  std::cerr << "usage: banyan <init|demo|summary|pool-stats> [--database URL]\n"
               "  URL defaults to sqlite://<current directory>/banyan.db\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  std::string url = "sqlite://" + (std::filesystem::current_path() / "banyan.db").string();
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--database") == 0 && i + 1 < argc) {
      url = argv[++i];
    } else {
      return usage();
    }
  }
  try {
    auto db = banyan::store::Database::open(url);
    if (command == "init") {
      std::cout << "schema version " << db->schema_version() << " at " << url << "\n";
    } else if (command == "demo") {
      banyan::cli::load_demo_data(*db);
      std::cout << "Demo data loaded into " << url << "\n\n";
      banyan::cli::print_pipeline_summary(*db, std::cout);
      std::cout << '\n';
      banyan::cli::print_custom_field_report(*db, std::cout);
      banyan::cli::print_converted_leads(*db, std::cout);
    } else if (command == "summary") {
      banyan::cli::print_pipeline_summary(*db, std::cout);
    } else if (command == "pool-stats") {
      auto m = db->pool_metrics();
      std::cout << "created " << m.created << ", destroyed " << m.destroyed << ", in use "
                << m.in_use << ", idle " << m.idle << ", waiters " << m.waiters << ", timeouts "
                << m.timeouts << "\n";
    } else {
      return usage();
    }
  } catch (const banyan::Error& e) {
    std::cerr << "banyan: " << banyan::to_string(e.code()) << ": " << e.what();
    if (!e.field().empty()) std::cerr << " (field " << e.field() << ")";
    std::cerr << "\n";
    return 1;
  }
  return 0;
}
