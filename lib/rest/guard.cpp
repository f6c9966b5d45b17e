#include "guard.hpp"

#include <cmath>
#include <cstdio>

#include "banyan/errors.hpp"
#include "record_json.hpp"

namespace banyan::rest {
namespace {

using security::RateLimit;
using namespace std::chrono_literals;

// Past these, one principal's activity is an anomaly (signalled, never refused).
const RateLimit kDeniedBurst{20, 1min, 20};     // denied requests
const RateLimit kMassDeletion{100, 1min, 100};  // records deleted or archived
const RateLimit kOncePerMinute{1, 1min, 1};

std::string principal_key(const security::Principal& who) {
  return who.user_id ? std::to_string(*who.user_id) : who.name;
}

long long seconds_up(std::chrono::milliseconds ms) { return (ms.count() + 999) / 1000; }

}  // namespace

Guard::Guard(const RateLimits& limits, LogSink log) : limits_(limits), log_(std::move(log)) {}

Refusal Guard::refusal(const char* what, const RateLimit& limit,
                       const security::RateDecision& d) const {
  Refusal r;
  r.detail = std::string("too many requests: the ") + what + " limit is " +
             std::to_string(std::llround(limit.rate)) + " per " +
             std::to_string(limit.period.count()) + " ms; retry after " +
             std::to_string(seconds_up(d.retry_after)) + " s";
  r.headers.emplace_back("Retry-After", std::to_string(std::max(1LL, seconds_up(d.retry_after))));
  r.headers.emplace_back("RateLimit",
                         "limit=" + std::to_string(std::llround(limit.burst)) +
                             ", remaining=0, reset=" + std::to_string(seconds_up(d.reset)));
  return r;
}

std::optional<Refusal> Guard::admit_address(const std::string& remote) {
  if (!limits_.address) return std::nullopt;
  const auto d = limiter_.take("a:" + remote, *limits_.address);
  if (d.allowed) return std::nullopt;
  limited_address_.fetch_add(1);
  return refusal("client address", *limits_.address, d);
}

std::optional<Refusal> Guard::admit_authentication(const std::string& remote) {
  if (!limits_.auth_failures) return std::nullopt;
  const auto d = limiter_.peek("f:" + remote, *limits_.auth_failures);
  if (d.allowed) return std::nullopt;
  auth_throttled_.fetch_add(1);
  return refusal("failed authentication", *limits_.auth_failures, d);
}

void Guard::authentication_failed(const std::string& remote, bool missing) {
  (missing ? auth_missing_ : auth_invalid_).fetch_add(1);
  if (!limits_.auth_failures) return;
  const auto d = limiter_.take("f:" + remote, *limits_.auth_failures);
  if (d.allowed && d.remaining > 0) return;
  if (quiet_.take("log:f:" + remote, kOncePerMinute).allowed) {
    if (log_)
      log_(LogEvent(LogLevel::kWarning, "authentication_failures")
               .with("remote", remote)
               .with("detail",
                     "this address used up its failed-authentication budget and is refused "
                     "until it recovers"));
  }
}

std::pair<std::optional<Refusal>, Headers> Guard::admit(const security::Principal& who,
                                                        RouteClass route) {
  const auto& limit = route == RouteClass::kRead    ? limits_.reads
                      : route == RouteClass::kWrite ? limits_.writes
                                                    : limits_.bulk;
  if (!limit) return {std::nullopt, {}};
  const char* name = route == RouteClass::kRead    ? "reads"
                     : route == RouteClass::kWrite ? "writes"
                                                   : "bulk";
  const auto d = limiter_.take(std::string("p:") + name + ":" + principal_key(who), *limit);
  if (!d.allowed) {
    (route == RouteClass::kRead    ? limited_read_
     : route == RouteClass::kWrite ? limited_write_
                                   : limited_bulk_)
        .fetch_add(1);
    return {refusal(name, *limit, d), {}};
  }
  Headers h;
  h.emplace_back("RateLimit", "limit=" + std::to_string(std::llround(limit->burst)) +
                                  ", remaining=" + std::to_string(d.remaining) +
                                  ", reset=" + std::to_string(seconds_up(d.reset)));
  h.emplace_back(
      "RateLimit-Policy",
      std::to_string(std::llround(limit->burst)) + ";w=" +
          std::to_string(seconds_up(std::chrono::duration_cast<std::chrono::milliseconds>(
              limit->period * (limit->burst / limit->rate)))));
  return {std::nullopt, std::move(h)};
}

void Guard::anomaly(const char* kind, const security::Principal& who,
                    std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1);
  if (!quiet_.take(std::string("log:") + kind + ":" + principal_key(who), kOncePerMinute).allowed)
    return;
  if (!log_) return;
  LogEvent event(LogLevel::kWarning, kind);
  event.with("principal", who.name);
  if (who.user_id) event.with("user_id", static_cast<std::int64_t>(*who.user_id));
  log_(event);
}

void Guard::denied(const security::Principal& who) {
  denied_.fetch_add(1);
  if (!watch_.take("d:" + principal_key(who), kDeniedBurst).allowed)
    anomaly("denied_burst", who, denied_bursts_);
}

void Guard::deleted(const security::Principal& who) {
  if (!watch_.take("x:" + principal_key(who), kMassDeletion).allowed)
    anomaly("mass_deletion", who, mass_deletions_);
}

void Guard::mass_export(const security::Principal& who) {
  anomaly("mass_export", who, mass_exports_);
}

std::string Guard::render() const {
  std::string out;
  auto series = [&](const char* name, const char* help,
                    std::initializer_list<std::pair<const char*, std::uint64_t>> rows) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (const auto& [labels, value] : rows)
      out += std::string(name) + labels + " " + std::to_string(value) + "\n";
  };
  series("banyan_auth_failures_total", "Requests refused for missing or invalid credentials.",
         {{"{reason=\"missing\"}", auth_missing_.load()},
          {"{reason=\"invalid\"}", auth_invalid_.load()}});
  series("banyan_auth_throttled_total",
         "Requests refused because their address failed authentication too often.",
         {{"", auth_throttled_.load()}});
  series("banyan_rate_limited_total", "Requests refused with 429, by limit.",
         {{"{limit=\"address\"}", limited_address_.load()},
          {"{limit=\"reads\"}", limited_read_.load()},
          {"{limit=\"writes\"}", limited_write_.load()},
          {"{limit=\"bulk\"}", limited_bulk_.load()}});
  series("banyan_access_denied_total", "Requests refused with 403.", {{"", denied_.load()}});
  series("banyan_anomalies_total",
         "Principals past an anomaly threshold (each also logged, at most once a minute).",
         {{"{kind=\"denied_burst\"}", denied_bursts_.load()},
          {"{kind=\"mass_deletion\"}", mass_deletions_.load()},
          {"{kind=\"mass_export\"}", mass_exports_.load()}});
  return out;
}

}  // namespace banyan::rest
