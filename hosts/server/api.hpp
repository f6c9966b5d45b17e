// The REST API: routes requests to the library, maps its errors to RFC 9457 problems,
// gives every request an id and writes one JSON access-log line for it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config.hpp"
#include "http_server.hpp"

namespace banyan::store {
class Database;
}
namespace banyan::messaging {
class MessageBus;
}

namespace banyan::server {

class ApiContext;

class Api {
 public:
  // `log` receives each access-log line (JSON, no newline). `bus` (may be null) feeds
  // /metrics with the outbox lag.
  Api(store::Database& db, const ServerConfig& config, std::function<void(std::string_view)> log,
      const messaging::MessageBus* bus = nullptr);
  ~Api();

  // Thread-safe. Work of the request not committed by request.deadline (when set) is
  // rolled back (store::CommitDeadline).
  HttpResponse handle(const HttpRequest& request);
  // The requests whose answers never wait on the database (GET /healthz and /readyz),
  // which the HTTP layer may answer on its I/O threads (HttpServerOptions::inline_route).
  static bool answers_without_waiting(const HttpRequest& request);
  // The answer to a request the HTTP layer refused (too large, malformed).
  HttpResponse reject(int status, const std::string& reason);
  // What /readyz reports (and answers 503 for): problems a host component found, one
  // sentence each (the database's, from DatabaseProbe; the key ring's, from
  // KeyRingWatcher). Checks must not block.
  void add_readiness_check(std::function<std::vector<std::string>()> check);
  // More Prometheus text for /metrics (the HTTP layer's connection counts).
  void add_metrics_source(std::function<std::string()> source);

 private:
  std::unique_ptr<ApiContext> context_;
};

}  // namespace banyan::server
