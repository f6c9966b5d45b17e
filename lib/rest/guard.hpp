// Rate limits and anomaly signals: who is over a limit (429 with Retry-After and
// RateLimit headers), and counters and log events for what looks like abuse: failed
// authentications, bursts of denied access, mass deletion or export by one principal.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banyan/rest/api.hpp"
#include "banyan/security/principal.hpp"
#include "banyan/security/rate_limiter.hpp"

namespace banyan::rest {

// Over a limit: how long to wait and the headers that say so.
struct Refusal {
  std::string detail;
  Headers headers;
};

class Guard {
 public:
  enum class RouteClass { kRead, kWrite, kBulk };

  // Events go to `log` as JSON lines. Thread-safe.
  Guard(const RateLimits& limits, LogSink log);

  // The client address's limit, for every request but the health checks.
  [[nodiscard]] std::optional<Refusal> admit_address(const std::string& remote);
  // Refused while the address has used up its budget of failed authentications.
  [[nodiscard]] std::optional<Refusal> admit_authentication(const std::string& remote);
  // Counts a failure (`missing`: no credential at all) against the address's budget; the
  // failure that uses it up is logged.
  void authentication_failed(const std::string& remote, bool missing);
  // The principal's limit for the class of route: a refusal, or the RateLimit headers to
  // send with the answer.
  [[nodiscard]] std::pair<std::optional<Refusal>, Headers> admit(const security::Principal& who,
                                                                 RouteClass route);

  // What the principal did, for the anomaly signals.
  void denied(const security::Principal& who);
  void deleted(const security::Principal& who);
  // A list past the principal's export allowance that the Engine let through (the
  // principal may export; EngineOptions::on_mass_export): an anomaly.
  void mass_export(const security::Principal& who);

  // Prometheus text of the counters.
  std::string render() const;

 private:
  void anomaly(const char* kind, const security::Principal& who,
               std::atomic<std::uint64_t>& counter);
  Refusal refusal(const char* what, const security::RateLimit& limit,
                  const security::RateDecision& d) const;

  RateLimits limits_;
  LogSink log_;
  security::RateLimiter limiter_;  // the limits
  security::RateLimiter watch_;    // the anomaly thresholds
  security::RateLimiter quiet_;    // at most one log event per principal, kind and minute
  std::atomic<std::uint64_t> auth_missing_{0}, auth_invalid_{0}, auth_throttled_{0};
  std::atomic<std::uint64_t> limited_address_{0}, limited_read_{0}, limited_write_{0},
      limited_bulk_{0};
  std::atomic<std::uint64_t> denied_{0}, denied_bursts_{0}, mass_deletions_{0}, mass_exports_{0};
};

}  // namespace banyan::rest
