#include "config.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "args.hpp"

namespace banyan::server {

const char* const kServerUsage =
    "usage: banyan-server [--config FILE] [--listen HOST:PORT] [--database URL] [--threads N]\n"
    "                     [--reuse-port] [--no-messaging] [--demo] [--max-body BYTES]\n"
    "                     [--max-json-members N] [--max-json-elements N]\n"
    "                     [--request-timeout DURATION] [--idle-timeout DURATION]\n"
    "                     [--handler-threads N] [--handler-timeout DURATION]\n"
    "                     [--max-connections N] [--max-connections-per-address N]\n"
    "                     [--shutdown-grace DURATION] [--no-access-log] [--billing-url URL]\n"
    "                     [--billing-timeout DURATION] [--saga-lease DURATION] [--consumers N|QUEUE=N[,...]]\n"
    "                     [--outbox-retention DURATION] [--processed-retention DURATION]\n"
    "                     [--dlq-retention DURATION]\n"
    "                     [--metrics-token TOKEN] [--audit-anchor FILE [--audit-checkpoint-interval DURATION]]\n"
    "                     [--bus-key-file FILE] [--key-check-interval DURATION]\n"
    "                     [--rate-reads|--rate-writes|--rate-bulk|--rate-address|--rate-auth-failures\n"
    "                      N/DURATION[,BURST] | off]\n"
    "                     [--oidc-issuer URL --oidc-audience AUD [--oidc-jwks-file FILE]\n"
    "                      [--oidc-clock-skew DURATION] [--oidc-key-refresh DURATION]\n"
    "                      [--oidc-key-max-age DURATION] [--oidc-allow-http-loopback]]\n"
    "                     [--tls-cert FILE --tls-key FILE [--tls-min-version 1.3|1.2]\n"
    "                      [--hsts-max-age DURATION]]\n"
    "Serves the REST API (default 127.0.0.1:8080 on sqlite://./banyan.db). Settings also\n"
    "come from the JSON --config file and BANYAN_LISTEN, BANYAN_DATABASE, BANYAN_THREADS,\n"
    "BANYAN_MAX_BODY, BANYAN_REQUEST_TIMEOUT, BANYAN_IDLE_TIMEOUT, BANYAN_HANDLER_THREADS (16: requests\n"
    "are answered on threads of their own, so /healthz and /readyz answer while the database\n"
    "is stalled), BANYAN_HANDLER_TIMEOUT (10s: a request not answered by then gets 503 with\n"
    "Retry-After, and its uncommitted work is rolled back), BANYAN_MAX_CONNECTIONS (default:\n"
    "the open-file limit, raised to its hard limit at start, less 128), BANYAN_MAX_CONNECTIONS_PER_ADDRESS\n"
    "(256; past either cap the longest-idle connection is closed to make room, else 503),\n"
    "BANYAN_BILLING_URL, BANYAN_BILLING_TIMEOUT (5s), BANYAN_SAGA_LEASE (60s: a deal_won step held\n"
    "longer goes to another consumer; a billing call past its timeout is given up on),\n"
    "BANYAN_CONSUMERS (consumers of every saga's step queue, N, or of one queue, QUEUE=N, comma-\n"
    "separated; 1 each), BANYAN_OUTBOX_RETENTION (7d), BANYAN_PROCESSED_RETENTION (30d),\n"
    "BANYAN_DLQ_RETENTION (14d): what the relay holder deletes, in batches, once past the window\n"
    "(0 keeps forever),\n"
    "BANYAN_METRICS_TOKEN (GET /metrics: administrators, or a scraper showing this token),\n"
    "BANYAN_RATE_READS, BANYAN_RATE_WRITES, BANYAN_RATE_BULK, BANYAN_RATE_ADDRESS,\n"
    "BANYAN_RATE_AUTH_FAILURES (defaults per principal: reads 200/1s,400, writes 50/1s,100,\n"
    "bulk 20/1s,40; per address 1000/1s,2000 and auth failures 10/1m,10),\n"
    "BANYAN_OIDC_ISSUER, BANYAN_OIDC_AUDIENCE, BANYAN_OIDC_JWKS_FILE (with an issuer and an\n"
    "audience, the issuer's bearer JWTs are accepted beside API keys; its keys come from its\n"
    "discovery document unless a JWKS file is given; the issuer is https://, or http:// on\n"
    "loopback with --oidc-allow-http-loopback, and its jwks_uri is on its origin; clock skew\n"
    "60s, keys fetched again after 1h, or for an unknown key id at most every 30s),\n"
    "BANYAN_TLS_CERT, BANYAN_TLS_KEY\n"
    "(PEM files: HTTPS only, TLS 1.3 unless --tls-min-version 1.2; HSTS for a year unless\n"
    "--hsts-max-age says otherwise, 0 for none);\n"
    "flags win over the environment, which wins over the file. Sensitive values are encrypted\n"
    "at rest with the key ring in BANYAN_ENCRYPTION_KEY_FILE (or BANYAN_ENCRYPTION_KEYS):\n"
    "see banyan encryption keygen. The ring is read again on SIGHUP and every --key-check-interval\n"
    "(30s): a ring that lacks a key the database still uses is refused (at start too), and\n"
    "problems with the keys make /readyz answer 503. With an audit key in BANYAN_AUDIT_KEY_FILE (one key line, kept\n"
    "apart from the encryption keys) the audit trail's chain is keyed, and BANYAN_AUDIT_ANCHOR or\n"
    "--audit-anchor names a file, kept where the database's administrators cannot write, that\n"
    "gets a signed checkpoint of the trail at start, every interval (1m) the trail moved, and at\n"
    "stop: banyan audit verify --anchor FILE checks the trail against it. BANYAN_BUS_KEY_FILE or\n"
    "--bus-key-file: the deployment's CURVE keys, for reaching a banyan-worker relay on tcp://.\n";

namespace {

using cli::UsageError;

unsigned long long parse_number(const std::string& name, const std::string& text, unsigned long long max) {
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

std::chrono::milliseconds parse_ms(const std::string& name, const std::string& text) {
  try {
    return std::chrono::duration_cast<std::chrono::milliseconds>(cli::parse_duration(text));
  } catch (const UsageError& e) {
    throw UsageError(name + ": " + e.what());
  }
}

std::chrono::seconds parse_seconds(const std::string& name, const std::string& text) {
  const auto ms = parse_ms(name, text);
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
  if (c.http.host.size() > 2 && c.http.host.front() == '[' && c.http.host.back() == ']') c.http.host = c.http.host.substr(1, c.http.host.size() - 2);
  c.http.port = static_cast<unsigned short>(parse_number(name, text.substr(colon + 1), 65535));
}

// "N/DURATION" or "N/DURATION,BURST" (burst defaults to N), or "off".
std::optional<security::RateLimit> parse_rate(const std::string& name, const std::string& text) {
  if (text == "off") return std::nullopt;
  const auto slash = text.find('/');
  const auto comma = text.find(',');
  auto bad = [&]() { return UsageError(name + ": '" + text + "' is not N/DURATION[,BURST] or off"); };
  if (slash == std::string::npos || slash == 0) throw bad();
  security::RateLimit limit;
  limit.rate = static_cast<double>(parse_number(name, text.substr(0, slash), 1ull << 40));
  limit.period = parse_ms(name, text.substr(slash + 1, comma == std::string::npos ? std::string::npos : comma - slash - 1));
  limit.burst = comma == std::string::npos ? limit.rate
                                           : static_cast<double>(parse_number(name, text.substr(comma + 1), 1ull << 40));
  try {
    limit.validate();
  } catch (const std::exception& e) {
    throw UsageError(name + ": " + e.what());
  }
  return limit;
}

// One setting by its key; `name` is how the user wrote it, for messages.
void apply(ServerConfig& c, const std::string& key, const std::string& value, const std::string& name) {
  if (key == "listen") set_listen(c, name, value);
  else if (key == "database") c.database = value;
  else if (key == "threads") c.http.threads = static_cast<unsigned>(parse_number(name, value, 256));
  else if (key == "max_body") c.http.max_body_bytes = parse_number(name, value, 1ull << 30);
  else if (key == "max_json_members") c.json.max_members = parse_number(name, value, 1u << 24);
  else if (key == "max_json_elements") c.json.max_elements = parse_number(name, value, 1u << 24);
  else if (key == "request_timeout") c.http.request_timeout = parse_ms(name, value);
  else if (key == "handler_timeout") c.http.handler_timeout = parse_ms(name, value);
  else if (key == "handler_threads") c.http.handler_threads = static_cast<unsigned>(parse_number(name, value, 1024));
  else if (key == "idle_timeout") c.http.idle_timeout = parse_ms(name, value);
  else if (key == "max_connections") c.http.max_connections = parse_number(name, value, 1u << 24);
  else if (key == "max_connections_per_address")
    c.http.max_connections_per_address = parse_number(name, value, 1u << 24);
  else if (key == "shutdown_grace") c.shutdown_grace = parse_ms(name, value);
  else if (key == "metrics_token") {
    if (value.size() < 16) throw UsageError(name + ": a metrics token is at least 16 characters");
    c.metrics_token = value;
  }
  else if (key == "audit_anchor") c.audit_anchor = value;
  else if (key == "bus_key_file") c.bus_key_file = value;
  else if (key == "key_check_interval") {
    c.key_check_interval = parse_ms(name, value);
    if (c.key_check_interval < std::chrono::seconds(1)) throw UsageError(name + ": at least 1s");
  }
  else if (key == "audit_checkpoint_interval") {
    c.audit_checkpoint_interval = parse_ms(name, value);
    if (c.audit_checkpoint_interval < std::chrono::seconds(1)) throw UsageError(name + ": at least 1s");
  }
  else if (key == "rate_reads") c.rate.reads = parse_rate(name, value);
  else if (key == "rate_writes") c.rate.writes = parse_rate(name, value);
  else if (key == "rate_bulk") c.rate.bulk = parse_rate(name, value);
  else if (key == "rate_address") c.rate.address = parse_rate(name, value);
  else if (key == "rate_auth_failures") c.rate.auth_failures = parse_rate(name, value);
  else if (key == "tls_cert") tls(c).certificate_file = value;
  else if (key == "tls_key") tls(c).private_key_file = value;
  else if (key == "tls_min_version") {
    if (value != "1.2" && value != "1.3") throw UsageError(name + ": '" + value + "' is not 1.3 or 1.2");
    tls(c).allow_tls12 = value == "1.2";
  } else if (key == "hsts_max_age") tls(c).hsts_max_age = parse_seconds(name, value);
  else if (key == "oidc_issuer") oidc(c).issuer = value;
  else if (key == "oidc_audience") oidc(c).audience = value;
  else if (key == "oidc_jwks_file") oidc(c).jwks_file = value;
  else if (key == "oidc_clock_skew") oidc(c).clock_skew = parse_seconds(name, value);
  else if (key == "oidc_key_refresh") oidc(c).key_refresh_interval = parse_seconds(name, value);
  else if (key == "oidc_key_max_age") oidc(c).key_max_age = parse_seconds(name, value);
  else if (!c.sagas.apply(key, value, name)) throw UsageError(name + ": not a setting");
}

void apply_file(ServerConfig& c, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--config: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw UsageError("--config: " + path + " is not a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (value.is_boolean()) {
      if (key == "reuse_port") c.http.reuse_port = value.get<bool>();
      else if (key == "messaging") c.messaging = value.get<bool>();
      else if (key == "demo") c.demo = value.get<bool>();
      else if (key == "access_log") c.access_log = value.get<bool>();
      else if (key == "oidc_allow_http_loopback") oidc(c).allow_http_loopback = value.get<bool>();
      else throw UsageError(path + ": " + key + ": not a yes/no setting");
    } else if (value.is_string()) {
      apply(c, key, value.get<std::string>(), path + ": " + key);
    } else if (value.is_number_unsigned()) {
      apply(c, key, std::to_string(value.get<unsigned long long>()), path + ": " + key);
    } else {
      throw UsageError(path + ": " + key + ": expected a string, a number or true/false");
    }
  }
}

}  // namespace

ServerConfig parse_server_config(const std::vector<std::string>& argv,
                                 const std::function<std::optional<std::string>(const char*)>& getenv) {
  const cli::Args args(argv, {"--config", "--listen", "--database", "--threads", "--max-body",
                              "--max-json-members", "--max-json-elements",
                              "--request-timeout", "--idle-timeout", "--max-connections",
                              "--handler-threads", "--handler-timeout",
                              "--max-connections-per-address", "--shutdown-grace", "--billing-url", "--metrics-token",
                              "--billing-timeout", "--saga-lease", "--consumers", "--outbox-retention",
                              "--processed-retention", "--dlq-retention",
                              "--audit-anchor", "--audit-checkpoint-interval", "--bus-key-file",
                              "--key-check-interval",
                              "--rate-reads", "--rate-writes", "--rate-bulk", "--rate-address",
                              "--rate-auth-failures", "--oidc-issuer", "--oidc-audience", "--oidc-jwks-file",
                              "--oidc-clock-skew", "--oidc-key-refresh", "--oidc-key-max-age", "--tls-cert",
                              "--tls-key", "--tls-min-version", "--hsts-max-age"});
  if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "'");
  args.only_switches({"--reuse-port", "--no-messaging", "--demo", "--no-access-log", "--oidc-allow-http-loopback"});
  ServerConfig c;
  if (auto file = args.option("--config")) apply_file(c, *file);
  static const std::pair<const char*, const char*> kEnv[] = {
      {"BANYAN_LISTEN", "listen"},           {"BANYAN_DATABASE", "database"},
      {"BANYAN_THREADS", "threads"},         {"BANYAN_MAX_BODY", "max_body"},
      {"BANYAN_REQUEST_TIMEOUT", "request_timeout"}, {"BANYAN_IDLE_TIMEOUT", "idle_timeout"},
      {"BANYAN_HANDLER_THREADS", "handler_threads"}, {"BANYAN_HANDLER_TIMEOUT", "handler_timeout"},
      {"BANYAN_MAX_CONNECTIONS", "max_connections"},
      {"BANYAN_MAX_CONNECTIONS_PER_ADDRESS", "max_connections_per_address"},
      {"BANYAN_BILLING_URL", "billing_url"}, {"BANYAN_METRICS_TOKEN", "metrics_token"},
      {"BANYAN_BILLING_TIMEOUT", "billing_timeout"}, {"BANYAN_SAGA_LEASE", "saga_lease"},
      {"BANYAN_CONSUMERS", "consumers"}, {"BANYAN_OUTBOX_RETENTION", "outbox_retention"},
      {"BANYAN_PROCESSED_RETENTION", "processed_retention"}, {"BANYAN_DLQ_RETENTION", "dlq_retention"},
      {"BANYAN_AUDIT_ANCHOR", "audit_anchor"}, {"BANYAN_BUS_KEY_FILE", "bus_key_file"},
      {"BANYAN_RATE_READS", "rate_reads"},
      {"BANYAN_RATE_WRITES", "rate_writes"}, {"BANYAN_RATE_BULK", "rate_bulk"},
      {"BANYAN_RATE_ADDRESS", "rate_address"}, {"BANYAN_RATE_AUTH_FAILURES", "rate_auth_failures"},
      {"BANYAN_OIDC_ISSUER", "oidc_issuer"}, {"BANYAN_OIDC_AUDIENCE", "oidc_audience"},
      {"BANYAN_OIDC_JWKS_FILE", "oidc_jwks_file"}, {"BANYAN_TLS_CERT", "tls_cert"},
      {"BANYAN_TLS_KEY", "tls_key"}};
  for (const auto& [var, key] : kEnv)
    if (auto v = getenv(var)) apply(c, key, *v, var);
  static const std::pair<const char*, const char*> kFlags[] = {
      {"--listen", "listen"},           {"--database", "database"},
      {"--threads", "threads"},         {"--max-body", "max_body"},
      {"--max-json-members", "max_json_members"}, {"--max-json-elements", "max_json_elements"},
      {"--request-timeout", "request_timeout"}, {"--idle-timeout", "idle_timeout"},
      {"--handler-threads", "handler_threads"}, {"--handler-timeout", "handler_timeout"},
      {"--max-connections", "max_connections"}, {"--max-connections-per-address", "max_connections_per_address"},
      {"--shutdown-grace", "shutdown_grace"}, {"--billing-url", "billing_url"},
      {"--billing-timeout", "billing_timeout"}, {"--saga-lease", "saga_lease"},
      {"--outbox-retention", "outbox_retention"}, {"--processed-retention", "processed_retention"},
      {"--dlq-retention", "dlq_retention"},
      {"--metrics-token", "metrics_token"},
      {"--audit-anchor", "audit_anchor"}, {"--bus-key-file", "bus_key_file"},
      {"--key-check-interval", "key_check_interval"}, {"--audit-checkpoint-interval", "audit_checkpoint_interval"},
      {"--rate-reads", "rate_reads"},   {"--rate-writes", "rate_writes"},
      {"--rate-bulk", "rate_bulk"},     {"--rate-address", "rate_address"},
      {"--rate-auth-failures", "rate_auth_failures"}, {"--oidc-issuer", "oidc_issuer"},
      {"--oidc-audience", "oidc_audience"}, {"--oidc-jwks-file", "oidc_jwks_file"},
      {"--oidc-clock-skew", "oidc_clock_skew"}, {"--oidc-key-refresh", "oidc_key_refresh"},
      {"--oidc-key-max-age", "oidc_key_max_age"}, {"--tls-cert", "tls_cert"},
      {"--tls-key", "tls_key"},     {"--tls-min-version", "tls_min_version"},
      {"--hsts-max-age", "hsts_max_age"}};
  for (const auto& [flag, key] : kFlags)
    if (auto v = args.option(flag)) apply(c, key, *v, flag);
  for (const auto& v : args.all("--consumers")) apply(c, "consumers", v, "--consumers");
  if (args.flag("--reuse-port")) c.http.reuse_port = true;
  if (args.flag("--no-messaging")) c.messaging = false;
  if (args.flag("--demo")) c.demo = true;
  if (args.flag("--no-access-log")) c.access_log = false;
  if (args.flag("--oidc-allow-http-loopback")) oidc(c).allow_http_loopback = true;
  if (c.http.threads == 0) c.http.threads = std::max(1u, std::thread::hardware_concurrency());
  if (c.http.max_connections_per_address < 1) throw UsageError("max_connections_per_address: at least 1");
  if (c.http.max_body_bytes < 1024) throw UsageError("max_body: at least 1024 bytes");
  if (c.json.max_members < 64) throw UsageError("max_json_members: at least 64");
  if (c.json.max_elements < 100) throw UsageError("max_json_elements: at least 100 (a batch holds 100)");
  if (c.http.tls && (c.http.tls->certificate_file.empty() || c.http.tls->private_key_file.empty()))
    throw UsageError("tls: a certificate and a key go together (--tls-cert, --tls-key)");
  c.sagas.validate();
  if (c.oidc && (c.oidc->issuer.empty() || c.oidc->audience.empty()))
    throw UsageError("oidc: an issuer and an audience go together (--oidc-issuer, --oidc-audience)");
  return c;
}

}  // namespace banyan::server
