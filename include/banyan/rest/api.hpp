// Banyan's REST/JSON API as a request handler: give it whole HTTP requests, it answers
// them. banyan-server puts it behind its Beast server; a product may mount it behind its
// own. It routes through one route table (the same table builds /openapi.json), checks
// every request's credential and rate limits, runs the use case through banyan::Engine as
// the request's principal, answers errors as RFC 9457 problems, gives every request an id
// and writes one JSON access-log line for it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banyan/export.hpp"
#include "banyan/log.hpp"
#include "banyan/security/authenticator.hpp"
#include "banyan/security/rate_limiter.hpp"

namespace banyan::store {
class Database;
}
namespace banyan::messaging {
class MessageBus;
}

namespace banyan::rest {

// Header names and values, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string target;  // path and query, as sent
  Headers headers;     // names in lower case
  std::string body;
  std::string remote;  // the peer's address
  // By when the answer is due (set by the HTTP layer): work of the request not committed
  // by then is rolled back (store::CommitDeadline).
  std::chrono::steady_clock::time_point deadline{};

  // The first header of that (lower-case) name, or "".
  const std::string& header(const std::string& name) const {
    static const std::string kNone;
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return kNone;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
};

// Limits on a JSON body beyond its size in bytes (the HTTP layer's): each is checked while
// parsing, in time linear in the body.
struct JsonLimits {
  int max_depth = 32;                       // nesting of objects and arrays
  std::size_t max_string_bytes = 64 << 10;  // one string or key
  std::size_t max_members = 1000;           // members in one object
  std::size_t max_elements = 10000;         // elements in one array
};

// Rate limits (none: off). Per principal and route class, per client address for every
// request but the health checks, and per address for failed authentications, past which
// the address is refused with 429 until its budget recovers.
struct RateLimits {
  std::optional<security::RateLimit> reads{security::RateLimit{200, std::chrono::seconds(1), 400}};
  std::optional<security::RateLimit> writes{security::RateLimit{50, std::chrono::seconds(1), 100}};
  std::optional<security::RateLimit> bulk{security::RateLimit{20, std::chrono::seconds(1), 40}};
  std::optional<security::RateLimit> address{
      security::RateLimit{1000, std::chrono::seconds(1), 2000}};
  std::optional<security::RateLimit> auth_failures{
      security::RateLimit{10, std::chrono::minutes(1), 10}};
};

struct ApiOptions {
  JsonLimits json;
  RateLimits rate;
  bool access_log = true;
  // Set: GET /metrics also answers "Authorization: Bearer <metrics_token>" (a scraper's
  // credential that is no user's); otherwise only administrators read it.
  std::string metrics_token;
  // Set (an issuer and an audience): bearer JWTs of this OIDC issuer are accepted beside
  // API keys.
  std::optional<security::OidcOptions> oidc;
};

class ApiContext;

class BANYAN_EXPORT Api {
 public:
  // `log` (may be empty) receives an event per request (`request`, info: the access log,
  // when ApiOptions::access_log) and the events worth an operator's eye (credentials
  // refused, rate anomalies, backfills, failures). `bus` (may be null) feeds /metrics
  // with the outbox lag and the queues.
  Api(store::Database& db, const ApiOptions& options, LogSink log,
      const messaging::MessageBus* bus = nullptr);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Thread-safe. Work of the request not committed by request.deadline (when set) is
  // rolled back (store::CommitDeadline).
  HttpResponse handle(const HttpRequest& request);
  // The requests whose answers never wait on the database (GET /healthz and /readyz),
  // which an HTTP layer may answer on its I/O threads.
  static bool answers_without_waiting(const HttpRequest& request);
  // The answer to a request the HTTP layer refused (too large, malformed, too slow).
  HttpResponse reject(int status, const std::string& reason);
  // What /readyz reports (and answers 503 for): problems a host component found, one
  // sentence each. Checks must not block. Add them before serving starts.
  void add_readiness_check(std::function<std::vector<std::string>()> check);
  // More Prometheus text for /metrics (e.g. the HTTP layer's connection counts). Add them
  // before serving starts.
  void add_metrics_source(std::function<std::string()> source);

 private:
  std::unique_ptr<ApiContext> context_;
};

}  // namespace banyan::rest
