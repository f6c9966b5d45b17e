// What the routes of the REST API share: the engine and the database, the guard, the
// configuration, and the steps every route takes the same way (reading a JSON body,
// running a write with its Idempotency-Key, noting a refusal in the audit trail).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "backfill_jobs.hpp"
#include "banyan/banyan.hpp"
#include "banyan/rest/api.hpp"
#include "guard.hpp"
#include "metrics.hpp"
#include "routes.hpp"

namespace banyan::rest {

class ApiContext {
 public:
  ApiContext(store::Database& db, ApiOptions config, LogSink log, const messaging::MessageBus* bus);

  store::Database& db;
  const ApiOptions config;
  const LogSink log;
  const messaging::MessageBus* const bus;  // may be null
  RequestMetrics requests;
  Engine engine;
  security::Authenticator authenticator;
  Guard guard;
  BackfillJobs backfills;  // after engine: it stops before the engine goes
  // Added before serving starts, read by every /readyz and /metrics after.
  std::vector<std::function<std::vector<std::string>()>> readiness_checks;
  std::vector<std::function<std::string()>> metric_sources;
  // Requests of the event feed waiting for an event (event_routes.cpp bounds them).
  std::atomic<int> waiting_feeds{0};

  // Finds the call's route in api_routes(), admits it (address, credentials, the
  // principal's rate limit) and runs its handler. Throws HttpError or banyan::Error.
  HttpResponse route(RouteCall& call);

  // The body as a JSON object, within the limits: media type, UTF-8, and those of
  // parse_json_within (linear in the body).
  json body_object(const HttpRequest& r) const;

  // Runs a write in one unit of work. A POST that carries an Idempotency-Key stores its
  // response in the same unit of work; a retry with the key gets that response back and
  // writes nothing (a concurrent twin waits for the first, then gets its answer).
  HttpResponse write(const RouteCall& call,
                     const std::function<HttpResponse(store::UnitOfWork&)>& work);

  // A refused request, noted in the audit trail in a unit of work of its own (the refused
  // one, if any, rolled back). A database that cannot take it does not change the answer.
  void audit_denial(const RouteCall& call, const HttpResponse& refusal);

  // One JSON access-log line (when the configuration asks for them).
  void access_log(const HttpRequest& r, const std::string& id, int status, std::size_t bytes,
                  std::chrono::steady_clock::duration took);
  // An error line for what failed beside the request (its answer stands).
  void log_error(const char* event, const std::string& error);
  // Hands `event` to the log, when there is one.
  void report(const LogEvent& event) const {
    if (log) log(event);
  }

 private:
  EngineOptions engine_options();
  // The principal of the request's bearer credential (an API key or a JWT), or 401.
  Who authenticate(const HttpRequest& r);
  // Why a credential was refused, for the operator (the client is told only that it was).
  void log_refusal(const HttpRequest& r, const std::string& why);
};

// Object types by their collection's name in paths ("contacts").
std::optional<ObjectType> type_of_collection(const std::string& name);
// The collection of a record type, the other way: "contacts".
std::string collection_of(ObjectType type);

// The installation's administration as the request's principal: Engine::admin refuses
// (403) anyone but an administrator.
inline AdminService admin(ApiContext& api, const RouteCall& c) {
  return api.engine.admin(c.principal());
}

}  // namespace banyan::rest
