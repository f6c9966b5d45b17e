#include "billing_stub.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace banyan::test {

BillingStub::BillingStub() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0)
    throw std::runtime_error("the billing stub cannot listen");
  socklen_t len = sizeof addr;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { serve(); });
}

BillingStub::~BillingStub() {
  stopping_.store(true);
  acceptor_.join();
  std::vector<std::thread> handlers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers.swap(handlers_);
  }
  for (auto& t : handlers) t.join();
  ::close(listener_);
}

std::string BillingStub::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/customers";
}

std::set<std::string> BillingStub::customers() {
  std::lock_guard<std::mutex> lock(mutex_);
  return customers_;
}

void BillingStub::serve() {
  while (!stopping_.load()) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.emplace_back([this, fd] { handle(fd); });
  }
}

void BillingStub::handle(int fd) {
  // Read the head and the body the Content-Length announces.
  std::string in;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      const auto cl = in.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end) length = std::stoul(in.substr(cl + 16));
      if (in.size() >= head_end + 4 + length) break;
    }
    pollfd p{fd, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline || ::poll(&p, 1, 50) < 0) break;
    if (p.revents == 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  // Read before the counts, so a test that saw a request counted knows which mode it met.
  const Mode mode = mode_.load();
  const bool is_post = in.rfind("POST ", 0) == 0;
  const bool is_delete = in.rfind("DELETE ", 0) == 0;
  std::string key;
  if (is_post) {
    posts_.fetch_add(1);
    const auto k = in.find("Idempotency-Key: ");
    if (k != std::string::npos) key = in.substr(k + 17, in.find("\r\n", k) - k - 17);
  } else if (is_delete) {
    deletes_.fetch_add(1);
    const auto start = in.find("/customers/") + 11;
    key = in.substr(start, in.find(' ', start) - start);
  }
  if (mode == Mode::kSilentOk) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (is_post) customers_.insert(key);
    if (is_delete) customers_.erase(key);
  }
  if (mode == Mode::kHang || mode == Mode::kSilentOk) {
    for (int i = 0; i < 600 && !stopping_.load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::close(fd);
    return;
  }
  int status = 200;
  std::string body = "{}";
  if (mode == Mode::kFail) {
    status = 500;
    body = R"({"error":"billing is down"})";
  } else if (mode == Mode::kRefuse) {
    status = 422;
    body = R"({"error":"unknown currency"})";
  } else if (is_post) {
    std::lock_guard<std::mutex> lock(mutex_);
    customers_.insert(key);  // the same key twice is one customer (idempotency)
    body = "{\"id\":\"cus-" + key + "\"}";
  } else if (is_delete) {
    std::lock_guard<std::mutex> lock(mutex_);
    status = customers_.erase(key) == 1 ? 200 : 404;
  }
  const std::string out = "HTTP/1.1 " + std::to_string(status) +
                          " X\r\nContent-Type: application/json\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  ::close(fd);
}

}  // namespace banyan::test
