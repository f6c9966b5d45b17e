#include "api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include <nlohmann/json.hpp>

#include "backfill_jobs.hpp"
#include "banyan/banyan.hpp"
#include "guard.hpp"
#include "json_body.hpp"
#include "metrics.hpp"
#include "openapi.hpp"
#include "record_json.hpp"

namespace banyan::server {

namespace {

using Clock = std::chrono::steady_clock;

// /metrics counts the messaging tables at most this often: a count reads every row.
constexpr std::chrono::seconds kTableCountMaxAge{10};

// An HTTP-level refusal (before the library is asked): status, stable code, detail.
struct HttpError {
  int status;
  std::string code;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> headers{};
};

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// The request id goes into the problem too, for support requests.
HttpResponse problem(const std::string& request_id, int status, const std::string& code,
                     const std::string& detail, const std::string& field = {}) {
  json body{{"type", "https://banyan.dev/problems/" + code},
            {"title", reason_phrase(status)},
            {"status", status},
            {"code", code},
            {"detail", detail},
            {"request_id", request_id}};
  if (!field.empty()) body["field"] = field;
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// The library's errors as problems: one status and code per error code.
HttpResponse problem_of(const Error& e, const std::string& id) {
  switch (e.code()) {
    case ErrorCode::kNotFound:
      return problem(id, 404, "not_found", e.what());
    case ErrorCode::kConflict:
      if (e.field() == "version") return problem(id, 412, "stale_version", e.what(), "version");
      return problem(id, 409, "conflict", e.what(), e.field());
    case ErrorCode::kValidation:
      return problem(id, 422, "validation", e.what(), e.field());
    case ErrorCode::kPermissionDenied:
      return problem(id, 403, "permission_denied", e.what(), e.field());
    case ErrorCode::kRateLimited:
      return problem(id, 429, "rate_limited", e.what());
    case ErrorCode::kPoolExhausted:
      return problem(id, 503, "pool_exhausted", e.what());
    case ErrorCode::kUnavailable:
      return problem(id, 503, "unavailable", e.what());
    case ErrorCode::kInternal:
      return problem(id, 500, "internal", "the server failed on this request");
  }
  return problem(id, 500, "internal", "the server failed on this request");
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  std::uint64_t v = rng();
  for (int i = 0; i < 16; ++i, v >>= 4) out += kHex[v & 15];
  return out;
}

// A client's own request id is kept when it is short and plain.
bool usable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      if (i + 2 >= in.size())
        throw HttpError{400, "bad_request", "a malformed %-escape in the URL"};
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) throw HttpError{400, "bad_request", "a malformed %-escape in the URL"};
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Equal strings, compared in time that depends on their lengths only (a secret is not
// learnt a byte at a time from how long a refusal takes).
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF)
      n = 2;
    else if (c >= 0xF0 && c <= 0xF4)
      n = 3;
    else
      return false;  // a continuation byte, an overlong lead, or beyond U+10FFFF
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) ||  // overlong, surrogate
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))    // overlong, too large
      return false;
    i += n + 1;
  }
  return true;
}

struct Target {
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;
  std::string path;
};

Target parse_target(const std::string& target) {
  Target t;
  const auto q = target.find('?');
  t.path = target.substr(0, q);
  if (t.path.empty() || t.path[0] != '/')
    throw HttpError{400, "bad_request", "the request target must be a path"};
  for (const auto& segment : split(t.path, '/')) t.segments.push_back(percent_decode(segment));
  if (q != std::string::npos) {
    std::string_view rest(target);
    rest.remove_prefix(q + 1);
    while (!rest.empty()) {
      const auto amp = std::min(rest.find('&'), rest.size());
      const auto pair = rest.substr(0, amp);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        t.query.emplace_back(
            percent_decode(pair.substr(0, eq)),
            eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1)));
      }
      rest.remove_prefix(std::min(amp + 1, rest.size()));
    }
  }
  for (const auto& s : t.segments)
    if (!valid_utf8(s)) throw HttpError{400, "bad_request", "the path is not valid UTF-8"};
  for (const auto& [k, v] : t.query)
    if (!valid_utf8(k) || !valid_utf8(v))
      throw HttpError{400, "bad_request", "the query is not valid UTF-8"};
  return t;
}

Id parse_id(const std::string& text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 19) throw HttpError{404, "not_found", "no such record"};
  for (char c : text) {
    if (c < '0' || c > '9') throw HttpError{404, "not_found", "no such record"};
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0) throw HttpError{404, "not_found", "no such record"};
  return v;
}

// A time in a query string. Form encoding reads '+' as a space, so an offset written as
// "+01:00" without %2B arrives as " 01:00": no RFC 3339 time has a space, so a space there
// is taken for the '+' it was.
std::optional<Timestamp> query_time(std::string text) {
  std::replace(text.begin(), text.end(), ' ', '+');
  return parse_timestamp(text);
}

HttpError not_allowed(const std::string& method, const std::string& allow) {
  return HttpError{405, "method_not_allowed", method + " is not allowed here", {{"Allow", allow}}};
}

// Conflict("version") (a 412) unless an If-Match version, when given, is the stored one.
void check_version(const std::optional<std::uint64_t>& expected, std::uint64_t stored) {
  if (expected && *expected != stored)
    throw Conflict(
        "the record is at version " + std::to_string(stored) + ", not " + std::to_string(*expected),
        "version");
}

HttpResponse no_content() {
  HttpResponse out;
  out.status = 204;
  return out;
}

}  // namespace

// Who a request acts for: every route but the public three runs as a principal.
using Who = security::Principal;
using security::Action;

struct Api::Impl {
  store::Database& db;
  ServerConfig config;
  std::function<void(std::string_view)> log;
  const messaging::MessageBus* bus;
  RequestMetrics requests;
  Engine engine;
  security::Authenticator authenticator;
  Guard guard;
  BackfillJobs backfills;  // after engine: it stops before the engine goes
  // Added before serving starts, read by every /readyz after.
  std::vector<std::function<std::vector<std::string>()>> readiness_checks;
  std::vector<std::function<std::string()>> metric_sources;

  Impl(store::Database& d, ServerConfig c, std::function<void(std::string_view)> l,
       const messaging::MessageBus* b)
      : db(d),
        config(std::move(c)),
        log(std::move(l)),
        bus(b),
        engine(d, engine_options()),
        authenticator(d, security::AuthenticatorOptions{.oidc = config.oidc}),
        guard(config.rate, log),
        backfills(engine, log) {}

  EngineOptions engine_options() {
    EngineOptions options;
    options.on_mass_export = [this](const Who& who, ObjectType) { guard.mass_export(who); };
    return options;
  }

  // What routing learned about a request that its answer, error or not, still needs.
  struct Call {
    std::optional<Who> who;  // once authenticated
    Headers headers;         // RateLimit headers
  };

  static Guard::RouteClass route_class(const HttpRequest& r, const Target& t) {
    if (r.method == "GET") return Guard::RouteClass::kRead;
    const std::string_view last =
        t.segments.empty() ? std::string_view() : std::string_view(t.segments.back());
    if (last == "batch" || last == "upsert" || last == "merge" || last == "replay")
      return Guard::RouteClass::kBulk;
    return Guard::RouteClass::kWrite;
  }

  static HttpError too_many(Refusal refusal) {
    return HttpError{429, "rate_limited", std::move(refusal.detail), std::move(refusal.headers)};
  }

  static HttpError unauthenticated(const std::string& detail, const char* error = nullptr) {
    std::string challenge = "Bearer realm=\"banyan\"";
    if (error != nullptr) challenge += std::string(", error=\"") + error + "\"";
    return HttpError{401,
                     error != nullptr ? error : "unauthenticated",
                     detail,
                     {{"WWW-Authenticate", challenge}}};
  }

  // The principal of the request's bearer credential (an API key), or 401.
  Who authenticate(const HttpRequest& r) {
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

  // Why a credential was refused, for the operator (the client is told only that it was).
  void log_refusal(const HttpRequest& r, const std::string& why) {
    std::string line = R"({"level":"warning","event":"credential_refused","remote":)";
    append_json_string(r.remote, line);
    line += ",\"reason\":";
    append_json_string(why.substr(0, 300), line);
    line += '}';
    log(line);
  }

  // Prometheus text: the request series, the pool, the outbox lag, the dead letters and
  // the guard's counters.
  HttpResponse metrics() {
    std::string out = requests.render();
    char line[256];
    auto gauge = [&](const char* name, const char* help, const char* type, double value) {
      std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                    type, name, value);
      out += line;
    };
    gauge("banyan_denied_reads_total",
          "Reads refused for scope (answered 404); audited once per principal and minute.",
          "counter", static_cast<double>(engine.denied_reads()));
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
      gauge("banyan_messages_dead_lettered_total", "Messages this process dead-lettered.",
            "counter", static_cast<double>(m.dead_lettered));
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
      out +=
          "# HELP banyan_table_rows Rows in a messaging table.\n# TYPE banyan_table_rows gauge\n";
      for (const auto& t : bus->table_sizes(kTableCountMaxAge)) {
        std::snprintf(line, sizeof line, "banyan_table_rows{table=\"%s\"} %lld\n", t.table.c_str(),
                      static_cast<long long>(t.rows));
        out += line;
      }
    }
    auto backlog = [&](const char* name, const char* what,
                       const std::vector<messaging::QueueBacklog>& queues) {
      out += std::string("# HELP banyan_") + name + "_depth " + what +
             ", by queue.\n# TYPE banyan_" + name + "_depth gauge\n";
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
    backlog("dlq", "Dead letters not replayed", messaging::DeadLetterStore(db).stats());
    if (config.oidc) {
      const auto keys = authenticator.key_stats();
      gauge("banyan_oidc_key_refreshes_total", "Key sets fetched from the OIDC issuer.", "counter",
            static_cast<double>(keys.refreshes));
      gauge("banyan_oidc_key_refresh_failures_total",
            "Fetches of the OIDC issuer's keys that failed.", "counter",
            static_cast<double>(keys.refresh_failures));
    }
    out += guard.render();
    for (const auto& source : metric_sources) out += source();
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = std::move(out);
    return r;
  }

  // ---- JSON bodies ----------------------------------------------------------------------

  // The body as a JSON object, within the limits: media type, UTF-8, and those of
  // parse_json_within (linear in the body).
  json body_object(const HttpRequest& r) const {
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

  static HttpResponse json_response(int status, const json& body) {
    HttpResponse r;
    r.status = status;
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
  }

  template <typename T>
  static HttpResponse record_response(int status, const T& record,
                                      const std::vector<std::string>& fields = {}) {
    HttpResponse r;
    r.status = status;
    append_json_text(record, fields, r.body);
    r.headers.emplace_back("ETag", "\"" + std::to_string(record.version) + "\"");
    return r;
  }

  // ---- writes and idempotency ---------------------------------------------------------

  std::atomic<std::int64_t> next_purge_us{0};

  static std::string fingerprint(const HttpRequest& r, const Target& t) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over method, path and body
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

  static HttpResponse replay(const store::StoredResponse& stored, const std::string& print) {
    if (stored.fingerprint != print)
      throw HttpError{422, "idempotency_key_reused",
                      "this Idempotency-Key was used with a different request; use a new key"};
    HttpResponse out;
    out.status = stored.status;
    out.body = stored.body;
    const json headers = json::parse(stored.headers, nullptr, false);
    if (headers.is_object())
      for (const auto& [k, v] : headers.items()) out.headers.emplace_back(k, v.get<std::string>());
    out.headers.emplace_back("Idempotent-Replayed", "true");
    return out;
  }

  // Runs a write in one unit of work. A POST that carries an Idempotency-Key stores its
  // response in the same unit of work; a retry with the key gets that response back and
  // writes nothing (a concurrent twin waits for the first, then gets its answer).
  HttpResponse write(const Who& who, const HttpRequest& r, const Target& t,
                     const std::function<HttpResponse(store::UnitOfWork&)>& work) {
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
    purge_old_keys();
    // Keys are the principal's own: another's retry with the same key is another request.
    const std::string key = std::to_string(who.user_id.value_or(0)) + ":" + given;
    const std::string print = fingerprint(r, t);
    const auto responses = db.request_log();
    for (int attempt = 1;; ++attempt) {
      try {
        return db.transact(
            [&](store::UnitOfWork& uow) {
              if (auto stored = responses.find(uow, key)) return replay(*stored, print);
              HttpResponse out = described(uow);
              json headers = json::object();
              for (const auto& [k, v] : out.headers) headers[k] = v;
              responses.save(uow, key, {print, out.status, headers.dump(), out.body, {}});
              return out;
            },
            who.user_id);
      } catch (const Conflict& e) {
        if (e.field() != "key" || attempt >= 2) throw;  // the twin finished first: look again
      }
    }
  }

  // Keys are kept for a day, then forgotten (checked at most every ten minutes).
  void purge_old_keys() {
    const auto now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    const std::int64_t now_us = now.time_since_epoch().count();
    std::int64_t due = next_purge_us.load();
    if (now_us < due || !next_purge_us.compare_exchange_strong(due, now_us + 600'000'000)) return;
    try {
      db.transact([&](store::UnitOfWork& uow) {
        db.request_log().purge_older_than(uow, now - std::chrono::hours(24));
      });
    } catch (const Error&) {
      next_purge_us.store(0);  // try again with the next request
    }
  }

  // ---- one resource ---------------------------------------------------------------------

  template <typename T>
  static store::Value filter_value(const JsonField<T>& f, const std::string& text) {
    switch (f.kind) {
      case FieldKind::kText:
        return text;
      case FieldKind::kInteger:
        if (auto v = parse_integer(text)) return *v;
        throw ValidationError(f.name + ": '" + text + "' is not an integer", f.name);
      case FieldKind::kTime:
        if (auto t = query_time(text)) return *t;
        throw ValidationError(
            f.name + ": '" + text + "' is not an RFC 3339 time (e.g. 2026-01-02T10:00:00Z)",
            f.name);
      case FieldKind::kDecimal:
        if (auto v = parse_decimal(text)) return *v;
        throw ValidationError(f.name + ": '" + text + "' is not a number", f.name);
      case FieldKind::kDate:
        if (auto d = parse_date(text)) return *d;
        throw ValidationError(f.name + ": '" + text + "' is not a date (YYYY-MM-DD)", f.name);
      case FieldKind::kBool:
        if (text == "true") return true;
        if (text == "false") return false;
        throw ValidationError(f.name + ": '" + text + "' is not true or false", f.name);
      case FieldKind::kOther:
        break;
    }
    throw ValidationError(f.name + ": cannot be filtered on", f.name);
  }

  // "?email=a@b.c", "?created_at[gt]=2026-01-01T00:00:00Z", "?id[in]=1,2,3",
  // "?title[is_null]=true": every condition must hold.
  // How a custom field's filter values read, by its definition's type.
  static FieldKind custom_kind(CustomFieldType type) {
    switch (type) {
      case CustomFieldType::kNumber:
      case CustomFieldType::kCurrency:
        return FieldKind::kInteger;
      case CustomFieldType::kDecimal:
        return FieldKind::kDecimal;
      case CustomFieldType::kDate:
        return FieldKind::kDate;
      case CustomFieldType::kDateTime:
        return FieldKind::kTime;
      case CustomFieldType::kBool:
        return FieldKind::kBool;
      default:
        return FieldKind::kText;
    }
  }

  // Custom fields filter as "custom.<name>"; their values read by the definition's type.
  template <typename T>
  store::Filter filter_of(store::UnitOfWork& uow,
                          const std::vector<std::pair<std::string, std::string>>& query) {
    std::vector<JsonField<T>> custom;
    for (const auto& [key, value] : query) {
      if (key.rfind("custom.", 0) != 0 || !custom.empty()) continue;
      for (const auto& d : db.custom_fields().list(uow, T::kType))
        custom.push_back({"custom." + d.name, false, custom_kind(d.type), {}, {}, {}});
    }
    return filter_of<T>(query, custom);
  }

  template <typename T>
  static store::Filter filter_of(const std::vector<std::pair<std::string, std::string>>& query,
                                 const std::vector<JsonField<T>>& custom) {
    static const std::vector<std::string> kReserved{"limit", "cursor", "sort", "fields",
                                                    "include_archived"};
    store::Filter filter;
    bool any = false;
    for (const auto& [key, value] : query) {
      if (std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end()) continue;
      std::string name = key, op = "eq";
      const auto bracket = key.find('[');
      if (bracket != std::string::npos) {
        if (key.back() != ']')
          throw ValidationError(key + ": write the operator as field[op]", key);
        name = key.substr(0, bracket);
        op = key.substr(bracket + 1, key.size() - bracket - 2);
      }
      const auto& fields = name.rfind("custom.", 0) == 0 ? custom : json_fields<T>();
      auto f = std::find_if(fields.begin(), fields.end(),
                            [&](const JsonField<T>& x) { return x.name == name; });
      if (f == fields.end()) throw ValidationError(name + ": no such field to filter on", name);
      store::Filter c;
      if (op == "eq")
        c = store::Filter::eq(name, filter_value(*f, value));
      else if (op == "ne")
        c = store::Filter::ne(name, filter_value(*f, value));
      else if (op == "lt")
        c = store::Filter::lt(name, filter_value(*f, value));
      else if (op == "le")
        c = store::Filter::le(name, filter_value(*f, value));
      else if (op == "gt")
        c = store::Filter::gt(name, filter_value(*f, value));
      else if (op == "ge")
        c = store::Filter::ge(name, filter_value(*f, value));
      else if (op == "contains")
        c = store::Filter::contains(name, value);
      else if (op == "starts_with")
        c = store::Filter::starts_with(name, value);
      else if (op == "in") {
        std::vector<store::Value> values;
        for (const auto& v : split(value, ',')) values.push_back(filter_value(*f, v));
        if (values.empty()) throw ValidationError(name + ": [in] needs at least one value", name);
        c = store::Filter::in(name, values);
      } else if (op == "is_null") {
        if (value != "true" && value != "false")
          throw ValidationError(name + ": [is_null] takes true or false", name);
        c = value == "true" ? store::Filter::is_null(name) : !store::Filter::is_null(name);
      } else {
        throw ValidationError(key + ": unknown operator '" + op + "'", key);
      }
      filter = any ? (filter && c) : c;
      any = true;
    }
    return filter;
  }

  static std::optional<std::string> query_value(const Target& t, const std::string& key) {
    for (const auto& [k, v] : t.query)
      if (k == key) return v;
    return std::nullopt;
  }

  template <typename T>
  HttpResponse list(const RecordService<T>& repo, const Target& t) {
    store::PageRequest req;
    req.limit = 50;
    if (auto limit = query_value(t, "limit")) {
      const auto v = parse_integer(*limit);
      if (!v || *v < 1 || *v > 200) throw ValidationError("limit: a number from 1 to 200", "limit");
      req.limit = static_cast<std::size_t>(*v);
    }
    if (auto sort = query_value(t, "sort")) {
      req.sort.descending = !sort->empty() && (*sort)[0] == '-';
      req.sort.field = req.sort.descending ? sort->substr(1) : *sort;
    }
    if (auto cursor = query_value(t, "cursor")) req.cursor = *cursor;
    if (auto archived = query_value(t, "include_archived"))
      req.include_archived = *archived == "true";
    std::vector<std::string> fields;
    if (auto f = query_value(t, "fields")) fields = split(*f, ',');
    auto page = db.read([&](store::UnitOfWork& uow) {
      req.filter = filter_of<T>(uow, t.query);
      return repo.query(uow, req);
    });
    HttpResponse out;
    out.body = "{\"items\":[";
    for (std::size_t i = 0; i < page.items.size(); ++i) {
      if (i > 0) out.body += ',';
      append_json_text(page.items[i], fields, out.body);
    }
    out.body += "],\"next\":";
    if (page.next_cursor)
      append_json_string(*page.next_cursor, out.body);
    else
      out.body += "null";
    out.body += '}';
    return out;
  }

  // POST /v1/{type}/batch {"items": [...]} creates up to 100 records. All or nothing: the
  // first bad item's problem names it ("items[3].email") and nothing is written.
  template <typename T>
  HttpResponse batch(const Who& who, const RecordService<T>& repo, const HttpRequest& r,
                     const Target& t) {
    const json body = body_object(r);
    const json& items = batch_items(body);
    std::vector<T> records;
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        T record;
        apply_json(record, items[i]);
        records.push_back(std::move(record));
      } catch (const ValidationError& e) {
        at_item(i, e);
      }
    }
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      json made = json::array();
      for (std::size_t i = 0; i < records.size(); ++i) {
        try {
          made.push_back(to_json(repo.create(uow, records[i])));
        } catch (const Error& e) {
          at_item(i, e);
        }
      }
      return json_response(201, json{{"items", made}});
    });
  }

  static const json& batch_items(const json& body) {
    if (!body.contains("items") || !body["items"].is_array() || body["items"].empty() ||
        body["items"].size() > 100)
      throw ValidationError("items: a list of 1 to 100 records", "items");
    for (const auto& [k, v] : body.items())
      if (k != "items") throw ValidationError(k + ": no such field", k);
    return body["items"];
  }

  // An item's error as the batch's: its field prefixed with the item ("items[3].email").
  [[noreturn]] static void at_item(std::size_t i, const Error& e) {
    const std::string where = "items[" + std::to_string(i) + "]";
    const std::string field = e.field().empty() ? where : where + "." + e.field();
    switch (e.code()) {
      case ErrorCode::kConflict:  // a stale version stays "version": it is a 412
        throw Conflict(where + ": " + e.what(), e.field() == "version" ? "version" : field);
      case ErrorCode::kNotFound:
      case ErrorCode::kValidation:
        throw ValidationError(where + ": " + e.what(), field);
      case ErrorCode::kPermissionDenied:
        throw PermissionDenied(where + ": " + e.what(), field);
      default:
        throw;
    }
  }

  template <typename T>
  static json upsert_json(const WriteResult<T>& done) {
    return json{{"outcome", std::string(to_string(done.outcome))},
                {"record", to_json(done.record)}};
  }

  // POST /v1/{type}/upsert: one record, or {"items": [...]} up to 100, each created or
  // changed by its external_id with merge semantics (what an item names changes, the rest
  // stays) and reported as created, updated or unchanged. An unchanged item writes
  // nothing. A batch is all or nothing, as /batch is.
  template <typename T>
  HttpResponse upsert(const Who& who, const RecordService<T>& repo, const std::string& base,
                      const HttpRequest& r, const Target& t) {
    const json body = body_object(r);
    const bool single = !body.contains("items");
    std::vector<Patch<T>> patches;
    const json one = json::array({body});
    const json& items = single ? one : batch_items(body);
    for (std::size_t i = 0; i < items.size(); ++i) {
      try {
        Patch<T> patch = patch_of<T>(items[i]);
        if (!patch.values.external_id)
          throw ValidationError("external_id: an upsert needs one", "external_id");
        patches.push_back(std::move(patch));
      } catch (const ValidationError& e) {
        if (single) throw;
        at_item(i, e);
      }
    }
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      if (single) {
        const auto done = repo.upsert(uow, patches.front());
        const bool created = done.outcome == WriteOutcome::kCreated;
        HttpResponse out = json_response(created ? 201 : 200, upsert_json(done));
        out.headers.emplace_back("ETag", "\"" + std::to_string(done.record.version) + "\"");
        if (created)
          out.headers.emplace_back("Location",
                                   "/v1/" + base + "/" + std::to_string(done.record.id));
        return out;
      }
      json results = json::array();
      std::size_t counts[3] = {0, 0, 0};
      for (std::size_t i = 0; i < patches.size(); ++i) {
        try {
          const auto done = repo.upsert(uow, patches[i]);
          ++counts[static_cast<int>(done.outcome)];
          results.push_back(upsert_json(done));
        } catch (const Error& e) {
          at_item(i, e);
        }
      }
      return json_response(200,
                           json{{"items", results},
                                {"created", counts[static_cast<int>(WriteOutcome::kCreated)]},
                                {"updated", counts[static_cast<int>(WriteOutcome::kUpdated)]},
                                {"unchanged", counts[static_cast<int>(WriteOutcome::kUnchanged)]}});
    });
  }

  // The version an If-Match header asks for, if any ("\"3\"" or "3").
  static std::optional<std::uint64_t> if_match(const HttpRequest& r) {
    std::string v = r.header("if-match");
    if (v.empty()) return std::nullopt;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    std::uint64_t out = 0;
    if (v.empty() || v.size() > 19)
      throw HttpError{400, "bad_request", "If-Match must carry a record version"};
    for (char c : v) {
      if (c < '0' || c > '9')
        throw HttpError{400, "bad_request", "If-Match must carry a record version"};
      out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return out;
  }

  template <typename T>
  HttpResponse resource(const Who& who, const RecordService<T>& repo, const std::string& base,
                        const HttpRequest& r, const Target& t) {
    const auto& s = t.segments;  // ["v1", base, ...]
    const std::string& m = r.method;
    if (s.size() == 2) {
      if (m == "GET") return list(repo, t);
      if (m == "POST") {
        T record;
        apply_json(record, body_object(r));
        return write(who, r, t, [&](store::UnitOfWork& uow) {
          T created = repo.create(uow, record);
          HttpResponse out = record_response(201, created);
          out.headers.emplace_back("Location", "/v1/" + base + "/" + std::to_string(created.id));
          return out;
        });
      }
      throw not_allowed(m, "GET, POST");
    }
    if (s.size() == 3 && (s[2] == "batch" || s[2] == "upsert")) {
      if (m != "POST") throw not_allowed(m, "POST");
      return s[2] == "batch" ? batch(who, repo, r, t) : upsert(who, repo, base, r, t);
    }
    const Id id = parse_id(s[2]);
    if (s.size() == 3) {
      if (m == "GET") {
        std::vector<std::string> fields;
        if (auto f = query_value(t, "fields")) fields = split(*f, ',');
        if (auto when = query_value(t, "as_of")) {
          const auto at = query_time(*when);
          if (!at)
            throw ValidationError("as_of: an RFC 3339 time, e.g. 2026-11-29T12:00:00Z", "as_of");
          return record_response(
              200, db.read([&](store::UnitOfWork& uow) { return repo.as_of(uow, id, *at); }),
              fields);
        }
        return record_response(
            200, db.read([&](store::UnitOfWork& uow) { return repo.get(uow, id); }), fields);
      }
      if (m == "PATCH") {
        // JSON Merge Patch: what the body names changes, the rest stays.
        Patch<T> patch = patch_of<T>(body_object(r));
        patch.expected_version = if_match(r);
        return write(who, r, t, [&](store::UnitOfWork& uow) {
          return record_response(200, repo.patch(uow, id, patch).record);
        });
      }
      if (m == "DELETE") {
        return write(who, r, t, [&](store::UnitOfWork& uow) {
          repo.remove(uow, id);
          return no_content();
        });
      }
      throw not_allowed(m, "GET, PATCH, DELETE");
    }
    if (s.size() == 4 && s[3] == "history") {
      if (m != "GET") throw not_allowed(m, "GET");
      const std::string field = query_value(t, "field").value_or("");
      json items = json::array();
      for (const auto& c :
           db.read([&](store::UnitOfWork& uow) { return repo.history(uow, id, field); }))
        items.push_back(field_change_json(c));
      return json_response(200, json{{"items", items}});
    }
    if (s.size() == 4 && (s[3] == "archive" || s[3] == "restore")) {
      if (m != "POST") throw not_allowed(m, "POST");
      const bool archive = s[3] == "archive";
      return write(who, r, t, [&](store::UnitOfWork& uow) {
        return record_response(200, archive ? repo.archive(uow, id) : repo.restore(uow, id));
      });
    }
    throw HttpError{404, "no_route", "no route for " + t.path};
  }

  // ---- actions: lead conversion, merge, stage moves --------------------------------------

  static Id body_id(const json& body, const std::string& name) {
    if (!body.contains(name) || !body[name].is_number_unsigned() ||
        body[name].get<std::uint64_t>() == 0)
      throw ValidationError(name + ": a record id (a positive integer) is required", name);
    return body[name].get<std::uint64_t>();
  }

  static void only_keys(const json& body, std::initializer_list<const char*> allowed,
                        const std::string& prefix = "") {
    for (const auto& [k, v] : body.items()) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || k == a;
      if (!ok) throw ValidationError(prefix + k + ": no such field", prefix + k);
    }
  }

  // POST /v1/leads/{id}/convert {"company_id"?, "deal"?: {"pipeline_id", "stage_id",
  // "title"?, "amount"?, "expected_close"?, "contact_role"?}}
  HttpResponse convert_lead(const Who& who, const HttpRequest& r, const Target& t, Id lead_id) {
    const json body = body_object(r);
    only_keys(body, {"company_id", "deal"});
    store::LeadConversion req;
    req.lead_id = lead_id;
    if (body.contains("company_id") && !body["company_id"].is_null())
      req.company_id = body_id(body, "company_id");
    if (body.contains("deal") && !body["deal"].is_null()) {
      const json& d = body["deal"];
      if (!d.is_object()) throw ValidationError("deal: must be an object", "deal");
      only_keys(d, {"pipeline_id", "stage_id", "title", "amount", "expected_close", "contact_role"},
                "deal.");
      store::LeadConversion::NewDeal deal;
      // The deal's own fields read as a deal's, so they are checked the same way.
      Deal shape;
      json fields = json::object();
      for (const char* k : {"pipeline_id", "stage_id", "title", "amount", "expected_close"})
        if (d.contains(k)) fields[k] = d[k];
      apply_json(shape, fields);
      deal.pipeline_id = shape.pipeline_id;
      deal.stage_id = shape.stage_id;
      deal.title = shape.title;
      deal.amount = shape.amount;
      deal.expected_close = shape.expected_close;
      if (d.contains("contact_role")) {
        if (!d["contact_role"].is_string())
          throw ValidationError("deal.contact_role: must be a string", "deal.contact_role");
        deal.contact_role = parse_deal_role(d["contact_role"].get<std::string>());
      }
      req.deal = deal;
    }
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      const auto done = engine.convert_lead(uow, who, req);
      return json_response(200, json{{"lead", to_json(done.lead)},
                                     {"contact", to_json(done.contact)},
                                     {"company", to_json(done.company)},
                                     {"company_created", done.company_created},
                                     {"deal", done.deal ? to_json(*done.deal) : json(nullptr)}});
    });
  }

  // POST /v1/{contacts|companies|leads}/{id}/merge {"losers": [ids], "winners"?: {field: id}}
  template <typename T>
  HttpResponse merge(const Who& who, const RecordService<T>& repo, const HttpRequest& r,
                     const Target& t, Id survivor) {
    const json body = body_object(r);
    only_keys(body, {"losers", "winners"});
    store::MergeRequest req;
    req.type = T::kType;
    req.survivor = survivor;
    if (!body.contains("losers") || !body["losers"].is_array() || body["losers"].empty())
      throw ValidationError("losers: a list of one or more record ids is required", "losers");
    for (const json& id : body["losers"]) {
      if (!id.is_number_unsigned() || id.get<std::uint64_t>() == 0)
        throw ValidationError("losers: record ids are positive integers", "losers");
      req.losers.push_back(id.get<std::uint64_t>());
    }
    if (body.contains("winners")) {
      if (!body["winners"].is_object())
        throw ValidationError("winners: an object of field name to record id", "winners");
      const json& winners = body["winners"];
      for (auto it = winners.begin(); it != winners.end(); ++it) {
        const std::string field = it.key();
        const json& id = it.value();
        if (!id.is_number_unsigned())
          throw ValidationError("winners." + field + ": a record id", "winners." + field);
        req.winners[field] = id.get<std::uint64_t>();
      }
    }
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      const auto done = engine.merge(uow, who, req);
      return json_response(
          200, json{{"survivor", to_json(repo.get(uow, done.survivor))}, {"merged", done.merged}});
    });
  }

  // POST /v1/deals/{id}/stage {"stage_id"} (If-Match optional): a patch of the stage, so
  // the status follows its kind. POST /v1/deals/{id}/reopen {"stage_id"?}.
  HttpResponse move_deal(const Who& who, const HttpRequest& r, const Target& t, Id deal_id,
                         bool reopen) {
    const json body = reopen && r.body.empty() ? json::object() : body_object(r);
    only_keys(body, {"stage_id"});
    std::optional<Id> stage;
    if (!reopen || (body.contains("stage_id") && !body["stage_id"].is_null()))
      stage = body_id(body, "stage_id");
    const auto expected = if_match(r);
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      if (reopen)
        return record_response(200, engine.reopen_deal(uow, who, deal_id, stage, expected));
      Patch<Deal> patch;
      patch.values.stage_id = *stage;
      patch.name("stage_id");
      patch.expected_version = expected;
      return record_response(200, engine.deals(who).patch(uow, deal_id, patch).record);
    });
  }

  HttpResponse stage_history(const Who& who, Id deal_id) {
    auto history = db.read([&](store::UnitOfWork& uow) {
      engine.deals(who).get(uow, deal_id);  // NotFound for no such deal, or one it may not read
      return db.deal_stages().history(uow, deal_id);
    });
    json items = json::array();
    for (const auto& c : history) {
      items.push_back({{"from_stage_id", c.from_stage_id ? json(*c.from_stage_id) : json(nullptr)},
                       {"to_stage_id", c.to_stage_id},
                       {"changed_at", format_timestamp(c.changed_at)},
                       {"changed_by", c.changed_by ? json(*c.changed_by) : json(nullptr)},
                       {"seconds_in_previous_stage",
                        c.time_in_previous_stage
                            ? json(std::chrono::duration<double>(*c.time_in_previous_stage).count())
                            : json(nullptr)}});
    }
    return json_response(200, json{{"items", items}});
  }

  // /v1/custom-fields: definitions, by object type.
  // ---- access: roles, role assignments, API keys (administrators) -------------------------

  static json role_json(const security::Role& role) {
    json grants = json::array();
    for (const auto& g : role.grants)
      grants.push_back({{"type", std::string(to_string(g.type))},
                        {"action", std::string(security::to_string(g.action))},
                        {"scope", std::string(security::to_string(g.scope))}});
    return {{"name", role.name},
            {"description", role.description},
            {"grants", grants},
            {"built_in", role.built_in}};
  }

  // {"name"?, "description"?, "grants"?: [{"type", "action", "scope"}]} onto `role`.
  static void apply_role_json(security::Role& role, const json& body, bool creating) {
    if (creating) {
      only_keys(body, {"name", "description", "grants"});
      const auto* name =
          body.contains("name") ? body["name"].get_ptr<const std::string*>() : nullptr;
      if (name == nullptr)
        throw ValidationError("name: a role name (a string) is required", "name");
      role.name = *name;
    } else {
      only_keys(body, {"description", "grants"});
    }
    if (body.contains("description")) {
      const auto* d = body["description"].get_ptr<const std::string*>();
      if (d == nullptr) throw ValidationError("description: must be a string", "description");
      role.description = *d;
    }
    if (!body.contains("grants")) return;
    if (!body["grants"].is_array()) throw ValidationError("grants: must be an array", "grants");
    role.grants.clear();
    for (std::size_t i = 0; i < body["grants"].size(); ++i) {
      const json& g = body["grants"][i];
      const std::string at = "grants[" + std::to_string(i) + "]";
      if (!g.is_object()) throw ValidationError(at + ": must be an object", at);
      only_keys(g, {"type", "action", "scope"}, at + ".");
      auto text = [&](const char* key) {
        const auto* v = g.contains(key) ? g[key].get_ptr<const std::string*>() : nullptr;
        if (v == nullptr)
          throw ValidationError(at + "." + key + ": a string is required", at + "." + key);
        return *v;
      };
      security::Grant grant;
      try {
        grant.type = parse_object_type(text("type"));
      } catch (const ValidationError&) {
        throw ValidationError(at + ".type: not an object type", at + ".type");
      }
      grant.action = security::parse_action(text("action"), at + ".action");
      grant.scope = security::parse_scope(text("scope"), at + ".scope");
      role.grants.push_back(grant);
    }
  }

  static json api_key_json(const security::ApiKey& k) {
    return {
        {"id", k.id},
        {"user_id", k.user_id},
        {"name", k.name},
        {"prefix", k.prefix},
        {"created_at", format_timestamp(k.created_at)},
        {"last_used_at", k.last_used_at ? json(format_timestamp(*k.last_used_at)) : json(nullptr)},
        {"revoked_at", k.revoked_at ? json(format_timestamp(*k.revoked_at)) : json(nullptr)}};
  }

  // /v1/roles[/{name}]
  HttpResponse roles(const Who& who, const HttpRequest& r, const Target& t) {
    engine.require_administrator(who);
    const auto& s = t.segments;
    const std::string& m = r.method;
    const security::RoleStore store;
    if (s.size() == 2) {
      if (m == "GET") {
        json items = json::array();
        for (const auto& role : db.read([&](store::UnitOfWork& uow) { return store.list(uow); }))
          items.push_back(role_json(role));
        return json_response(200, json{{"items", items}});
      }
      if (m != "POST") throw not_allowed(m, "GET, POST");
      security::Role role;
      apply_role_json(role, body_object(r), /*creating=*/true);
      HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
        return json_response(201, role_json(store.create(uow, role)));
      });
      out.headers.emplace_back("Location", "/v1/roles/" + role.name);
      engine.policy_changed();
      return out;
    }
    if (s.size() != 3) throw HttpError{404, "no_route", "no route for " + t.path};
    const std::string& name = s[2];
    if (m == "GET")
      return json_response(
          200, role_json(db.read([&](store::UnitOfWork& uow) { return store.get(uow, name); })));
    if (m == "PATCH") {
      const json body = body_object(r);
      HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
        security::Role role = store.get(uow, name);
        apply_role_json(role, body, /*creating=*/false);
        return json_response(200, role_json(store.update(uow, role)));
      });
      engine.policy_changed();
      return out;
    }
    if (m == "DELETE") {
      HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
        store.remove(uow, name);
        return no_content();
      });
      engine.policy_changed();
      return out;
    }
    throw not_allowed(m, "GET, PATCH, DELETE");
  }

  // /v1/users/{id}/roles[/{role}], /v1/users/{id}/api-keys
  HttpResponse user_access(const Who& who, const HttpRequest& r, const Target& t) {
    engine.require_administrator(who);
    const auto& s = t.segments;
    const std::string& m = r.method;
    const Id user = parse_id(s[2]);
    const security::Directory directory;
    if (s[3] == "roles") {
      if (s.size() == 4) {
        if (m != "GET") throw not_allowed(m, "GET");
        return json_response(200, json{{"items", db.read([&](store::UnitOfWork& uow) {
                                          db.users().get(uow, user);  // NotFound
                                          return directory.roles_of(uow, user);
                                        })}});
      }
      if (s.size() != 5) throw HttpError{404, "no_route", "no route for " + t.path};
      if (m != "PUT" && m != "DELETE") throw not_allowed(m, "PUT, DELETE");
      return write(who, r, t, [&](store::UnitOfWork& uow) {
        if (m == "PUT") {
          directory.assign_role(uow, user, s[4]);
        } else {
          db.users().get(uow, user);  // NotFound
          directory.revoke_role(uow, user, s[4]);
        }
        return no_content();
      });
    }
    // api-keys
    if (s.size() != 4) throw HttpError{404, "no_route", "no route for " + t.path};
    const security::ApiKeyStore keys;
    if (m == "GET") {
      json items = json::array();
      for (const auto& k : db.read([&](store::UnitOfWork& uow) {
             db.users().get(uow, user);  // NotFound
             return keys.list(uow, user);
           }))
        items.push_back(api_key_json(k));
      return json_response(200, json{{"items", items}});
    }
    if (m != "POST") throw not_allowed(m, "GET, POST");
    const json body = body_object(r);
    only_keys(body, {"name"});
    const auto* name = body.contains("name") ? body["name"].get_ptr<const std::string*>() : nullptr;
    if (name == nullptr) throw ValidationError("name: a key name (a string) is required", "name");
    HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
      const auto issued = keys.create(uow, user, *name);
      json j = api_key_json(issued.key);
      j["secret"] = issued.secret;  // shown this once
      HttpResponse created = json_response(201, j);
      created.headers.emplace_back("Location", "/v1/api-keys/" + std::to_string(issued.key.id));
      return created;
    });
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
  }

  // /v1/api-keys/{id}: read one, or revoke it (DELETE).
  HttpResponse api_keys(const Who& who, const HttpRequest& r, const Target& t) {
    engine.require_administrator(who);
    const auto& s = t.segments;
    if (s.size() != 3) throw HttpError{404, "no_route", "no route for " + t.path};
    const Id id = parse_id(s[2]);
    const security::ApiKeyStore keys;
    if (r.method == "GET")
      return json_response(
          200, api_key_json(db.read([&](store::UnitOfWork& uow) { return keys.get(uow, id); })));
    if (r.method != "DELETE") throw not_allowed(r.method, "GET, DELETE");
    return write(who, r, t, [&](store::UnitOfWork& uow) {
      return json_response(200, api_key_json(keys.revoke(uow, id)));
    });
  }

  // A definition as the single-definition routes answer it: with how many records of its
  // type hold no value for it, and the latest backfill this process ran of it. `progress`
  // is read before the unit of work begins, so that a backfill it calls done has committed
  // before the count's snapshot (read inside, the count could predate what it reports).
  json definition_answer(store::UnitOfWork& uow, const Who& who, const CustomFieldDefinition& d,
                         const std::optional<BackfillJobs::Progress>& progress) {
    json out = definition_json(d);
    out["records_without_value"] = engine.count_without_value(uow, who, d);
    if (progress) out["backfill"] = backfill_json(*progress);
    return out;
  }

  static json backfill_json(const BackfillJobs::Progress& p) {
    json out{{"state", std::string(BackfillJobs::to_string(p.state))},
             {"filled", p.filled},
             {"left", p.left}};
    if (!p.error.empty()) out["error"] = p.error;
    return out;
  }

  // The value a backfill gives, checked against the definition before anything is written.
  static CustomValue backfill_value(const CustomFieldDefinition& d, const json& v) {
    CustomValue value = custom_value_of(v, "backfill");
    if (std::holds_alternative<std::monostate>(value))
      throw ValidationError("backfill: a value is needed", "backfill");
    try {
      store::check_custom_value(d, value);
    } catch (const ValidationError& e) {
      throw ValidationError(std::string("backfill: ") + e.what(), "backfill");
    }
    return value;
  }

  HttpResponse custom_fields(const Who& who, const HttpRequest& r, const Target& t) {
    const auto& s = t.segments;
    const auto registry = db.custom_fields();
    const std::string& m = r.method;
    // Definitions are read with their type's records and changed by its administrators.
    auto administered = [&](store::UnitOfWork& uow, Id id) {
      auto d = registry.get(uow, id);
      engine.require(who, Action::kAdmin, d.object_type);
      return d;
    };
    if (s.size() == 2) {
      if (m == "GET") {
        std::vector<ObjectType> types;
        if (auto wanted = query_value(t, "object_type")) {
          types.push_back(parse_object_type(*wanted));
          engine.require(who, Action::kRead, types.back());
        } else {
          const auto policy = engine.policy();
          for (auto type :
               {ObjectType::kUser, ObjectType::kTeam, ObjectType::kTag, ObjectType::kCompany,
                ObjectType::kContact, ObjectType::kLead, ObjectType::kPipeline, ObjectType::kStage,
                ObjectType::kDeal, ObjectType::kActivity})
            if (policy->scope(who, Action::kRead, type) != security::Scope::kNone)
              types.push_back(type);
        }
        json items = json::array();
        db.read([&](store::UnitOfWork& uow) {
          for (auto type : types)
            for (const auto& d : registry.list(uow, type)) items.push_back(definition_json(d));
        });
        return json_response(200, json{{"items", items}});
      }
      if (m == "POST") {
        json body = body_object(r);
        std::optional<json> backfill;
        if (body.contains("backfill")) {
          backfill = body["backfill"];
          body.erase("backfill");
        }
        CustomFieldDefinition d;
        apply_definition_json(d, body, true);
        engine.require(who, Action::kAdmin, d.object_type);
        std::optional<CustomValue> value;
        Id made_id = 0;
        HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
          const auto made = registry.define(uow, d);
          made_id = made.id;
          if (backfill) value = backfill_value(made, *backfill);
          // A backfill, if any, is queued: it starts once this commits.
          json answer = definition_answer(
              uow, who, made,
              value ? std::optional<BackfillJobs::Progress>(BackfillJobs::Progress{})
                    : std::nullopt);
          HttpResponse created = json_response(201, answer);
          created.headers.emplace_back("Location", "/v1/custom-fields/" + std::to_string(made.id));
          return created;
        });
        if (value) backfills.start(who, made_id, *value, r.remote);
        return out;
      }
      throw not_allowed(m, "GET, POST");
    }
    const Id id = parse_id(s[2]);
    if (s.size() == 3 && m == "GET") {
      const auto progress = backfills.progress(id);
      return json_response(200, db.read([&](store::UnitOfWork& uow) {
        auto d = registry.get(uow, id);
        engine.require(who, Action::kRead, d.object_type);
        return definition_answer(uow, who, d, progress);
      }));
    }
    if (s.size() == 3 && m == "PATCH") {
      const json body = body_object(r);
      const auto expected = if_match(r);
      const auto progress = backfills.progress(id);
      std::optional<ObjectType> now_sensitive;
      HttpResponse out = write(who, r, t, [&](store::UnitOfWork& uow) {
        auto d = administered(uow, id);
        check_version(expected, d.version);
        const bool was_sensitive = d.sensitive;
        apply_definition_json(d, body, false);
        const auto updated = registry.update(uow, d);
        if (updated.sensitive && !was_sensitive) now_sensitive = updated.object_type;
        return json_response(200, definition_answer(uow, who, updated, progress));
      });
      if (now_sensitive && out.status == 200) {
        // The values already stored are sealed now, in batches, and the answer says how many.
        json answer = json::parse(out.body);
        answer["sealed_records"] = db.seal_sensitive_values(*now_sensitive);
        out.body = answer.dump();
      }
      return out;
    }
    if (s.size() == 3 && m == "DELETE") {
      return write(who, r, t, [&](store::UnitOfWork& uow) {
        administered(uow, id);
        registry.remove(uow, id);
        return no_content();
      });
    }
    if (s.size() == 4 && s[3] == "backfill" && m == "POST") {
      const json body = body_object(r);
      only_keys(body, {"value"});
      if (!body.contains("value"))
        throw ValidationError("value: the value to give records without one", "value");
      const auto [d, value] = db.read([&](store::UnitOfWork& uow) {
        auto def = administered(uow, id);
        return std::make_pair(def, backfill_value(def, body["value"]));
      });
      const auto progress = backfills.start(who, d.id, value, r.remote);
      HttpResponse out =
          json_response(202, json{{"field_id", d.id}, {"backfill", backfill_json(progress)}});
      out.headers.emplace_back("Location", "/v1/custom-fields/" + std::to_string(d.id));
      return out;
    }
    if (s.size() == 4 && s[3] == "rename" && m == "POST") {
      const json body = body_object(r);
      only_keys(body, {"name"});
      if (!body.contains("name") || !body["name"].is_string())
        throw ValidationError("name: the new name is required", "name");
      return write(who, r, t, [&](store::UnitOfWork& uow) {
        administered(uow, id);
        return json_response(
            200, definition_json(registry.rename(uow, id, body["name"].get<std::string>())));
      });
    }
    if (s.size() == 4 && s[3] == "type" && m == "POST") {
      const json body = body_object(r);
      only_keys(body, {"type"});
      if (!body.contains("type") || !body["type"].is_string())
        throw ValidationError("type: the new type is required", "type");
      const auto type = parse_custom_field_type(body["type"].get<std::string>());
      return write(who, r, t, [&](store::UnitOfWork& uow) {
        administered(uow, id);
        return json_response(200, definition_json(registry.change_type(uow, id, type)));
      });
    }
    if (s.size() == 3) throw not_allowed(m, "GET, PATCH, DELETE");
    if (s[3] == "rename" || s[3] == "type" || s[3] == "backfill") throw not_allowed(m, "POST");
    throw HttpError{404, "no_route", "no route for " + t.path};
  }

  // ---- admin: dead letters and sagas --------------------------------------------------

  static json dead_letter_json(const messaging::DeadLetter& d) {
    return json{
        {"id", d.id},
        {"queue", d.queue},
        {"event",
         {{"id", d.event.id},
          {"sequence", d.event.sequence},
          {"type", d.event.type},
          {"aggregate_type", std::string(to_string(d.event.aggregate_type))},
          {"aggregate_id", d.event.aggregate_id},
          {"payload", d.event.payload}}},
        {"attempts", d.attempts},
        {"first_failed_at", format_timestamp(d.first_failed_at)},
        {"last_failed_at", format_timestamp(d.last_failed_at)},
        {"last_error", d.last_error},
        {"error_class", messaging::to_string(d.error_class)},
        {"consumer", d.consumer},
        {"dead_at", format_timestamp(d.dead_at)},
        {"replayed_at", d.replayed_at ? json(format_timestamp(*d.replayed_at)) : json(nullptr)},
        {"replays", d.replays}};
  }

  static messaging::DeadLetterFilter dead_letter_filter(
      const std::vector<std::pair<std::string, std::string>>& query) {
    messaging::DeadLetterFilter f;
    for (const auto& [k, v] : query) {
      if (k == "queue")
        f.queue = v;
      else if (k == "type")
        f.event_type = v;
      else if (k == "error")
        f.error_contains = v;
      else if (k == "include_replayed")
        f.include_replayed = v == "true";
      else if (k != "limit" && k != "before")
        throw ValidationError(k + ": not a dead-letter filter", k);
    }
    return f;
  }

  // /v1/admin/dead-letters[/stats|/replay|/{id}[/replay]] and /v1/admin/sagas[/{id}]
  // ---- the audit trail ----------------------------------------------------------------

  static Timestamp time_param(const Target& t, const char* name) {
    const auto v = query_value(t, name);
    const auto at = v ? query_time(*v) : std::nullopt;
    if (!at)
      throw ValidationError(std::string(name) + ": an RFC 3339 time, e.g. 2026-11-29T12:00:00Z",
                            name);
    return *at;
  }

  // ?object_type=&object_id=&actor_id=&from=&to=&after=&limit=
  static store::AuditQuery audit_query(const Target& t) {
    for (const auto& [key, value] : t.query) {
      static const char* const kKnown[] = {"object_type", "object_id", "actor_id", "from",
                                           "to",          "after",     "limit"};
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
        throw ValidationError(key + ": not a filter of the audit trail", key);
    }
    store::AuditQuery q;
    const auto type = query_value(t, "object_type");
    const auto object = query_value(t, "object_id");
    if (type.has_value() != object.has_value())
      throw ValidationError("object_type: object_type and object_id go together", "object_type");
    // Object 0 is no record: the entries of custom role definitions are on user 0.
    if (type)
      q.object = ObjectRef{parse_object_type(*type), *object == "0" ? 0 : parse_id(*object)};
    if (auto v = query_value(t, "actor_id")) q.actor_id = parse_id(*v);
    if (query_value(t, "from")) q.from = time_param(t, "from");
    if (query_value(t, "to")) q.to = time_param(t, "to");
    if (auto v = query_value(t, "after")) q.after = parse_id(*v);
    if (auto v = query_value(t, "limit")) {
      q.limit = std::strtoul(v->c_str(), nullptr, 10);
      if (q.limit < 1 || q.limit > 1000)
        throw ValidationError("limit: a number from 1 to 1000", "limit");
    }
    return q;
  }

  static json audit_entry_json(const store::AuditEntry& e) {
    return {{"id", e.id},
            {"at", format_timestamp(e.at)},
            {"actor_id", e.actor_id ? json(*e.actor_id) : json(nullptr)},
            {"actor", e.actor},
            {"origin", e.origin},
            {"action", e.action},
            {"object_type", std::string(to_string(e.object.type))},
            {"object_id", e.object.id},
            {"changes", json::parse(e.changes, nullptr, false)},
            {"detail", e.detail},
            {"hash", e.hash}};
  }

  static json field_change_json(const store::FieldChange& c) {
    return {{"entry", c.entry},
            {"at", format_timestamp(c.at)},
            {"actor_id", c.actor_id ? json(*c.actor_id) : json(nullptr)},
            {"actor", c.actor},
            {"action", c.action},
            {"field", c.field},
            {"before", json::parse(c.before, nullptr, false)},
            {"after", json::parse(c.after, nullptr, false)}};
  }

  // A refused request, noted in the audit trail in a unit of work of its own (the refused
  // one, if any, rolled back). A database that cannot take it does not change the answer.
  void audit_denial(const Who& who, const HttpRequest& r, const Target& t,
                    const HttpResponse& refusal) {
    ObjectRef object{ObjectType::kUser, 0};
    const auto& s = t.segments;
    if (s.size() >= 2 && s[0] == "v1") {
      if (auto type = type_of_collection(s[1]))
        object = {*type, s.size() >= 3 ? std::strtoull(s[2].c_str(), nullptr, 10) : 0};
    }
    const json problem = json::parse(refusal.body, nullptr, false);
    const std::string* why = problem.is_object() && problem.contains("detail")
                                 ? problem["detail"].get_ptr<const std::string*>()
                                 : nullptr;
    try {
      db.transact(
          [&](store::UnitOfWork& uow) {
            uow.describe_actor(who.name, r.remote);
            db.audit().record_denial(uow, object,
                                     r.method + " " + t.path + ": " + (why != nullptr ? *why : ""));
          },
          who.user_id);
    } catch (const Error& e) {
      log(std::string(R"({"level":"error","event":"audit_denial_lost","error":)") +
          json(std::string(e.what())).dump() + "}");
    }
  }

  static std::optional<ObjectType> type_of_collection(const std::string& name) {
    static const std::pair<const char*, ObjectType> kCollections[] = {
        {"users", ObjectType::kUser},         {"teams", ObjectType::kTeam},
        {"tags", ObjectType::kTag},           {"companies", ObjectType::kCompany},
        {"contacts", ObjectType::kContact},   {"leads", ObjectType::kLead},
        {"pipelines", ObjectType::kPipeline}, {"stages", ObjectType::kStage},
        {"deals", ObjectType::kDeal},         {"activities", ObjectType::kActivity}};
    for (const auto& [collection, type] : kCollections)
      if (name == collection) return type;
    return std::nullopt;
  }

  HttpResponse admin(const Who& who, const HttpRequest& r, const Target& t) {
    const auto& s = t.segments;  // ["v1", "admin", what, ...]
    engine.require_administrator(who);
    const std::string& m = r.method;
    auto method = [&](const char* allowed) {
      if (m != allowed) throw not_allowed(m, allowed);
    };
    if (s.size() >= 3 && s[2] == "dead-letters") {
      messaging::DeadLetterStore dlq(db, saga::replay_guard());
      if (s.size() == 3) {
        method("GET");
        std::size_t limit = 50;
        std::optional<std::uint64_t> before;
        if (auto v = query_value(t, "limit")) {
          limit = std::strtoul(v->c_str(), nullptr, 10);
          if (limit < 1 || limit > 200)
            throw ValidationError("limit: a number from 1 to 200", "limit");
        }
        if (auto v = query_value(t, "before")) before = parse_id(*v);
        json items = json::array();
        const auto page = dlq.list(dead_letter_filter(t.query), limit, before);
        for (const auto& d : page) items.push_back(dead_letter_json(d));
        return json_response(
            200, json{{"items", items},
                      {"next", page.size() == limit ? json(std::to_string(page.back().id))
                                                    : json(nullptr)}});
      }
      if (s.size() == 4 && s[3] == "stats") {
        method("GET");
        json items = json::array();
        for (const auto& q : dlq.stats())
          items.push_back(
              {{"queue", q.queue},
               {"depth", q.depth},
               {"oldest_age_seconds", std::chrono::duration<double>(q.oldest_age).count()}});
        return json_response(200, json{{"items", items}});
      }
      if (s.size() == 4 && s[3] == "replay") {
        method("POST");
        const auto report = dlq.replay(dead_letter_filter(t.query));
        json refused = json::array();
        for (const auto& no : report.refused)
          refused.push_back({{"id", no.id}, {"reason", no.reason}});
        return json_response(200, json{{"replayed", report.replayed}, {"refused", refused}});
      }
      const Id id = parse_id(s[3]);
      if (s.size() == 4 && m == "GET") return json_response(200, dead_letter_json(dlq.get(id)));
      if (s.size() == 4 && m == "DELETE") {
        if (!dlq.purge(id)) throw NotFound("no dead letter with id " + std::to_string(id));
        return no_content();
      }
      if (s.size() == 5 && s[4] == "replay") {
        method("POST");
        dlq.replay(id);
        return json_response(200, json{{"replayed", 1}});
      }
      if (s.size() == 4) throw not_allowed(m, "GET, DELETE");
    }
    if (s.size() >= 3 && s[2] == "audit") {
      method("GET");
      if (s.size() == 4 && s[3] == "verify") {
        const auto v = db.read([&](store::UnitOfWork& uow) { return db.audit().verify(uow); });
        return json_response(
            200, json{{"intact", v.intact},
                      {"entries", v.entries},
                      {"first_bad", v.first_bad == 0 ? json(nullptr) : json(v.first_bad)},
                      {"problem", v.problem}});
      }
      if (s.size() != 3) throw HttpError{404, "no_route", "no route for " + t.path};
      const auto q = audit_query(t);
      const auto page = db.read([&](store::UnitOfWork& uow) { return db.audit().query(uow, q); });
      json items = json::array();
      for (const auto& e : page) items.push_back(audit_entry_json(e));
      return json_response(
          200, json{{"items", items},
                    {"next", page.size() == q.limit ? json(std::to_string(page.back().id))
                                                    : json(nullptr)}});
    }
    if (s.size() >= 3 && s[2] == "sagas") {
      method("GET");
      if (s.size() == 3) {
        json items = json::array();
        for (const auto& st : saga::SagaOrchestrator::stats(db))
          items.push_back(
              {{"saga", st.saga}, {"status", saga::to_string(st.status)}, {"count", st.count}});
        return json_response(200, json{{"items", items}});
      }
      if (s.size() == 4) {
        const auto i = saga::SagaOrchestrator::get(db, parse_id(s[3]));
        json history = json::array();
        for (const auto& h : i.history)
          history.push_back({{"step", h.step},
                             {"what", h.what},
                             {"attempt", h.attempt},
                             {"at", format_timestamp(h.at)},
                             {"error", h.error}});
        return json_response(
            200, json{{"id", i.id},
                      {"saga", i.saga},
                      {"key", i.key},
                      {"subject",
                       {{"type", std::string(to_string(i.subject.type))}, {"id", i.subject.id}}},
                      {"status", saga::to_string(i.status)},
                      {"step", i.step},
                      {"data", i.data},
                      {"history", history},
                      {"error", i.error},
                      {"created_at", format_timestamp(i.created_at)},
                      {"updated_at", format_timestamp(i.updated_at)}});
      }
    }
    throw HttpError{404, "no_route", "no route for " + t.path};
  }

  // The action routes, or nothing when the path is not one.
  std::optional<HttpResponse> action(const Who& who, const HttpRequest& r, const Target& t) {
    const auto& s = t.segments;
    if (s.size() != 4 || s[0] != "v1") return std::nullopt;
    const std::string& base = s[1];
    const std::string& verb = s[3];
    const bool known =
        (base == "leads" && verb == "convert") || verb == "merge" ||
        (base == "deals" && (verb == "stage" || verb == "stage-history" || verb == "reopen"));
    if (!known) return std::nullopt;
    if (verb == "merge" && base != "contacts" && base != "companies" && base != "leads")
      return std::nullopt;
    const bool get = verb == "stage-history";
    if (r.method != (get ? "GET" : "POST")) throw not_allowed(r.method, get ? "GET" : "POST");
    const Id id = parse_id(s[2]);
    if (verb == "convert") return convert_lead(who, r, t, id);
    if (verb == "stage" || verb == "reopen") return move_deal(who, r, t, id, verb == "reopen");
    if (get) return stage_history(who, id);
    if (base == "contacts") return merge(who, engine.contacts(who), r, t, id);
    if (base == "companies") return merge(who, engine.companies(who), r, t, id);
    return merge(who, engine.leads(who), r, t, id);
  }

  HttpResponse route(const HttpRequest& r, const Target& t, Call& call) {
    const auto& s = t.segments;
    const bool health = s.size() == 1 && (s[0] == "healthz" || s[0] == "readyz");
    if (!health) {
      if (auto refused = guard.admit_address(r.remote)) throw too_many(std::move(*refused));
    }
    if (s.size() == 1 && s[0] == "openapi.json") {
      if (r.method != "GET") throw not_allowed(r.method, "GET");
      static const std::string document = openapi_document().dump();
      HttpResponse out;
      out.body = document;
      return out;
    }
    if (s.size() == 1 && (s[0] == "healthz" || s[0] == "readyz")) {
      if (r.method != "GET") throw not_allowed(r.method, "GET");
      if (s[0] == "readyz") {
        // From what the checks last learned (the database's by a probe of its own): this
        // route never waits on the database, so it answers while the database is stalled.
        json problems = json::array();
        for (const auto& check : readiness_checks)
          for (auto& p : check()) problems.push_back(std::move(p));
        if (!problems.empty())
          return json_response(503, json{{"status", "unready"}, {"problems", problems}});
      }
      return json_response(200, json{{"status", "ok"}});
    }
    // The metrics tell a lot about the business (request counts per route, queue depths):
    // a scraper shows the metrics token of the configuration, anyone else must be an
    // administrator.
    if (s.size() == 1 && s[0] == "metrics" && !config.metrics_token.empty() &&
        constant_time_equal(r.header("authorization"), "Bearer " + config.metrics_token)) {
      if (r.method != "GET") throw not_allowed(r.method, "GET");
      return metrics();
    }
    // Everything else, unknown paths included, answers only with valid credentials; an
    // address that keeps failing to give them is refused for a while.
    if (auto refused = guard.admit_authentication(r.remote)) throw too_many(std::move(*refused));
    try {
      call.who = authenticate(r);
    } catch (const HttpError& e) {
      guard.authentication_failed(r.remote, e.code == "unauthenticated");
      throw;
    }
    const Who& who = *call.who;
    auto [refused, headers] = guard.admit(who, route_class(r, t));
    if (refused) throw too_many(std::move(*refused));
    call.headers = std::move(headers);
    if (auto done = action(who, r, t)) return std::move(*done);
    if (s.size() == 1 && s[0] == "metrics") {
      if (r.method != "GET") throw not_allowed(r.method, "GET");
      engine.require_administrator(who);
      return metrics();
    }
    if (s.size() >= 2 && s[0] == "v1") {
      const std::string& base = s[1];
      if (base == "custom-fields" && s.size() <= 4) return custom_fields(who, r, t);
      if (base == "admin") return admin(who, r, t);
      if (base == "roles") return roles(who, r, t);
      if (base == "api-keys") return api_keys(who, r, t);
      if (base == "users" && s.size() >= 4 && (s[3] == "roles" || s[3] == "api-keys"))
        return user_access(who, r, t);
      if (base == "contacts") return resource(who, engine.contacts(who), base, r, t);
      if (base == "companies") return resource(who, engine.companies(who), base, r, t);
      if (base == "leads") return resource(who, engine.leads(who), base, r, t);
      if (base == "deals") return resource(who, engine.deals(who), base, r, t);
      if (base == "pipelines") return resource(who, engine.pipelines(who), base, r, t);
      if (base == "stages") return resource(who, engine.stages(who), base, r, t);
      if (base == "activities") return resource(who, engine.activities(who), base, r, t);
      if (base == "users") return resource(who, engine.users(who), base, r, t);
      if (base == "teams") return resource(who, engine.teams(who), base, r, t);
      if (base == "tags") return resource(who, engine.tags(who), base, r, t);
    }
    throw HttpError{404, "no_route", "no route for " + t.path};
  }

  // One JSON line, written without building a JSON object or calling printf (they were 7%
  // and 2% of a GET); the strings from the client are escaped, invalid UTF-8 replaced.
  void access_log(const HttpRequest& r, const std::string& id, int status, std::size_t bytes,
                  Clock::duration took) {
    if (!config.access_log) return;
    std::string line = "{\"time\":\"";
    line += format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    line += "\",\"request_id\":";
    append_json_string(id, line);
    line += ",\"remote\":";
    append_json_string(r.remote, line);
    line += ",\"method\":";
    append_json_string(r.method, line);
    line += ",\"target\":";
    append_json_string(r.target.substr(0, 512), line);
    line += ",\"status\":" + std::to_string(status) + ",\"bytes\":" + std::to_string(bytes) +
            ",\"duration_ms\":";
    char ms[32];
    line.append(ms, std::to_chars(ms, ms + sizeof ms,
                                  std::chrono::duration<double, std::milli>(took).count(),
                                  std::chars_format::fixed, 3)
                        .ptr);
    line += '}';
    log(line);
  }
};

Api::Api(store::Database& db, const ServerConfig& config, std::function<void(std::string_view)> log,
         const messaging::MessageBus* bus)
    : impl_(std::make_unique<Impl>(db, config, std::move(log), bus)) {}

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
  Impl::Call call;
  Target target;
  try {
    target = parse_target(request.target);
    out = impl_->route(request, target, call);
    if (call.who && out.status < 300 &&
        (request.method == "DELETE" ||
         (target.segments.size() == 4 && target.segments[3] == "archive")))
      impl_->guard.deleted(*call.who);
  } catch (const HttpError& e) {
    out = problem(id, e.status, e.code, e.detail);
    for (const auto& h : e.headers) out.headers.push_back(h);
  } catch (const Error& e) {
    out = problem_of(e, id);
  } catch (const std::exception& e) {
    impl_->log(std::string(R"({"level":"error","request_id":")") + id + R"(","error":)" +
               json(std::string(e.what())).dump(-1, ' ', false, json::error_handler_t::replace) +
               "}");
    out = problem(id, 500, "internal", "the server failed on this request");
  }
  if (out.status == 403 && call.who) {
    impl_->guard.denied(*call.who);
    impl_->audit_denial(*call.who, request, target, out);  // only after routing: the target parsed
  }
  if (call.who) {
    try {
      impl_->engine
          .record_denied_reads();  // reads refused for scope, now that the request's work is over
    } catch (const Error& e) {
      impl_->log(std::string(R"({"level":"error","event":"audit_denial_lost","error":)") +
                 json(std::string(e.what())).dump() + "}");
    }
  }
  for (auto& h : call.headers) out.headers.push_back(std::move(h));
  out.headers.emplace_back("X-Request-Id", id);
  const auto took = Clock::now() - start;
  impl_->requests.record(route_template(request.target.substr(0, request.target.find('?'))),
                         request.method, out.status, took);
  impl_->access_log(request, id, out.status, out.body.size(), took);
  return out;
}

void Api::add_metrics_source(std::function<std::string()> source) {
  impl_->metric_sources.push_back(std::move(source));
}

void Api::add_readiness_check(std::function<std::vector<std::string>()> check) {
  impl_->readiness_checks.push_back(std::move(check));
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
  HttpRequest none;
  impl_->access_log(none, id, status, out.body.size(), Clock::duration{});
  return out;
}

}  // namespace banyan::server
