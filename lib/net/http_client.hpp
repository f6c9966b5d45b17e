// A minimal HTTP/1.1 client for the library's few outbound calls (sagas' remote steps, an
// OIDC issuer's discovery document and keys): one request per connection, plain HTTP or
// HTTPS (TLS 1.2 or later, the certificate checked against the trust store and the host),
// every wait bounded by a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace banyan::net::detail {

struct HttpResponse {
  int status = 0;
  std::string body;  // de-chunked
};

// Sends `method url` with `body` (JSON) and `headers`. Throws Unavailable when the server
// cannot be reached, does not answer by `deadline`, answers garbage or more than
// `max_response_bytes`, or (https) its certificate is not trusted for the host (the
// system's trust store, which OpenSSL's SSL_CERT_FILE and SSL_CERT_DIR can point
// elsewhere: a private CA); ValidationError for a URL it cannot use (not http:// or
// https://).
HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::steady_clock::time_point deadline,
                          std::size_t max_response_bytes = std::size_t{1} << 20);

// The origin of an http:// or https:// URL as "scheme://host:port" (the port always
// written, the host lower-cased), so two URLs share an origin exactly when their origins
// are equal strings. Throws ValidationError for a URL it cannot use.
std::string origin_of(const std::string& url);

// True when the URL's host is a loopback address (127.0.0.0/8, ::1 or localhost).
bool is_loopback_url(const std::string& url);

}  // namespace banyan::net::detail
