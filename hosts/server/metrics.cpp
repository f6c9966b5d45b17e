#include "metrics.hpp"

#include <cstdio>
#include <vector>

namespace banyan::server {

void RequestMetrics::record(const std::string& route, const std::string& method, int status,
                            std::chrono::nanoseconds took) {
  const double seconds = std::chrono::duration<double>(took).count();
  // Methods come from clients: only the known ones get a series of their own.
  static const char* const kMethods[] = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"};
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
    std::snprintf(line, sizeof line, "banyan_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                  route.c_str(), method.c_str(), status, static_cast<unsigned long long>(n));
    out += line;
  }
  out += "# HELP banyan_http_request_duration_seconds Time from a whole request to its response, by route.\n";
  out += "# TYPE banyan_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBounds.size(); ++b) {
      cumulative += l.buckets[b];
      if (b < kBounds.size()) {
        std::snprintf(line, sizeof line, "banyan_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      route.c_str(), kBounds[b], static_cast<unsigned long long>(cumulative));
      } else {
        std::snprintf(line, sizeof line, "banyan_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                      route.c_str(), static_cast<unsigned long long>(cumulative));
      }
      out += line;
    }
    std::snprintf(line, sizeof line, "banyan_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route.c_str(), l.sum);
    out += line;
    std::snprintf(line, sizeof line, "banyan_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route.c_str(),
                  static_cast<unsigned long long>(l.count));
    out += line;
  }
  return out;
}

std::string route_template(const std::string& path) {
  static const char* const kResources[] = {"contacts", "companies", "leads",      "deals", "pipelines",
                                           "stages",   "activities", "users",     "teams", "tags"};
  std::vector<std::string> s;
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto end = std::min(path.find('/', at), path.size());
    if (end > at) s.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  if (s.size() == 1 && (s[0] == "healthz" || s[0] == "readyz" || s[0] == "metrics")) return "/" + s[0];
  if (s.size() >= 2 && s.size() <= 4 && s[0] == "v1") {
    bool known = false;
    for (const char* r : kResources) known = known || s[1] == r;
    if (!known) return "other";
    std::string t = "/v1/" + s[1];
    if (s.size() == 3 && (s[2] == "batch" || s[2] == "upsert")) return t + "/" + s[2];
    if (s.size() >= 3) t += "/{id}";
    if (s.size() == 4) {
      if (s[3] != "archive" && s[3] != "restore" && s[3] != "convert" && s[3] != "merge" && s[3] != "stage" &&
          s[3] != "stage-history")
        return "other";
      t += "/" + s[3];
    }
    return t;
  }
  return "other";
}

}  // namespace banyan::server
