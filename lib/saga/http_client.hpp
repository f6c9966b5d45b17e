// A minimal HTTP/1.1 client for sagas' remote steps: one request per connection, plain
// HTTP, every wait bounded by the step's deadline.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace banyan::saga::detail {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Sends `method url` with `body` (JSON) and `headers`. Throws messaging::TransientError
// when the server cannot be reached, does not answer by `deadline`, or answers garbage;
// messaging::PermanentError for a URL it cannot use.
HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::steady_clock::time_point deadline);

}  // namespace banyan::saga::detail
