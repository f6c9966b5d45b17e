// banyan-server's settings: defaults, then a JSON file, then BANYAN_* environment
// variables, then flags (flags win).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace banyan::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (the log says which)
  std::string database = "sqlite://./banyan.db";
  unsigned threads = 0;        // 0: one per core
  bool reuse_port = false;     // SO_REUSEPORT, for several processes on one port
  bool messaging = true;       // relay and workers in-process
  std::string billing_url;     // set: the deal_won saga runs too (lead_conversion always)
  bool demo = false;           // load demo data into an empty database
  // Input limits.
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int max_json_depth = 32;
  std::size_t max_string_bytes = 64 << 10;
  std::chrono::milliseconds request_timeout{10000};  // a whole request, once it starts
  std::chrono::milliseconds idle_timeout{60000};     // a kept-alive connection between requests
  std::chrono::milliseconds shutdown_grace{10000};   // in-flight requests on SIGTERM
  bool access_log = true;
};

extern const char* const kServerUsage;

// Reads `argv` (without the program name) over the file named by --config and the
// environment (`getenv`; a test passes its own). Throws cli::UsageError.
ServerConfig parse_server_config(const std::vector<std::string>& argv,
                                 const std::function<std::optional<std::string>(const char*)>& getenv);

}  // namespace banyan::server
