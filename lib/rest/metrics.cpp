#include "metrics.hpp"

#include <cstdio>
#include <vector>

namespace banyan::rest {

void RequestMetrics::record(const std::string& route, const std::string& method, int status,
                            std::chrono::nanoseconds took) {
  const double seconds = std::chrono::duration<double>(took).count();
  // Methods come from clients: only the known ones get a series of their own.
  static constexpr const char* kMethods[] = {"GET",    "POST", "PATCH",  "PUT",
                                             "DELETE", "HEAD", "OPTIONS"};
  std::string m = "other";
  for (const char* k : kMethods)
    if (method == k) m = k;
  std::lock_guard<std::mutex> lock(mutex_);
  ++counts_[{route, m, status}];
  Latency& l = latency_[route];
  std::size_t b = 0;
  while (b < kBounds.size() && seconds > kBounds[b]) ++b;
  ++l.buckets[b];
  ++l.count;
  l.sum += seconds;
}

std::string RequestMetrics::render() const {
  std::string out;
  char line[512];
  std::lock_guard<std::mutex> lock(mutex_);
  out += "# HELP banyan_http_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE banyan_http_requests_total counter\n";
  for (const auto& [key, n] : counts_) {
    const auto& [route, method, status] = key;
    std::snprintf(line, sizeof line,
                  "banyan_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                  route.c_str(), method.c_str(), status, static_cast<unsigned long long>(n));
    out += line;
  }
  out +=
      "# HELP banyan_http_request_duration_seconds Time from a whole request to its response, by "
      "route.\n";
  out += "# TYPE banyan_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBounds.size(); ++b) {
      cumulative += l.buckets[b];
      if (b < kBounds.size()) {
        std::snprintf(line, sizeof line,
                      "banyan_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      route.c_str(), kBounds[b], static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(
            line, sizeof line,
            "banyan_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
            route.c_str(), static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "banyan_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route.c_str(),
                  l.sum);
    out += line;
    std::snprintf(line, sizeof line,
                  "banyan_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route.c_str(),
                  static_cast<unsigned long long>(l.count));
    out += line;
  }
  return out;
}

}  // namespace banyan::rest
