// An asynchronous HTTP/1.1 server on Boost.Beast: keep-alive, a pool of threads, limits
// on header and body size, a deadline for each request and for idle connections, and a
// graceful stop. It knows nothing of Banyan's domain: it hands each whole request (a
// rest::HttpRequest) to a handler.
// (Beast stays inside http_server.cpp.)
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "banyan/rest/api.hpp"

namespace banyan::server {

using rest::Headers;
using rest::HttpRequest;
using rest::HttpResponse;

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Builds the answer to a request the server refused before the handler saw it (too
// large, malformed, too slow): status and a short reason.
using HttpRejecter = std::function<HttpResponse(int status, const std::string& reason)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  unsigned threads = 1;
  bool reuse_port = false;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{
      10000};  // reading a request, once it starts; writing an answer
  std::chrono::milliseconds handler_timeout{
      10000};  // answering a request read whole (see handler_threads)
  std::chrono::milliseconds idle_timeout{60000};  // a kept-alive connection between requests
  // Open connections at most, in total (0: the process's open-file limit less 128, kept
  // for the database, the bus and files) and from one client address. A connection past
  // either cap closes the longest-idle connection (of that address, for its cap) to make
  // room; with none idle, it is answered 503 and closed.
  std::size_t max_connections = 0;
  std::size_t max_connections_per_address = 256;
  // Handlers run on a pool of their own, never on the threads that do the I/O, so a
  // handler blocked on a stalled database holds up neither the other connections nor the
  // requests `inline_route` picks, which the I/O threads answer themselves (they must not
  // block: the health check). A request whose handler has not answered by its deadline
  // is answered 503 with Retry-After and its connection closed; the handler's answer,
  // when it comes, is dropped. 0: handlers run on the I/O threads, with no deadline.
  unsigned handler_threads = 16;
  std::function<bool(const HttpRequest&)> inline_route;
  // Set: HTTPS only. TLS 1.3 unless 1.2 is allowed too; nothing older, ever. Every answer
  // then carries Strict-Transport-Security unless hsts_max_age is zero.
  struct Tls {
    std::string certificate_file;  // PEM, the chain from the server's certificate up
    std::string private_key_file;  // PEM
    bool allow_tls12 = false;
    std::chrono::seconds hsts_max_age{31536000};  // a year
  };
  std::optional<Tls> tls;
};

class HttpServer {
 public:
  // Binds at once (Unavailable if it cannot); serves once run() is called.
  HttpServer(HttpServerOptions options, HttpHandler handler, HttpRejecter reject);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  unsigned short port() const noexcept;
  // The cap in force (max_connections, or what the file limit gave), the connections open,
  // and counters since start: idle connections closed to make room, connections refused.
  struct ConnectionStats {
    std::size_t cap = 0;
    std::size_t open = 0;
    std::uint64_t idle_closed = 0;
    std::uint64_t refused = 0;
    std::uint64_t past_deadline = 0;  // requests answered 503 at their deadline
  };
  ConnectionStats connection_stats() const;
  // Serves on the calling thread and options.threads - 1 more; returns after stop().
  void run();
  // Graceful: stops accepting, lets requests in flight finish (their responses say
  // "Connection: close"), closes idle connections; after `grace`, closes the rest.
  // Safe from any thread, and from a signal-handling thread.
  void stop(std::chrono::milliseconds grace);

  struct Impl;  // http_server.cpp's

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace banyan::server
