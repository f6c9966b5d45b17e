#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace banyan::test {

namespace {
// True once `fd` has something to read (or was closed) before `deadline`.
bool readable_before(int fd, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}
}  // namespace

HttpClient::HttpClient(unsigned short port) : port_(port) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpClient::connect() {
  if (fd_ >= 0) ::close(fd_);
  pending_.clear();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port_));
}

bool HttpClient::send(const std::string& bytes) {
  if (fd_ < 0) connect();
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

HttpReply HttpClient::receive(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  HttpReply reply;
  auto fill = [&]() -> bool {
    if (!readable_before(fd_, deadline)) return false;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return reply;
  const std::string head = pending_.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return reply;
  reply.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos && line_end < head.size()) {
    const auto next = head.find("\r\n", line_end + 2);
    const std::string line =
        head.substr(line_end + 2, (next == std::string::npos ? head.size() : next) - line_end - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
    }
    line_end = next;
  }
  const std::size_t length =
      reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
  while (pending_.size() < end + 4 + length)
    if (!fill()) {
      reply.status = 0;
      return reply;
    }
  reply.body = pending_.substr(end + 4, length);
  pending_.erase(0, end + 4 + length);
  return reply;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& body,
                              std::vector<std::pair<std::string, std::string>> headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) connect();
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool typed = false;
    auto lower = [](std::string k) {
      std::transform(k.begin(), k.end(), k.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      return k;
    };
    for (const auto& [k, v] : defaults_) {
      const bool replaced = std::any_of(headers.begin(), headers.end(),
                                        [&](const auto& h) { return lower(h.first) == k; });
      if (!replaced) req += k + ": " + v + "\r\n";
    }
    for (const auto& [k, v] : headers) {
      if (v.empty() && defaults_.count(lower(k)) != 0) continue;  // a default left out
      req += k + ": " + v + "\r\n";
      typed = typed || lower(k) == "content-type";
    }
    if (!body.empty() && !typed) req += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT")
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    if (send(req)) {
      HttpReply r = receive(std::chrono::seconds(30));
      if (r.status != 0) {
        if (r.header("connection") == "close") {
          ::close(fd_);
          fd_ = -1;
        }
        return r;
      }
    }
    ::close(fd_);  // the server closed a kept-alive connection: once more on a new one
    fd_ = -1;
  }
  return {};
}

HttpReply HttpClient::raw(const std::string& bytes, std::chrono::milliseconds wait) {
  connect();
  send(bytes);
  HttpReply r = receive(wait);
  ::close(fd_);
  fd_ = -1;
  return r;
}

bool HttpClient::closed_by_server(std::chrono::milliseconds wait) {
  if (fd_ < 0) return true;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (!readable_before(fd_, deadline)) return false;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

}  // namespace banyan::test
