// The routes of the process itself: the health checks, the OpenAPI document, the metrics.
#include <cstdio>

#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// /metrics counts the messaging tables at most this often: a count reads every row.
constexpr std::chrono::seconds kTableCountMaxAge{10};

// Prometheus text: the request series, the pool, the outbox lag, the dead letters and the
// guard's counters.
HttpResponse metrics(ApiContext& api, RouteCall&) {
  store::Database& db = api.db;
  const auto* bus = api.bus;
  std::string out = api.requests.render();
  char line[256];
  auto gauge = [&](const char* name, const char* help, const char* type, double value) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                  type, name, value);
    out += line;
  };
  gauge("banyan_denied_reads_total",
        "Reads refused for scope (answered 404); audited once per principal and minute.", "counter",
        static_cast<double>(api.engine.denied_reads()));
  const auto pool = db.pool_metrics();
  gauge("banyan_db_pool_in_use", "Connections in use now.", "gauge",
        static_cast<double>(pool.in_use));
  gauge("banyan_db_pool_idle", "Idle connections now.", "gauge", static_cast<double>(pool.idle));
  gauge("banyan_db_pool_waiters", "Threads waiting for a connection now.", "gauge",
        static_cast<double>(pool.waiters));
  gauge("banyan_db_pool_acquired_total", "Connections handed out.", "counter",
        static_cast<double>(pool.acquired));
  gauge("banyan_db_pool_timeouts_total", "Acquisitions that gave up.", "counter",
        static_cast<double>(pool.timeouts));
  gauge("banyan_db_pool_broken_total", "Connections closed as broken.", "counter",
        static_cast<double>(pool.broken));
  if (bus != nullptr) {
    const auto m = bus->metrics();
    gauge("banyan_outbox_pending", "Outbox events not yet relayed, at the relay's last look.",
          "gauge", static_cast<double>(m.outbox_pending));
    gauge("banyan_messages_relayed_total", "Events relayed by this process.", "counter",
          static_cast<double>(m.relayed));
    gauge("banyan_messages_dead_lettered_total", "Messages this process dead-lettered.", "counter",
          static_cast<double>(m.dead_lettered));
    gauge("banyan_bus_foreign_settlements_total",
          "Acks, nacks and releases ignored: from a peer that did not hold the message's lease.",
          "counter", static_cast<double>(m.foreign_settlements));
    gauge("banyan_retention_purged_events_total",
          "Relayed outbox events this process deleted past retention.", "counter",
          static_cast<double>(m.purged_events));
    gauge("banyan_retention_purged_claims_total",
          "Processed-message claims this process deleted past retention.", "counter",
          static_cast<double>(m.purged_claims));
    gauge("banyan_retention_purged_dead_letters_total",
          "Dead letters this process deleted past retention.", "counter",
          static_cast<double>(m.purged_dead_letters));
    out += "# HELP banyan_table_rows Rows in a messaging table.\n# TYPE banyan_table_rows gauge\n";
    for (const auto& t : bus->table_sizes(kTableCountMaxAge)) {
      std::snprintf(line, sizeof line, "banyan_table_rows{table=\"%s\"} %lld\n", t.table.c_str(),
                    static_cast<long long>(t.rows));
      out += line;
    }
  }
  auto backlog = [&](const char* name, const char* what,
                     const std::vector<messaging::QueueBacklog>& queues) {
    out += std::string("# HELP banyan_") + name + "_depth " + what + ", by queue.\n# TYPE banyan_" +
           name + "_depth gauge\n";
    std::string ages = std::string("# HELP banyan_") + name +
                       "_oldest_age_seconds Age of the oldest of them, by "
                       "queue.\n# TYPE banyan_" +
                       name + "_oldest_age_seconds gauge\n";
    for (const auto& q : queues) {
      std::snprintf(line, sizeof line, "banyan_%s_depth{queue=\"%s\"} %lld\n", name,
                    q.queue.c_str(), static_cast<long long>(q.depth));
      out += line;
      std::snprintf(line, sizeof line, "banyan_%s_oldest_age_seconds{queue=\"%s\"} %.3f\n", name,
                    q.queue.c_str(), std::chrono::duration<double>(q.oldest_age).count());
      ages += line;
    }
    out += ages;
  };
  if (bus != nullptr)
    backlog("queue", "Messages in a work queue (ready, backing off or leased)", bus->backlog());
  // The route has checked its caller (an administrator or the metrics token); the counts
  // are read as the installation itself.
  backlog("dlq", "Dead letters not replayed",
          api.engine.admin(security::Principal::system()).dead_letters().stats());
  if (api.config.oidc) {
    const auto keys = api.authenticator.key_stats();
    gauge("banyan_oidc_key_refreshes_total", "Key sets fetched from the OIDC issuer.", "counter",
          static_cast<double>(keys.refreshes));
    gauge("banyan_oidc_key_refresh_failures_total",
          "Fetches of the OIDC issuer's keys that failed.", "counter",
          static_cast<double>(keys.refresh_failures));
  }
  out += api.guard.render();
  for (const auto& source : api.metric_sources) out += source();
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  return r;
}

HttpResponse health(ApiContext&, RouteCall&) { return json_response(200, json{{"status", "ok"}}); }

// From what the checks last learned (the database's by a probe of its own): this route
// never waits on the database, so it answers while the database is stalled.
HttpResponse readiness(ApiContext& api, RouteCall&) {
  json problems = json::array();
  for (const auto& check : api.readiness_checks)
    for (auto& p : check()) problems.push_back(std::move(p));
  if (!problems.empty())
    return json_response(503, json{{"status", "unready"}, {"problems", problems}});
  return json_response(200, json{{"status", "ok"}});
}

HttpResponse document(ApiContext&, RouteCall&) {
  static const std::string text = openapi_document().dump();
  HttpResponse out;
  out.body = text;
  return out;
}

const json kStatus = object_of({{"status", {{"const", "ok"}}}}, {"status"});

}  // namespace

void add_system_routes(RouteTable& table) {
  using enum RouteAccess;
  const auto read = Guard::RouteClass::kRead;
  table.add({"GET",
             "/healthz",
             read,
             kHealth,
             health,
             {"healthz", "The process answers", {}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("Alive", kStatus);
              }}});
  table.add(
      {"GET",
       "/readyz",
       read,
       kHealth,
       readiness,
       {"readyz",
        "The database takes reads and writes (a probe each second) and the encryption keys "
        "are in order; answered without waiting on the database",
        {503},
        [](Builder&, json& o) {
          o["responses"]["200"] = Builder::ok("Ready", kStatus);
          o["responses"]["503"] = Builder::ok(
              "Not ready: the database's last probe failed or has not answered for 2 s, or the "
              "key ring is wrong",
              object_of({{"status", {{"const", "unready"}}},
                         {"problems", {{"type", "array"}, {"items", {{"type", "string"}}}}}},
                        {"status", "problems"}));
        }}});
  table.add(
      {"GET",
       "/metrics",
       read,
       kMetrics,
       metrics,
       {"metrics",
        "Prometheus text: requests, pool, outbox lag, dead letters",
        {},
        [](Builder&, json& o) {
          o["responses"]["200"] = {
              {"description", "Prometheus text format 0.0.4"},
              {"headers", {{"X-Request-Id", {{"$ref", "#/components/headers/X-Request-Id"}}}}},
              {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
        }}});
  table.add({"GET",
             "/openapi.json",
             read,
             kPublic,
             document,
             {"openapi", "This document", {}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok(
                    "OpenAPI 3.1", {{"type", "object"}, {"required", {"openapi", "paths"}}});
              }}});
}

}  // namespace banyan::rest
