#include "banyan/security/rate_limiter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "banyan/errors.hpp"
#include "security/string_hash.hpp"

namespace banyan::security {

void RateLimit::validate() const {
  if (!(rate > 0) || !std::isfinite(rate))
    throw ValidationError("rate: must be a positive number", "rate");
  if (period.count() <= 0) throw ValidationError("period: must be positive", "period");
  if (!(burst >= 1) || !std::isfinite(burst))
    throw ValidationError("burst: must be at least 1", "burst");
}

namespace {

using Nanos = std::chrono::nanoseconds;
constexpr std::size_t kShards = 16;

struct Shard {
  mutable std::mutex mutex;
  // key -> theoretical arrival time (GCRA's TAT) in nanoseconds of the steady clock.
  std::unordered_map<std::string, std::int64_t, detail::StringHash, std::equal_to<>>
      tat;  // guarded by mutex
};

std::chrono::milliseconds ceil_ms(std::int64_t nanos) {
  return std::chrono::milliseconds(nanos <= 0 ? 0 : (nanos + 999'999) / 1'000'000);
}

// GCRA: each event advances the key's TAT by the emission interval T; an event at `now`
// is allowed while TAT - now <= tau = T * (burst - 1), i.e. the burst is not used up.
// `cost` events count as one of `cost` times the interval.
RateDecision decide(std::int64_t tat, std::int64_t now, const RateLimit& limit,
                    std::int64_t* new_tat, double cost = 1) {
  const double interval = static_cast<double>(Nanos(limit.period).count()) / limit.rate;
  const auto t = static_cast<std::int64_t>(interval);
  const auto tau = static_cast<std::int64_t>(interval * (limit.burst - 1));
  const std::int64_t start = std::max(tat, now);
  const std::int64_t next = start + static_cast<std::int64_t>(interval * std::max(cost, 0.0));
  RateDecision d;
  if (next - now > tau + t) {
    d.allowed = false;
    d.retry_after = ceil_ms(next - now - tau - t);
    d.reset = ceil_ms(start - now);
    d.remaining = 0;
    *new_tat = tat;
    return d;
  }
  *new_tat = next;
  d.reset = ceil_ms(next - now);
  const std::int64_t room = tau + t - (next - now);
  d.remaining = t > 0 ? static_cast<std::size_t>(room / t) : 0;
  return d;
}

}  // namespace

struct RateLimiter::Impl {
  std::size_t max_keys;
  std::array<Shard, kShards> shards;

  explicit Impl(std::size_t max) : max_keys(std::max<std::size_t>(max, kShards)) {}

  Shard& shard_of(std::string_view key) {
    return shards[std::hash<std::string_view>{}(key) % kShards];
  }
  const Shard& shard_of(std::string_view key) const {
    return shards[std::hash<std::string_view>{}(key) % kShards];
  }
};

RateLimiter::RateLimiter(std::size_t max_keys) : impl_(std::make_unique<Impl>(max_keys)) {}
RateLimiter::~RateLimiter() = default;

RateDecision RateLimiter::take(std::string_view key, const RateLimit& limit, Clock::time_point now,
                               double cost) {
  const std::int64_t at = Nanos(now.time_since_epoch()).count();
  Shard& s = impl_->shard_of(key);
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.tat.find(key);
  const std::int64_t tat = it == s.tat.end() ? at : it->second;
  std::int64_t next = tat;
  const RateDecision d = decide(tat, at, limit, &next, cost);
  if (!d.allowed) return d;
  if (it != s.tat.end()) {
    it->second = next;
    return d;
  }
  if (s.tat.size() >= impl_->max_keys / kShards) {
    // Forget the keys already back at a full burst (their TAT has passed); if that frees
    // nothing, forget them all.
    std::erase_if(s.tat, [&](const auto& entry) { return entry.second <= at; });
    if (s.tat.size() >= impl_->max_keys / kShards) s.tat.clear();
  }
  s.tat.emplace(std::string(key), next);
  return d;
}

RateDecision RateLimiter::peek(std::string_view key, const RateLimit& limit,
                               Clock::time_point now) const {
  const std::int64_t at = Nanos(now.time_since_epoch()).count();
  const Shard& s = impl_->shard_of(key);
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.tat.find(key);
  std::int64_t next = 0;
  return decide(it == s.tat.end() ? at : it->second, at, limit, &next);
}

std::size_t RateLimiter::tracked_keys() const {
  std::size_t n = 0;
  for (const auto& s : impl_->shards) {
    std::lock_guard<std::mutex> lock(s.mutex);
    n += s.tat.size();
  }
  return n;
}

}  // namespace banyan::security
