// banyan-server's settings: defaults, then a JSON file, then BANYAN_* environment
// variables, then flags (flags win).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http_server.hpp"

namespace banyan::server {

struct ServerConfig {
  // Where and how to listen: address, threads (0 here: one per core), SO_REUSEPORT,
  // header and body limits, request and idle deadlines. Port 0: any free port.
  HttpServerOptions http{.threads = 0};
  std::string database = "sqlite://./banyan.db";
  bool messaging = true;       // relay and workers in-process
  std::string billing_url;     // set: the deal_won saga runs too (lead_conversion always)
  bool demo = false;           // load demo data into an empty database
  // Limits on JSON bodies (HTTP's own are in `http`).
  int max_json_depth = 32;
  std::size_t max_string_bytes = 64 << 10;
  std::chrono::milliseconds shutdown_grace{10000};  // in-flight requests on SIGTERM
  bool access_log = true;
};

extern const char* const kServerUsage;

// Reads `argv` (without the program name) over the file named by --config and the
// environment (`getenv`; a test passes its own). Throws cli::UsageError.
ServerConfig parse_server_config(const std::vector<std::string>& argv,
                                 const std::function<std::optional<std::string>(const char*)>& getenv);

}  // namespace banyan::server
