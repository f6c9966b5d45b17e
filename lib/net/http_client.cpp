#include "net/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <cstring>

#include "banyan/errors.hpp"

namespace banyan::net::detail {
namespace {

// Transport failures are the remote side's unavailability; a URL we cannot use is the caller's.
using TransientError = Unavailable;
using PermanentError = ValidationError;

struct Url {
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw PermanentError("not an http:// URL: " + url);
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty() || u.port.empty()) throw PermanentError("no host in URL: " + url);
  return u;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on the socket until the deadline.
void wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, const std::string& what) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0) throw TransientError(what + ": timed out");
    const int rc = ::poll(&p, 1, ms);
    if (rc > 0) return;
    if (rc < 0 && errno != EINTR) throw TransientError(what + ": " + std::strerror(errno));
  }
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The body of a "Transfer-Encoding: chunked" message: hex size, CRLF, data, CRLF, ..., 0.
std::string dechunk(std::string_view in, const std::string& where) {
  std::string out;
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) throw TransientError(where + ": truncated chunked body");
    std::size_t size = 0;
    const auto [end, ec] = std::from_chars(in.data(), in.data() + eol, size, 16);
    if (ec != std::errc() || end == in.data() || size > in.size()) throw TransientError(where + ": malformed chunk");
    if (size == 0) return out;
    in.remove_prefix(eol + 2);
    if (in.size() < size + 2) throw TransientError(where + ": truncated chunked body");
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::steady_clock::time_point deadline, std::size_t max_response_bytes) {
  const Url u = parse_url(url);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found) != 0 || found == nullptr)
    throw TransientError("cannot resolve " + u.host);
  Socket s(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, found->ai_protocol));
  const int rc = s.fd() < 0 ? -1 : ::connect(s.fd(), found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  const std::string where = method + " " + url;
  if (s.fd() < 0 || (rc != 0 && errno != EINPROGRESS)) throw TransientError(where + ": cannot connect");
  wait_for(s.fd(), POLLOUT, deadline, where);
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) throw TransientError(where + ": " + std::strerror(err));

  std::string request = method + " " + u.target + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port +
                        "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  for (std::size_t sent = 0; sent < request.size();) {
    wait_for(s.fd(), POLLOUT, deadline, where);
    const ssize_t n = ::send(s.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw TransientError(where + ": " + std::strerror(errno));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[4096];
  for (;;) {
    wait_for(s.fd(), POLLIN, deadline, where);
    const ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw TransientError(where + ": " + std::strerror(errno));
    if (n > 0) response.append(buf, static_cast<std::size_t>(n));
    if (response.size() > max_response_bytes + 16384) throw TransientError(where + ": the response is too large");
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) throw TransientError(where + ": not an HTTP response");
  HttpResponse out;
  out.status = std::atoi(response.c_str() + 9);
  const auto header_end = response.find("\r\n\r\n");
  if (out.status < 100 || header_end == std::string::npos) throw TransientError(where + ": malformed HTTP response");
  const std::string head = lowercase(response.substr(0, header_end));
  out.body = head.find("\r\ntransfer-encoding: chunked") != std::string::npos
                 ? dechunk(std::string_view(response).substr(header_end + 4), where)
                 : response.substr(header_end + 4);
  if (out.body.size() > max_response_bytes) throw TransientError(where + ": the response is too large");
  return out;
}

}  // namespace banyan::net::detail
