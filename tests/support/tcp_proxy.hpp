// A TCP proxy on loopback in front of a real server, for fault tests: it forwards bytes
// both ways until told to stall, then forwards nothing and accepts no one (every
// connection stays open, as with a paused database or a host that drops packets) until
// told to flow again.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace banyan::test {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards each connection to host:port.
  TcpProxy(std::string host, unsigned short port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  unsigned short port() const noexcept { return port_; }
  void stall(bool on) noexcept { stalled_ = on; }

 private:
  void run();

  std::string host_;
  unsigned short target_;
  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stalled_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace banyan::test
