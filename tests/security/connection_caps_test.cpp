// Connections are bounded (issue 17, point 5), against banyan-server as a real process.
// Under a lowered open-file limit, hundreds of idle connections cannot starve the health
// route or an authenticated client: past the cap the longest-idle connection makes room.
// Connections that all hold a request in hand are not closed: a newcomer gets 503. The
// per-address cap applies to the address that fills it, not to others.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "server_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

// A bare TCP connection to the server, from `source` (any 127.x address on Linux).
class RawConnection {
 public:
  RawConnection(unsigned short port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return connected_; }
  void send(const std::string& bytes) {
    (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  // What the server sent within `wait` until it closed the connection, and whether it did.
  std::pair<std::string, bool> drain(std::chrono::milliseconds wait) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return {got, true};
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
        return {got, true};  // reset
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
    return {got, false};
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The server with at most 256 open files (so a cap of 128 connections), as the review ran it.
class LowFileLimitTest : public ServerTest {
 protected:
  std::vector<std::string> launcher() const override {
    return {"/bin/sh", "-c", "ulimit -n 256 && exec \"$@\"", "sh"};
  }
};
BANYAN_ON_BOTH_BACKENDS(LowFileLimitTest);

TEST_P(LowFileLimitTest, ThreeHundredIdleConnectionsDoNotStarveHealthOrAnAuthenticatedClient) {
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  std::this_thread::sleep_for(300ms);  // all accepted
  HttpClient fresh(port_);
  EXPECT_EQ(fresh.request("GET", "/healthz").status, 200);
  const auto listed = call("GET", "/v1/contacts");
  EXPECT_EQ(listed.status, 200) << listed.body;
  // The oldest idle ones made room: the first was closed, the last is still open.
  EXPECT_TRUE(idle.front()->drain(1s).second) << "the longest-idle connection was closed";
  EXPECT_FALSE(idle.back()->drain(300ms).second);
  const std::string metrics = call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("banyan_http_connection_cap 128\n"), std::string::npos)
      << "256 files less 128";
  EXPECT_NE(metrics.find("banyan_http_idle_connections_closed_total "), std::string::npos);
  EXPECT_EQ(metrics.find("banyan_http_idle_connections_closed_total 0\n"), std::string::npos);
}

class ConnectionCapsTest : public ServerTest {
 protected:
  std::vector<std::string> server_args() const override {
    return {"--max-connections", "24", "--max-connections-per-address", "12"};
  }
};
BANYAN_ON_BOTH_BACKENDS(ConnectionCapsTest);

TEST_P(ConnectionCapsTest, ConnectionsAllMidRequestAreNotClosedAndANewcomerGets503) {
  client_.reset();  // the fixture's own keep-alive connection would count against the cap
  std::vector<std::unique_ptr<RawConnection>> busy;
  for (int i = 0; i < 12; ++i) {
    busy.push_back(std::make_unique<RawConnection>(port_));
    busy.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // a request, never finished
  }
  std::this_thread::sleep_for(300ms);
  RawConnection newcomer(port_);
  newcomer.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto [answer, closed] = newcomer.drain(1s);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("too many connections from 127.0.0.1"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"code\":\"unavailable\""), std::string::npos) << answer;
  // Another address is under its own cap: served.
  RawConnection elsewhere(port_, "127.0.0.2");
  elsewhere.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto [served, done] = elsewhere.drain(2s);
  EXPECT_EQ(served.rfind("HTTP/1.1 200", 0), 0u) << served;
  // The unfinished requests run out of time (2s here) and the address is served again.
  busy.clear();
  std::this_thread::sleep_for(200ms);
  HttpClient again(port_);
  EXPECT_EQ(again.request("GET", "/healthz").status, 200);
}

TEST_P(ConnectionCapsTest, PastTheAddressCapTheOldestIdleConnectionOfThatAddressMakesRoom) {
  client_.reset();
  RawConnection other_address(port_, "127.0.0.3");  // idle, older than all below
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 12; ++i) {
    idle.push_back(std::make_unique<RawConnection>(port_));
    std::this_thread::sleep_for(10ms);  // in order of age
  }
  HttpClient fresh(port_);
  EXPECT_EQ(fresh.request("GET", "/healthz").status, 200);
  EXPECT_TRUE(idle.front()->drain(1s).second)
      << "the oldest idle connection of 127.0.0.1 made room";
  EXPECT_FALSE(idle[1]->drain(200ms).second);
  EXPECT_FALSE(other_address.drain(200ms).second) << "another address's connection is not touched";
}

}  // namespace
}  // namespace banyan::test
