#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

namespace banyan::test {
namespace {

sockaddr_in loopback(const std::string& host, unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    throw std::runtime_error("TcpProxy: not an IPv4 address: " + host);
  return a;
}

// Writes all of it (blocking); false when the peer is gone.
bool send_all(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::string host, unsigned short port) : host_(std::move(host)), target_(port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a = loopback("127.0.0.1", 0);
  socklen_t len = sizeof a;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener_, 128) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("TcpProxy: cannot listen");
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

void TcpProxy::run() {
  struct Pair {
    int client, server;
  };
  std::vector<Pair> pairs;
  std::vector<char> buffer(1 << 16);
  while (!stop_) {
    const bool stalled = stalled_;
    std::vector<pollfd> fds;
    if (!stalled) {
      // Stalled, the kernel still completes the handshakes of new clients into the
      // listen backlog, as it would for a stopped database process.
      fds.push_back({listener_, POLLIN, 0});
      for (const auto& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.server, POLLIN, 0});
      }
    }
    ::poll(fds.data(), fds.size(), 50);
    if (stalled || fds.empty()) continue;
    if (fds[0].revents & POLLIN) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client >= 0) {
        const int server = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = loopback(host_, target_);
        if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          pairs.push_back({client, server});
        } else {
          ::close(server);
          ::close(client);
        }
      }
    }
    std::vector<Pair> live;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& p = pairs[i];
      bool open = true;
      for (const auto& [from, to, at] :
           {std::tuple{p.client, p.server, 1 + 2 * i}, std::tuple{p.server, p.client, 2 + 2 * i}}) {
        if (!open || !(fds[at].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
        open = n > 0 && send_all(to, buffer.data(), n);
      }
      if (open) {
        live.push_back(p);
      } else {
        ::close(p.client);
        ::close(p.server);
      }
    }
    pairs = std::move(live);
  }
  for (const auto& p : pairs) {
    ::close(p.client);
    ::close(p.server);
  }
}

}  // namespace banyan::test
