// banyan-server's settings: defaults, a JSON file, the environment and flags, in that
// order of precedence; bad values are usage errors that name where they came from.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "command_line.hpp"
#include "config.hpp"

namespace banyan::server {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  std::optional<std::string> operator()(const char* name) const {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
};

std::string write_file(const std::string& text) {
  const std::string path =
      ::testing::TempDir() + "banyan-server-config-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << text;
  return path;
}

TEST(ServerConfig, DefaultsServeLoopback8080OnTheLocalSqliteFile) {
  const auto c = parse_server_config({}, Env{});
  EXPECT_EQ(c.http.host, "127.0.0.1");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.database, "sqlite://./banyan.db");
  EXPECT_TRUE(c.messaging);
  EXPECT_GE(c.http.threads, 1u);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
}

TEST(ServerConfig, TheLogLevelComesFromTheFlagTheEnvironmentOrTheFile) {
  EXPECT_EQ(parse_server_config({"--log-level", "debug"}, Env{}).log_level, LogLevel::kDebug);
  EXPECT_EQ(parse_server_config({}, Env{{{"BANYAN_LOG_LEVEL", "error"}}}).log_level,
            LogLevel::kError);
  const auto file = write_file(R"({"log_level":"warning"})");
  EXPECT_EQ(parse_server_config({"--config", file}, Env{}).log_level, LogLevel::kWarning);
  std::remove(file.c_str());
}

TEST(ServerConfig, FlagsWinOverTheEnvironmentWhichWinsOverTheFile) {
  const auto file = write_file(
      R"({"listen":"0.0.0.0:9000","database":"sqlite:///file.db","threads":3,"reuse_port":true})");
  Env env{{{"BANYAN_DATABASE", "sqlite:///env.db"}, {"BANYAN_THREADS", "5"}}};
  auto c = parse_server_config({"--config", file}, env);
  EXPECT_EQ(c.http.host, "0.0.0.0");
  EXPECT_EQ(c.http.port, 9000);
  EXPECT_EQ(c.database, "sqlite:///env.db");
  EXPECT_EQ(c.http.threads, 5u);
  EXPECT_TRUE(c.http.reuse_port);
  c = parse_server_config(
      {"--config", file, "--threads", "7", "--listen", "[::1]:8081", "--idle-timeout", "90s",
       "--billing-url", "http://billing.internal/customers"},
      env);
  EXPECT_EQ(c.sagas.billing_url, "http://billing.internal/customers");
  EXPECT_EQ(c.http.threads, 7u);
  EXPECT_EQ(c.http.host, "::1");
  EXPECT_EQ(c.http.port, 8081);
  EXPECT_EQ(c.http.idle_timeout, std::chrono::seconds(90));
  std::remove(file.c_str());
}

TEST(ServerConfig, SagaConsumersLeasesAndRetentionComeFromEverySource) {
  const auto defaults = parse_server_config({}, Env{});
  EXPECT_EQ(defaults.sagas.saga_consumers, 1);
  EXPECT_EQ(defaults.sagas.retention.outbox, std::chrono::hours(24 * 7));
  EXPECT_EQ(defaults.sagas.retention.processed, std::chrono::hours(24 * 30));
  EXPECT_EQ(defaults.sagas.retention.dead_letters, std::chrono::hours(24 * 14));
  Env env{{{"BANYAN_CONSUMERS", "3,saga.lead_conversion=2"},
           {"BANYAN_DLQ_RETENTION", "2d"},
           {"BANYAN_SAGA_LEASE", "2m"}}};
  const auto c = parse_server_config(
      {"--consumers", "saga.deal_won=8", "--consumers", "saga.deal_won.start=2",
       "--outbox-retention", "0", "--processed-retention", "3d", "--billing-timeout", "10s"},
      env);
  EXPECT_EQ(c.sagas.saga_consumers, 3);
  EXPECT_EQ(c.sagas.consumers_of("saga.deal_won", 1), 8);
  EXPECT_EQ(c.sagas.consumers_of("saga.deal_won.start", 1), 2);
  EXPECT_EQ(c.sagas.consumers_of("saga.lead_conversion", 1), 2);
  EXPECT_EQ(c.sagas.consumers_of("saga.other", 5), 5);
  EXPECT_EQ(c.sagas.retention.outbox.count(), 0);  // kept forever
  EXPECT_EQ(c.sagas.retention.processed, std::chrono::hours(72));
  EXPECT_EQ(c.sagas.retention.dead_letters, std::chrono::hours(48));
  EXPECT_EQ(c.sagas.saga_lease, std::chrono::minutes(2));
  EXPECT_EQ(c.sagas.billing_timeout, std::chrono::seconds(10));
  const auto file =
      write_file(R"({"consumers":"4","dlq_retention":"1d","processed_retention":"1d"})");
  const auto f = parse_server_config({"--config", file}, Env{});
  EXPECT_EQ(f.sagas.saga_consumers, 4);
  EXPECT_EQ(f.sagas.retention.dead_letters, std::chrono::hours(24));
  std::remove(file.c_str());
}

TEST(ServerConfig, BadSagaAndRetentionSettingsAreUsageErrors) {
  auto refused = [](std::vector<std::string> argv) {
    try {
      parse_server_config(argv, Env{});
    } catch (const host::UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused({"--consumers", "0"}).find("--consumers"), std::string::npos);
  EXPECT_NE(refused({"--consumers", "65"}).find("1 to 64"), std::string::npos);
  EXPECT_NE(refused({"--consumers", "saga.deal_won=lots"}).find("--consumers"), std::string::npos);
  EXPECT_NE(refused({"--consumers", "=3"}).find("names no queue"), std::string::npos);
  EXPECT_NE(refused({"--dlq-retention", "soon"}).find("--dlq-retention"), std::string::npos);
  // Claims must outlive the dead letters a replay may bring back.
  EXPECT_NE(refused({"--processed-retention", "1d"}).find("processed"), std::string::npos);
  EXPECT_NE(refused({"--saga-lease", "5s"}).find("saga_lease"),
            std::string::npos);  // not above the 5s billing timeout
}

TEST(ServerConfig, BadSettingsAreUsageErrorsNamingTheirSource) {
  auto message = [](std::vector<std::string> argv, Env env = {}) {
    try {
      parse_server_config(argv, env);
    } catch (const host::UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({"--listen", "nope"}), "--listen: 'nope' is not HOST:PORT");
  EXPECT_EQ(message({"--listen", "host:99999"}),
            "--listen: '99999' is not a number from 0 to 65535");
  EXPECT_EQ(message({}, Env{{{"BANYAN_THREADS", "-1"}}}),
            "BANYAN_THREADS: '-1' is not a number from 0 to 256");
  EXPECT_NE(message({"--bogus"}).find("not expected: --bogus"), std::string::npos);
  EXPECT_NE(message({"stray"}).find("not expected: stray"), std::string::npos);
  EXPECT_EQ(message({"--max-body", "10"}), "max_body: at least 1024 bytes");
  EXPECT_NE(message({"--request-timeout", "soon"}).find("--request-timeout"), std::string::npos);
  EXPECT_EQ(message({"--config", "/nonexistent.json"}), "--config: cannot read /nonexistent.json");
  EXPECT_EQ(message({"--log-level", "loud"}),
            "--log-level: log level: debug, info, warning or error, not \"loud\"");
  const auto file = write_file(R"({"listen":"127.0.0.1:1","colour":"blue"})");
  EXPECT_EQ(message({"--config", file}), file + ": colour: not a setting");
  std::remove(file.c_str());
}

TEST(ServerConfig, JsonLimitsDefaultTo1000MembersAnd10000ElementsAndCanBeRaised) {
  const auto defaults = parse_server_config({}, Env{});
  EXPECT_EQ(defaults.json.max_members, 1000u);
  EXPECT_EQ(defaults.json.max_elements, 10000u);
  const auto raised =
      parse_server_config({"--max-json-members", "5000", "--max-json-elements", "200000"}, Env{});
  EXPECT_EQ(raised.json.max_members, 5000u);
  EXPECT_EQ(raised.json.max_elements, 200000u);
  // Below what a record or a batch needs, the server would refuse its own clients.
  EXPECT_THROW(parse_server_config({"--max-json-members", "10"}, Env{}), host::UsageError);
  EXPECT_THROW(parse_server_config({"--max-json-elements", "99"}, Env{}), host::UsageError);
}

TEST(ServerConfig, HandlersRunOnSixteenThreadsWithinTenSecondsByDefault) {
  const auto defaults = parse_server_config({}, Env{});
  EXPECT_EQ(defaults.http.handler_threads, 16u);
  EXPECT_EQ(defaults.http.handler_timeout, std::chrono::seconds(10));
  const auto given =
      parse_server_config({"--handler-threads", "4", "--handler-timeout", "3s"}, Env{});
  EXPECT_EQ(given.http.handler_threads, 4u);
  EXPECT_EQ(given.http.handler_timeout, std::chrono::seconds(3));
  const auto env = parse_server_config(
      {}, Env{{{"BANYAN_HANDLER_THREADS", "8"}, {"BANYAN_HANDLER_TIMEOUT", "1m"}}});
  EXPECT_EQ(env.http.handler_threads, 8u);
  EXPECT_EQ(env.http.handler_timeout, std::chrono::minutes(1));
  EXPECT_THROW(parse_server_config({"--handler-timeout", "soon"}, Env{}), host::UsageError);
}

TEST(ServerConfig, RateLimitsReadAsRatePerDurationWithAnOptionalBurstOrOff) {
  const auto defaults = parse_server_config({}, Env{});
  ASSERT_TRUE(defaults.rate.reads && defaults.rate.auth_failures);
  EXPECT_EQ(defaults.rate.reads->rate, 200);
  const auto c =
      parse_server_config({"--rate-reads", "5/1m,7", "--rate-writes", "off", "--rate-bulk", "3/2s"},
                          Env{{{"BANYAN_RATE_AUTH_FAILURES", "4/1h"}}});
  ASSERT_TRUE(c.rate.reads);
  EXPECT_EQ(c.rate.reads->rate, 5);
  EXPECT_EQ(c.rate.reads->period, std::chrono::minutes(1));
  EXPECT_EQ(c.rate.reads->burst, 7);
  EXPECT_FALSE(c.rate.writes);
  EXPECT_EQ(c.rate.bulk->burst, 3) << "the burst defaults to the rate";
  EXPECT_EQ(c.rate.auth_failures->period, std::chrono::hours(1));
  for (const char* bad : {"5", "/1s", "5/", "5/1s,", "0/1s", "5/1s,0", "x/1s", "5/1parsec"})
    EXPECT_THROW(parse_server_config({"--rate-reads", bad}, Env{}), host::UsageError) << bad;
}

TEST(ServerConfig, OidcNeedsAnIssuerAndAnAudienceAndTakesWholeSeconds) {
  EXPECT_FALSE(parse_server_config({}, Env{}).oidc) << "API keys only by default";
  const auto c =
      parse_server_config({"--oidc-issuer", "https://id.example.com", "--oidc-clock-skew", "5s",
                           "--oidc-key-refresh", "1m"},
                          Env{{{"BANYAN_OIDC_AUDIENCE", "https://crm.example.com/api"}}});
  ASSERT_TRUE(c.oidc);
  EXPECT_EQ(c.oidc->issuer, "https://id.example.com");
  EXPECT_EQ(c.oidc->audience, "https://crm.example.com/api");
  EXPECT_EQ(c.oidc->clock_skew, std::chrono::seconds(5));
  EXPECT_EQ(c.oidc->key_refresh_interval, std::chrono::seconds(60));
  EXPECT_EQ(c.oidc->key_max_age, std::chrono::hours(1)) << "the default";
  EXPECT_TRUE(c.oidc->jwks_file.empty());
  EXPECT_THROW(parse_server_config({"--oidc-issuer", "https://id.example.com"}, Env{}),
               host::UsageError);
  EXPECT_THROW(parse_server_config({"--oidc-audience", "a", "--oidc-jwks-file", "/k.json"}, Env{}),
               host::UsageError);
  EXPECT_THROW(
      parse_server_config(
          {"--oidc-issuer", "i", "--oidc-audience", "a", "--oidc-clock-skew", "1500ms"}, Env{}),
      host::UsageError);
}

TEST(ServerConfig, TlsNeedsACertificateAndAKeyAndDefaultsTo13WithAYearOfHsts) {
  EXPECT_FALSE(parse_server_config({}, Env{}).http.tls) << "plain HTTP by default";
  const auto c = parse_server_config({"--tls-cert", "/etc/banyan/cert.pem"},
                                     Env{{{"BANYAN_TLS_KEY", "/etc/banyan/key.pem"}}});
  ASSERT_TRUE(c.http.tls);
  EXPECT_EQ(c.http.tls->certificate_file, "/etc/banyan/cert.pem");
  EXPECT_EQ(c.http.tls->private_key_file, "/etc/banyan/key.pem");
  EXPECT_FALSE(c.http.tls->allow_tls12);
  EXPECT_EQ(c.http.tls->hsts_max_age, std::chrono::hours(24 * 365));
  const auto twelve = parse_server_config(
      {"--tls-cert", "c", "--tls-key", "k", "--tls-min-version", "1.2", "--hsts-max-age", "0s"},
      Env{});
  EXPECT_TRUE(twelve.http.tls->allow_tls12);
  EXPECT_EQ(twelve.http.tls->hsts_max_age.count(), 0);
  EXPECT_THROW(parse_server_config({"--tls-cert", "c"}, Env{}), host::UsageError);
  EXPECT_THROW(
      parse_server_config({"--tls-cert", "c", "--tls-key", "k", "--tls-min-version", "1.1"}, Env{}),
      host::UsageError);
}

}  // namespace
}  // namespace banyan::server
