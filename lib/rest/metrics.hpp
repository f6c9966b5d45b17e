// Request counts and latency histograms per route, in Prometheus' text format together
// with what the library reports (pool, outbox lag, dead-letter depth).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace banyan::rest {

class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (then +Inf).
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  // `route` is the route's template ("/v1/contacts/{id}"), never the raw path, so the
  // number of series stays bounded.
  void record(const std::string& route, const std::string& method, int status,
              std::chrono::nanoseconds took);
  // The request series as Prometheus text.
  std::string render() const;

 private:
  struct Latency {
    std::array<std::uint64_t, kBounds.size() + 1> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> counts_;  // guarded by mutex_
  std::map<std::string, Latency> latency_;                                     // guarded by mutex_
};

}  // namespace banyan::rest
