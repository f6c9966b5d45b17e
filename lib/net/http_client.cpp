#include "net/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "banyan/errors.hpp"

namespace banyan::net::detail {
namespace {

// Transport failures are the remote side's unavailability; a URL we cannot use is the caller's.
using TransientError = Unavailable;
using PermanentError = ValidationError;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  Url u;
  u.tls = url.rfind("https://", 0) == 0;
  const std::string scheme = u.tls ? "https://" : "http://";
  if (url.rfind(scheme, 0) != 0) throw PermanentError("not an http:// or https:// URL: " + url);
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  u.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : authority.substr(colon + 1);
  if (u.host.empty() || u.port.empty()) throw PermanentError("no host in URL: " + url);
  return u;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
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
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on the socket until the deadline.
void wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline,
              const std::string& what) {
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
    if (ec != std::errc() || end == in.data() || size > in.size())
      throw TransientError(where + ": malformed chunk");
    if (size == 0) return out;
    in.remove_prefix(eol + 2);
    if (in.size() < size + 2) throw TransientError(where + ": truncated chunked body");
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

// The bytes of one connection, plain or TLS (OpenSSL on the non-blocking socket, the
// server's certificate checked against the trust store and the host name), every wait
// bounded by the deadline.
class Channel {
 public:
  Channel(int fd, const Url& u, std::chrono::steady_clock::time_point deadline, std::string where)
      : fd_(fd), deadline_(deadline), where_(std::move(where)) {
    if (!u.tls) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) throw TransientError(where_ + ": cannot set up TLS");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(ctx_) != 1)
      throw TransientError(where_ + ": no trusted certificates");
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1)
      throw TransientError(where_ + ": cannot set up TLS");
    // The name the certificate must carry: a DNS name, or an IP address literal.
    if (SSL_set1_host(ssl_, u.host.c_str()) != 1)
      throw PermanentError(where_ + ": bad host name " + u.host);
    // (SNI; SSL_set_tlsext_host_name is a macro with a C cast.)
    if (u.host.find_first_not_of("0123456789.") != std::string::npos)
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(u.host.c_str()));
    tls_io([&] { return SSL_connect(ssl_); }, "the TLS handshake");
  }
  ~Channel() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void send_all(const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
      if (ssl_ != nullptr) {
        sent += static_cast<std::size_t>(tls_io(
            [&] {
              return SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
            },
            "sending"));
        continue;
      }
      wait_for(fd_, POLLOUT, deadline_, where_);
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        throw TransientError(where_ + ": " + std::strerror(errno));
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
  }
  // Up to `size` bytes; 0 at the end of the stream.
  std::size_t receive(char* buf, std::size_t size) {
    if (ssl_ != nullptr)
      return static_cast<std::size_t>(
          tls_io([&] { return SSL_read(ssl_, buf, static_cast<int>(size)); }, "receiving"));
    for (;;) {
      wait_for(fd_, POLLIN, deadline_, where_);
      const ssize_t n = ::recv(fd_, buf, size, 0);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EAGAIN && errno != EINTR)
        throw TransientError(where_ + ": " + std::strerror(errno));
    }
  }

 private:
  // Runs an OpenSSL call until it is done, waiting on the socket as it asks; returns its
  // result (0 for a clean end of the stream on reads).
  template <typename Call>
  int tls_io(Call call, const char* what) {
    for (;;) {
      ERR_clear_error();
      const int rc = call();
      if (rc > 0) return rc;
      switch (SSL_get_error(ssl_, rc)) {
        case SSL_ERROR_WANT_READ:
          wait_for(fd_, POLLIN, deadline_, where_);
          break;
        case SSL_ERROR_WANT_WRITE:
          wait_for(fd_, POLLOUT, deadline_, where_);
          break;
        case SSL_ERROR_ZERO_RETURN:
          return 0;
        default: {
          const long verify = SSL_get_verify_result(ssl_);
          if (verify != X509_V_OK)
            throw TransientError(where_ + ": the server's certificate is not trusted (" +
                                 X509_verify_cert_error_string(verify) + ")");
          char reason[256] = "connection closed";
          if (const unsigned long e = ERR_get_error(); e != 0)
            ERR_error_string_n(e, reason, sizeof reason);
          throw TransientError(where_ + ": " + what + " failed: " + reason);
        }
      }
    }
  }

  int fd_;
  std::chrono::steady_clock::time_point deadline_;
  std::string where_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace

std::string origin_of(const std::string& url) {
  Url u = parse_url(url);
  for (auto& c : u.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (u.tls ? "https://" : "http://") + u.host + ":" + u.port;
}

bool is_loopback_url(const std::string& url) {
  const std::string host = parse_url(url).host;
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

HttpResponse http_request(const std::string& method, const std::string& url,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::steady_clock::time_point deadline,
                          std::size_t max_response_bytes) {
  const Url u = parse_url(url);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found) != 0 || found == nullptr)
    throw TransientError("cannot resolve " + u.host);
  Socket s(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    found->ai_protocol));
  const int rc = s.fd() < 0 ? -1 : ::connect(s.fd(), found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  const std::string where = method + " " + url;
  if (s.fd() < 0 || (rc != 0 && errno != EINPROGRESS))
    throw TransientError(where + ": cannot connect");
  wait_for(s.fd(), POLLOUT, deadline, where);
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) throw TransientError(where + ": " + std::strerror(err));

  std::string request = method + " " + u.target + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  bool typed = false;  // JSON unless the caller says otherwise
  for (const auto& [name, value] : headers) {
    typed = typed || lowercase(name) == "content-type";
    request.append(name).append(": ").append(value).append("\r\n");
  }
  if (!typed) request += "Content-Type: application/json\r\n";
  request += "\r\n" + body;
  Channel channel(s.fd(), u, deadline, where);
  channel.send_all(request);
  std::string response;
  char buf[4096];
  for (;;) {
    const std::size_t n = channel.receive(buf, sizeof buf);
    if (n == 0) break;
    response.append(buf, n);
    if (response.size() > max_response_bytes + 16384)
      throw TransientError(where + ": the response is too large");
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
    throw TransientError(where + ": not an HTTP response");
  HttpResponse out;
  out.status = std::atoi(response.c_str() + 9);
  const auto header_end = response.find("\r\n\r\n");
  if (out.status < 100 || header_end == std::string::npos)
    throw TransientError(where + ": malformed HTTP response");
  const std::string head = lowercase(response.substr(0, header_end));
  out.body = head.find("\r\ntransfer-encoding: chunked") != std::string::npos
                 ? dechunk(std::string_view(response).substr(header_end + 4), where)
                 : response.substr(header_end + 4);
  if (out.body.size() > max_response_bytes)
    throw TransientError(where + ": the response is too large");
  return out;
}

}  // namespace banyan::net::detail
