#include "banyan/rest/api.hpp"

#include <cstdio>

#include "api_context.hpp"
#include "json_body.hpp"

namespace banyan::rest {

namespace {

using Clock = std::chrono::steady_clock;

HttpError too_many(Refusal refusal) {
  return HttpError{429, "rate_limited", std::move(refusal.detail), std::move(refusal.headers)};
}

HttpError unauthenticated(const std::string& detail, const char* error = nullptr) {
  std::string challenge = "Bearer realm=\"banyan\"";
  if (error != nullptr) challenge += std::string(", error=\"") + error + "\"";
  return HttpError{
      401, error != nullptr ? error : "unauthenticated", detail, {{"WWW-Authenticate", challenge}}};
}

// FNV-1a over method, path and body: what an Idempotency-Key's first request was.
std::string fingerprint(const HttpRequest& r, const Target& t) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(r.method);
  mix(t.path);
  mix(r.body);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

// The answer an idempotent write kept, marked as replayed.
HttpResponse replay(const store::StoredResponse& stored) {
  HttpResponse out;
  out.status = stored.status;
  out.body = stored.body;
  const json headers = json::parse(stored.headers, nullptr, false);
  if (headers.is_object())
    for (const auto& [k, v] : headers.items()) out.headers.emplace_back(k, v.get<std::string>());
  out.headers.emplace_back("Idempotent-Replayed", "true");
  return out;
}

}  // namespace

ApiContext::ApiContext(store::Database& d, ApiOptions c, LogSink l, const messaging::MessageBus* b)
    : db(d),
      config(std::move(c)),
      log(std::move(l)),
      bus(b),
      engine(d, engine_options()),
      authenticator(d, security::AuthenticatorOptions{.oidc = config.oidc}),
      guard(config.rate, log),
      backfills(engine, log) {}

EngineOptions ApiContext::engine_options() {
  EngineOptions options;
  options.on_mass_export = [this](const Who& who, ObjectType) { guard.mass_export(who); };
  return options;
}

HttpResponse ApiContext::route(RouteCall& call) {
  const HttpRequest& r = call.request;
  auto found = api_routes().match(r.method, call.target.segments);
  call.route_template = found.path;
  call.params = std::move(found.params);
  const Route* route = found.route;
  const RouteAccess access = route ? route->access : RouteAccess::kPrincipal;
  if (access != RouteAccess::kHealth) {
    if (auto refused = guard.admit_address(r.remote)) throw too_many(std::move(*refused));
  }
  // A public path answers a wrong method without asking for credentials.
  if (route == nullptr && !found.allow.empty() && !found.credentials)
    throw not_allowed(r.method, found.allow);
  if (access == RouteAccess::kHealth || access == RouteAccess::kPublic)
    return route->handler(*this, call);
  // The metrics tell a lot about the business (request counts per route, queue depths): a
  // scraper shows the metrics token of the configuration, anyone else must be an
  // administrator.
  if (access == RouteAccess::kMetrics && !config.metrics_token.empty() &&
      constant_time_equal(r.header("authorization"), "Bearer " + config.metrics_token))
    return route->handler(*this, call);
  // Everything else, unknown paths included, answers only with valid credentials; an
  // address that keeps failing to give them is refused for a while.
  if (auto refused = guard.admit_authentication(r.remote)) throw too_many(std::move(*refused));
  try {
    call.who = authenticate(r);
  } catch (const HttpError& e) {
    guard.authentication_failed(r.remote, e.code == "unauthenticated");
    throw;
  }
  const auto route_class = route               ? route->route_class
                           : r.method == "GET" ? Guard::RouteClass::kRead
                                               : Guard::RouteClass::kWrite;
  auto [refused, headers] = guard.admit(*call.who, route_class);
  if (refused) throw too_many(std::move(*refused));
  call.headers = std::move(headers);
  if (route == nullptr) {
    if (!found.allow.empty()) throw not_allowed(r.method, found.allow);
    throw no_route(call.target);
  }
  if (access == RouteAccess::kMetrics) engine.require_administrator(*call.who);
  return route->handler(*this, call);
}

Who ApiContext::authenticate(const HttpRequest& r) {
  const std::string& header = r.header("authorization");
  if (header.empty())
    throw unauthenticated(
        "this route needs credentials: Authorization: Bearer <API key or access token>");
  const bool bearer = header.size() > 7 && (header[0] == 'B' || header[0] == 'b') &&
                      header.compare(1, 6, "earer ") == 0;
  if (!bearer)
    throw unauthenticated("the Authorization header must be \"Bearer <credential>\"",
                          "invalid_request");
  std::string_view credential(header);
  credential.remove_prefix(7);
  while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
  // Keys are 60 characters and tokens a few hundred; anything far longer is neither and
  // is not looked at.
  if (credential.size() > 8192)
    throw unauthenticated("the credential is not valid", "invalid_token");
  std::string why;
  auto who = authenticator.authenticate(credential, &why);
  if (!who) {
    log_refusal(r, why);
    throw unauthenticated(
        "the credential is not valid (unknown, revoked, expired, malformed or not for this "
        "server)",
        "invalid_token");
  }
  return std::move(*who);
}

void ApiContext::log_refusal(const HttpRequest& r, const std::string& why) {
  report(LogEvent(LogLevel::kWarning, "credential_refused")
             .with("remote", r.remote)
             .with("reason", std::string_view(why).substr(0, 300)));
}

json ApiContext::body_object(const HttpRequest& r) const {
  std::string type = r.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type != "application/json" && type != "application/merge-patch+json")
    throw HttpError{415, "unsupported_media_type", "send the body as application/json"};
  if (!valid_utf8(r.body)) throw HttpError{400, "malformed_json", "the body is not valid UTF-8"};
  json doc;
  try {
    doc = parse_json_within(r.body, config.json);
  } catch (const JsonRefused& e) {
    throw HttpError{e.status, e.status == 413 ? "body_too_large" : "malformed_json", e.what()};
  }
  if (!doc.is_object()) throw HttpError{422, "validation", "the body must be a JSON object"};
  return doc;
}
HttpResponse ApiContext::write(const RouteCall& call,
                               const std::function<HttpResponse(store::UnitOfWork&)>& work) {
  const HttpRequest& r = call.request;
  const Who& who = call.principal();
  const std::string& given = r.header("idempotency-key");
  // The audit trail notes who and from where beside the actor's id.
  const auto described = [&](store::UnitOfWork& uow) {
    uow.describe_actor(who.name, r.remote);
    return work(uow);
  };
  if (r.method != "POST" || given.empty()) return db.transact(described, who.user_id);
  bool usable = given.size() <= 255;
  for (unsigned char c : given) usable = usable && c >= 0x21 && c <= 0x7e;
  if (!usable)
    throw HttpError{400, "bad_request",
                    "Idempotency-Key must be 1 to 255 printable ASCII characters"};
  try {
    HttpResponse first;  // the answer as made, when this request is the one that ran
    const auto done =
        engine.once(who, given, fingerprint(r, call.target), [&](store::UnitOfWork& uow) {
          first = described(uow);
          json headers = json::object();
          for (const auto& [k, v] : first.headers) headers[k] = v;
          return store::StoredResponse{{}, first.status, headers.dump(), first.body, {}};
        });
    return done.replayed ? replay(done.answer) : first;
  } catch (const ValidationError& e) {
    if (e.field() != "idempotency_key") throw;
    throw HttpError{422, "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request; use a new key"};
  }
}

void ApiContext::audit_denial(const RouteCall& call, const HttpResponse& refusal) {
  const HttpRequest& r = call.request;
  const Who& who = call.principal();
  ObjectRef object{ObjectType::kUser, 0};
  const auto& s = call.target.segments;
  if (s.size() >= 2 && s[0] == "v1") {
    if (auto type = type_of_collection(s[1]))
      object = {*type, s.size() >= 3 ? std::strtoull(s[2].c_str(), nullptr, 10) : 0};
  }
  const json problem = json::parse(refusal.body, nullptr, false);
  const std::string* why = problem.is_object() && problem.contains("detail")
                               ? problem["detail"].get_ptr<const std::string*>()
                               : nullptr;
  try {
    engine.record_refusal(who, object,
                          r.method + " " + call.target.path + ": " + (why != nullptr ? *why : ""),
                          r.remote);
  } catch (const Error& e) {
    log_error("audit_denial_lost", e.what());
  }
}

void ApiContext::log_error(const char* event, const std::string& error) {
  report(LogEvent(LogLevel::kError, event).with("error", error));
}

namespace {
constexpr std::pair<const char*, ObjectType> kCollections[] = {
    {"users", ObjectType::kUser},         {"teams", ObjectType::kTeam},
    {"tags", ObjectType::kTag},           {"companies", ObjectType::kCompany},
    {"contacts", ObjectType::kContact},   {"leads", ObjectType::kLead},
    {"pipelines", ObjectType::kPipeline}, {"stages", ObjectType::kStage},
    {"deals", ObjectType::kDeal},         {"activities", ObjectType::kActivity}};
}  // namespace

std::optional<ObjectType> type_of_collection(const std::string& name) {
  for (const auto& [collection, type] : kCollections)
    if (name == collection) return type;
  return std::nullopt;
}

std::string collection_of(ObjectType type) {
  for (const auto& [collection, t] : kCollections)
    if (t == type) return collection;
  return {};
}

// One JSON line, written without building a JSON object or calling printf (they were 7%
// and 2% of a GET); the strings from the client are escaped, invalid UTF-8 replaced.
void ApiContext::access_log(const HttpRequest& r, const std::string& id, int status,
                            std::size_t bytes, Clock::duration took) {
  if (!config.access_log || !log) return;
  log(LogEvent(LogLevel::kInfo, "request")
          .with("request_id", id)
          .with("remote", r.remote)
          .with("method", r.method)
          .with("target", std::string_view(r.target).substr(0, 512))
          .with("status", std::int64_t{status})
          .with("bytes", static_cast<std::int64_t>(bytes))
          .with_fixed("duration_ms", std::chrono::duration<double, std::milli>(took).count(), 3));
}

Api::Api(store::Database& db, const ApiOptions& config, LogSink log,
         const messaging::MessageBus* bus)
    : context_(std::make_unique<ApiContext>(db, config, std::move(log), bus)) {}

Api::~Api() = default;

bool Api::answers_without_waiting(const HttpRequest& request) {
  const std::string_view path =
      std::string_view(request.target).substr(0, request.target.find('?'));
  return request.method == "GET" && (path == "/healthz" || path == "/readyz");
}

HttpResponse Api::handle(const HttpRequest& request) {
  const auto start = Clock::now();
  std::optional<store::CommitDeadline> deadline;
  if (request.deadline != std::chrono::steady_clock::time_point{})
    deadline.emplace(request.deadline);
  const std::string& given = request.header("x-request-id");
  const std::string id = usable_request_id(given) ? given : new_request_id();
  HttpResponse out;
  RouteCall call{request};
  try {
    call.target = parse_target(request.target);
    out = context_->route(call);
    const auto& s = call.target.segments;
    if (call.who && out.status < 300 &&
        (request.method == "DELETE" || (s.size() == 4 && s[3] == "archive")))
      context_->guard.deleted(*call.who);
  } catch (const HttpError& e) {
    out = problem(id, e.status, e.code, e.detail);
    for (const auto& h : e.headers) out.headers.push_back(h);
  } catch (const Error& e) {
    out = problem_of(e, id);
  } catch (const std::exception& e) {
    context_->report(LogEvent(LogLevel::kError, "request_failed")
                         .with("request_id", id)
                         .with("error", e.what()));
    out = problem(id, 500, "internal", "the server failed on this request");
  }
  if (out.status == 403 && call.who) {  // a principal: the target parsed before it
    context_->guard.denied(*call.who);
    context_->audit_denial(call, out);
  }
  if (call.who) {
    try {
      // Reads refused for scope, now that the request's work is over.
      context_->engine.record_denied_reads();
    } catch (const Error& e) {
      context_->log_error("audit_denial_lost", e.what());
    }
  }
  for (auto& h : call.headers) out.headers.push_back(std::move(h));
  out.headers.emplace_back("X-Request-Id", id);
  const auto took = Clock::now() - start;
  context_->requests.record(
      call.route_template.empty() ? "other" : std::string(call.route_template), request.method,
      out.status, took);
  context_->access_log(request, id, out.status, out.body.size(), took);
  return out;
}

void Api::add_metrics_source(std::function<std::string()> source) {
  context_->metric_sources.push_back(std::move(source));
}

void Api::add_readiness_check(std::function<std::vector<std::string>()> check) {
  context_->readiness_checks.push_back(std::move(check));
}

HttpResponse Api::reject(int status, const std::string& reason) {
  const std::string id = new_request_id();
  const char* code = status == 413   ? "body_too_large"
                     : status == 431 ? "headers_too_large"
                     : status == 500 ? "internal"
                     : status == 503 ? "unavailable"
                                     : "bad_request";
  HttpResponse out = problem(id, status, code, reason);
  out.headers.emplace_back("X-Request-Id", id);
  const HttpRequest none;
  context_->access_log(none, id, status, out.body.size(), Clock::duration{});
  return out;
}

}  // namespace banyan::rest
