// banyan-server's settings: defaults, then a JSON file, then BANYAN_* environment
// variables, then flags (flags win). One table names each setting once: its flag, its
// variable, its key in the file and its help derive from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "banyan/rest/api.hpp"
#include "banyan/security/authenticator.hpp"
#include "banyan/security/rate_limiter.hpp"
#include "command_line.hpp"
#include "http_server.hpp"
#include "messaging_settings.hpp"

namespace banyan::server {

struct ServerConfig {
  // Where and how to listen: address, threads (0 here: one per core), SO_REUSEPORT,
  // header and body limits, request and idle deadlines. Port 0: any free port.
  HttpServerOptions http = [] {
    HttpServerOptions o;
    o.threads = 0;
    return o;
  }();
  std::string database = "sqlite://./banyan.db";
  bool messaging = true;  // relay and workers in-process
  // The sagas that run in-process (deal_won with a billing URL), their consumers, and
  // retention (applied while this server holds the relay lease).
  host::MessagingSettings sagas;
  bool demo = false;  // load demo data into an empty database
  // Limits on JSON bodies (HTTP's own are in `http`).
  rest::JsonLimits json;
  std::chrono::milliseconds shutdown_grace{10000};  // in-flight requests on SIGTERM
  bool access_log = true;
  LogLevel log_level = LogLevel::kInfo;  // the least level logged
  // Set: GET /metrics also answers "Authorization: Bearer <metrics_token>" (a scraper's
  // credential that is no user's); otherwise only administrators read it.
  std::string metrics_token;
  // Set: a file that gets a signed checkpoint of the audit trail (AuditLog::checkpoint) at
  // start, every interval in which the trail moved, and at stop. Needs the audit key.
  std::string audit_anchor;
  std::chrono::milliseconds audit_checkpoint_interval{60000};
  // How often the encryption key ring is read again (and on SIGHUP).
  std::chrono::milliseconds key_check_interval{30000};
  // The deployment's CURVE keys (messaging::CurveKeys), for a relay on tcp://.
  std::string bus_key_file;
  // Set (an issuer and an audience): bearer JWTs of this OIDC issuer are accepted beside
  // API keys.
  std::optional<security::OidcOptions> oidc;
  // Rate limits (none: off): per principal and route class, per client address, and per
  // address for failed authentications.
  using RateLimits = rest::RateLimits;
  RateLimits rate;

  // What the REST API takes of these settings.
  rest::ApiOptions api_options() const;
};

// The server's command line: declares every flag on an app (with --help and --version),
// then, once the app has parsed, reads the settings.
class ServerCommandLine {
 public:
  explicit ServerCommandLine(CLI::App& app);
  // Defaults, then the --config file, then the environment (`getenv`; a test passes its
  // own), then the flags. Throws host::UsageError naming the setting.
  ServerConfig config(const host::Getenv& getenv) const;

 private:
  host::SettingFlags flags_;
  std::string config_file_;
  bool reuse_port_ = false;
  bool no_messaging_ = false;
  bool demo_ = false;
  bool no_access_log_ = false;
  bool oidc_http_loopback_ = false;
};

// Parses `argv` (without the program name) and reads the settings. Throws
// host::UsageError, for --help too.
ServerConfig parse_server_config(const std::vector<std::string>& argv, const host::Getenv& getenv);

}  // namespace banyan::server
