#include "config.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace banyan::server {

namespace {

using host::UsageError;

unsigned long long parse_number(const std::string& name, const std::string& text,
                                unsigned long long max) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text[0] == '-' || v > max)
    throw UsageError(name + ": '" + text + "' is not a number from 0 to " + std::to_string(max));
  return v;
}

std::chrono::seconds parse_seconds(const std::string& name, const std::string& text) {
  const auto ms = host::parse_millis(text, name);
  if (ms.count() % 1000 != 0) throw UsageError(name + ": '" + text + "' is not whole seconds");
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

HttpServerOptions::Tls& tls(ServerConfig& c) {
  if (!c.http.tls) c.http.tls.emplace();
  return *c.http.tls;
}

security::OidcOptions& oidc(ServerConfig& c) {
  if (!c.oidc) c.oidc.emplace();
  return *c.oidc;
}

void set_listen(ServerConfig& c, const std::string& name, const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw UsageError(name + ": '" + text + "' is not HOST:PORT");
  c.http.host = text.substr(0, colon);
  if (c.http.host.size() > 2 && c.http.host.front() == '[' && c.http.host.back() == ']')
    c.http.host = c.http.host.substr(1, c.http.host.size() - 2);
  c.http.port = static_cast<unsigned short>(parse_number(name, text.substr(colon + 1), 65535));
}

// "N/DURATION" or "N/DURATION,BURST" (burst defaults to N), or "off".
std::optional<security::RateLimit> parse_rate(const std::string& name, const std::string& text) {
  if (text == "off") return std::nullopt;
  const auto slash = text.find('/');
  const auto comma = text.find(',');
  auto bad = [&]() {
    return UsageError(name + ": '" + text + "' is not N/DURATION[,BURST] or off");
  };
  if (slash == std::string::npos || slash == 0) throw bad();
  security::RateLimit limit;
  limit.rate = static_cast<double>(parse_number(name, text.substr(0, slash), 1ull << 40));
  limit.period = host::parse_millis(
      text.substr(slash + 1, comma == std::string::npos ? std::string::npos : comma - slash - 1),
      name);
  limit.burst = comma == std::string::npos
                    ? limit.rate
                    : static_cast<double>(parse_number(name, text.substr(comma + 1), 1ull << 40));
  try {
    limit.validate();
  } catch (const std::exception& e) {
    throw UsageError(name + ": " + e.what());
  }
  return limit;
}

// One setting by its key; `name` is how the user wrote it, for messages.
void apply(ServerConfig& c, const std::string& key, const std::string& value,
           const std::string& name) {
  if (key == "listen")
    set_listen(c, name, value);
  else if (key == "database")
    c.database = value;
  else if (key == "threads")
    c.http.threads = static_cast<unsigned>(parse_number(name, value, 256));
  else if (key == "max_body")
    c.http.max_body_bytes = parse_number(name, value, 1ull << 30);
  else if (key == "max_json_members")
    c.json.max_members = parse_number(name, value, 1u << 24);
  else if (key == "max_json_elements")
    c.json.max_elements = parse_number(name, value, 1u << 24);
  else if (key == "request_timeout")
    c.http.request_timeout = host::parse_millis(value, name);
  else if (key == "handler_timeout")
    c.http.handler_timeout = host::parse_millis(value, name);
  else if (key == "handler_threads")
    c.http.handler_threads = static_cast<unsigned>(parse_number(name, value, 1024));
  else if (key == "idle_timeout")
    c.http.idle_timeout = host::parse_millis(value, name);
  else if (key == "max_connections")
    c.http.max_connections = parse_number(name, value, 1u << 24);
  else if (key == "max_connections_per_address")
    c.http.max_connections_per_address = parse_number(name, value, 1u << 24);
  else if (key == "shutdown_grace")
    c.shutdown_grace = host::parse_millis(value, name);
  else if (key == "metrics_token") {
    if (value.size() < 16) throw UsageError(name + ": a metrics token is at least 16 characters");
    c.metrics_token = value;
  } else if (key == "audit_anchor")
    c.audit_anchor = value;
  else if (key == "log_level")
    c.log_level = host::parse_log_level(value, name);
  else if (key == "bus_key_file")
    c.bus_key_file = value;
  else if (key == "key_check_interval") {
    c.key_check_interval = host::parse_millis(value, name);
    if (c.key_check_interval < std::chrono::seconds(1)) throw UsageError(name + ": at least 1s");
  } else if (key == "audit_checkpoint_interval") {
    c.audit_checkpoint_interval = host::parse_millis(value, name);
    if (c.audit_checkpoint_interval < std::chrono::seconds(1))
      throw UsageError(name + ": at least 1s");
  } else if (key == "rate_reads")
    c.rate.reads = parse_rate(name, value);
  else if (key == "rate_writes")
    c.rate.writes = parse_rate(name, value);
  else if (key == "rate_bulk")
    c.rate.bulk = parse_rate(name, value);
  else if (key == "rate_address")
    c.rate.address = parse_rate(name, value);
  else if (key == "rate_auth_failures")
    c.rate.auth_failures = parse_rate(name, value);
  else if (key == "tls_cert")
    tls(c).certificate_file = value;
  else if (key == "tls_key")
    tls(c).private_key_file = value;
  else if (key == "tls_min_version") {
    if (value != "1.2" && value != "1.3")
      throw UsageError(name + ": '" + value + "' is not 1.3 or 1.2");
    tls(c).allow_tls12 = value == "1.2";
  } else if (key == "hsts_max_age")
    tls(c).hsts_max_age = parse_seconds(name, value);
  else if (key == "oidc_issuer")
    oidc(c).issuer = value;
  else if (key == "oidc_audience")
    oidc(c).audience = value;
  else if (key == "oidc_jwks_file")
    oidc(c).jwks_file = value;
  else if (key == "oidc_clock_skew")
    oidc(c).clock_skew = parse_seconds(name, value);
  else if (key == "oidc_key_refresh")
    oidc(c).key_refresh_interval = parse_seconds(name, value);
  else if (key == "oidc_key_max_age")
    oidc(c).key_max_age = parse_seconds(name, value);
  else if (!c.sagas.apply(key, value, name))
    throw UsageError(name + ": not a setting");
}

void apply_file(ServerConfig& c, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--config: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw UsageError("--config: " + path + " is not a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (value.is_boolean()) {
      if (key == "reuse_port")
        c.http.reuse_port = value.get<bool>();
      else if (key == "messaging")
        c.messaging = value.get<bool>();
      else if (key == "demo")
        c.demo = value.get<bool>();
      else if (key == "access_log")
        c.access_log = value.get<bool>();
      else if (key == "oidc_allow_http_loopback")
        oidc(c).allow_http_loopback = value.get<bool>();
      else
        throw UsageError(path + ": " + key + ": not a yes/no setting");
    } else if (value.is_string()) {
      apply(c, key, value.get<std::string>(), path + ": " + key);
    } else if (value.is_number_unsigned()) {
      apply(c, key, std::to_string(value.get<unsigned long long>()), path + ": " + key);
    } else {
      throw UsageError(path + ": " + key + ": expected a string, a number or true/false");
    }
  }
}

const std::vector<host::Setting>& server_settings() {
  static const std::vector<host::Setting> kSettings = {
      {"listen", "HOST:PORT", "Address to serve (127.0.0.1:8080; port 0: any free port)"},
      host::kDatabaseSetting,
      {"threads", "N", "I/O threads (one per core)"},
      {"max_body", "BYTES", "Largest request body (1 MiB; at least 1024)"},
      {"max_json_members", "N", "Members in one JSON object (1000; at least 64)"},
      {"max_json_elements", "N", "Elements in one JSON array (10000; at least 100)"},
      {"request_timeout", "DURATION", "Reading a request once it starts, writing an answer (10s)"},
      {"idle_timeout", "DURATION", "A kept-alive connection between requests (60s)"},
      {"handler_threads", "N",
       "Threads that answer requests (16), apart from the I/O threads, so /healthz and /readyz "
       "answer "
       "while the database is stalled; 0 answers on the I/O threads"},
      {"handler_timeout", "DURATION",
       "A request not answered by then gets 503 with Retry-After and its work is rolled back "
       "(10s)"},
      {"max_connections", "N",
       "Open connections (the open-file limit, raised to its hard limit at start, less 128); past "
       "a cap "
       "the longest-idle connection is closed to make room, else 503"},
      {"max_connections_per_address", "N", "Open connections from one client address (256)"},
      {"shutdown_grace", "DURATION", "In-flight requests finish within this on SIGTERM (10s)"},
      {"metrics_token", "TOKEN",
       "GET /metrics also answers a scraper showing this bearer token (16 characters or more); "
       "otherwise only administrators read it"},
      {"audit_anchor", "FILE",
       "Append a signed checkpoint of the audit trail here at start, every interval the trail "
       "moved and "
       "at stop (needs BANYAN_AUDIT_KEY_FILE); banyan audit verify --anchor FILE checks against "
       "it"},
      {"audit_checkpoint_interval", "DURATION",
       "How often the audit anchor may get a checkpoint (1m)"},
      host::kBusKeyFileSetting,
      host::kLogLevelSetting,
      {"key_check_interval", "DURATION",
       "Read the encryption key ring again this often and on SIGHUP (30s); a ring that lacks a key "
       "the "
       "database uses is refused, and problems make /readyz answer 503"},
      {"rate_reads", "N/DURATION[,BURST]|off", "Reads per principal (200/1s,400)"},
      {"rate_writes", "N/DURATION[,BURST]|off", "Writes per principal (50/1s,100)"},
      {"rate_bulk", "N/DURATION[,BURST]|off", "Batches and exports per principal (20/1s,40)"},
      {"rate_address", "N/DURATION[,BURST]|off", "Requests per client address (1000/1s,2000)"},
      {"rate_auth_failures", "N/DURATION[,BURST]|off",
       "Failed authentications per address, past which it gets 429 (10/1m,10)"},
      {"oidc_issuer", "URL",
       "Accept this OpenID Connect issuer's bearer JWTs beside API keys (https://, or http:// on "
       "loopback "
       "with --oidc-allow-http-loopback); with --oidc-audience"},
      {"oidc_audience", "AUD", "The audience those tokens must name"},
      {"oidc_jwks_file", "FILE", "The issuer's keys from this file, not its discovery document"},
      {"oidc_clock_skew", "DURATION", "Clock skew allowed on token times (60s)"},
      {"oidc_key_refresh", "DURATION",
       "A token naming an unknown key fetches the keys again at most this often (30s)"},
      {"oidc_key_max_age", "DURATION",
       "Keys older than this are fetched again; the old ones serve if that fails (1h)"},
      {"tls_cert", "FILE", "PEM certificate chain: HTTPS only (with --tls-key)"},
      {"tls_key", "FILE", "PEM private key"},
      {"tls_min_version", "1.3|1.2", "Oldest TLS version (1.3)"},
      {"hsts_max_age", "DURATION", "Strict-Transport-Security max-age (a year; 0 for none)"},
  };
  return kSettings;
}

}  // namespace

ServerCommandLine::ServerCommandLine(CLI::App& app) {
  host::describe_program(app, "banyan-server");
  app.description("Serves Banyan's REST API.");
  app.add_option("--config", config_file_,
                 "A JSON object of settings by key (listen, max_body, ...)")
      ->type_name("FILE");
  flags_.add(app, server_settings());
  flags_.add(app, host::MessagingSettings::settings());
  app.add_flag("--reuse-port", reuse_port_, "Listen with SO_REUSEPORT, beside other servers");
  app.add_flag("--no-messaging", no_messaging_, "Run no relay or saga in this process");
  app.add_flag("--demo", demo_, "Load the demo data into an empty database");
  app.add_flag("--no-access-log", no_access_log_, "Write no line per request");
  app.add_flag("--oidc-allow-http-loopback", oidc_http_loopback_,
               "Allow an http:// issuer on a loopback address");
  app.footer(
      "Settings come from the --config file, then BANYAN_* variables (named after each flag), "
      "then\n"
      "flags: flags win. Sensitive values are encrypted at rest with the key ring in\n"
      "BANYAN_ENCRYPTION_KEY_FILE (or BANYAN_ENCRYPTION_KEYS): see banyan encryption keygen. With "
      "an\n"
      "audit key in BANYAN_AUDIT_KEY_FILE (one key line, apart from the encryption keys) the "
      "audit\n"
      "trail's chain is keyed.");
}

ServerConfig ServerCommandLine::config(const host::Getenv& getenv) const {
  ServerConfig c;
  if (!config_file_.empty()) apply_file(c, config_file_);
  flags_.apply(getenv, [&](const std::string& key, const std::string& value,
                           const std::string& name) { apply(c, key, value, name); });
  if (reuse_port_) c.http.reuse_port = true;
  if (no_messaging_) c.messaging = false;
  if (demo_) c.demo = true;
  if (no_access_log_) c.access_log = false;
  if (oidc_http_loopback_) oidc(c).allow_http_loopback = true;
  if (c.http.threads == 0) c.http.threads = std::max(1u, std::thread::hardware_concurrency());
  if (c.http.max_connections_per_address < 1)
    throw UsageError("max_connections_per_address: at least 1");
  if (c.http.max_body_bytes < 1024) throw UsageError("max_body: at least 1024 bytes");
  if (c.json.max_members < 64) throw UsageError("max_json_members: at least 64");
  if (c.json.max_elements < 100)
    throw UsageError("max_json_elements: at least 100 (a batch holds 100)");
  if (c.http.tls && (c.http.tls->certificate_file.empty() || c.http.tls->private_key_file.empty()))
    throw UsageError("tls: a certificate and a key go together (--tls-cert, --tls-key)");
  c.sagas.validate();
  if (c.oidc && (c.oidc->issuer.empty() || c.oidc->audience.empty()))
    throw UsageError(
        "oidc: an issuer and an audience go together (--oidc-issuer, --oidc-audience)");
  return c;
}

rest::ApiOptions ServerConfig::api_options() const {
  rest::ApiOptions o;
  o.json = json;
  o.rate = rate;
  o.access_log = access_log;
  o.metrics_token = metrics_token;
  o.oidc = oidc;
  return o;
}

ServerConfig parse_server_config(const std::vector<std::string>& argv, const host::Getenv& getenv) {
  CLI::App app;
  const ServerCommandLine line(app);
  host::parse_or_throw(app, argv);
  return line.config(getenv);
}

}  // namespace banyan::server
