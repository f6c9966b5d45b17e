// A small HTTP/1.1 client over a real loopback socket, for end-to-end tests: keep-alive
// requests, and raw bytes for malformed input.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace banyan::test {

struct HttpReply {
  int status = 0;  // 0: the connection closed (or timed out) without an answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A header every request() sends (e.g. Authorization) unless it names the same header
  // itself; naming it with an empty value leaves it out. `name` in lower case.
  void set_default_header(const std::string& name, const std::string& value) {
    defaults_[name] = value;
  }

  // Sends one request on the kept-alive connection (reconnecting if the server closed
  // it). A body is sent as application/json unless a content-type header is given.
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {});
  // Sends raw bytes on a fresh connection and reads one answer (status 0 if none).
  HttpReply raw(const std::string& bytes,
                std::chrono::milliseconds wait = std::chrono::seconds(10));
  // True when the server closes this connection within `wait` (after `bytes`, if any).
  bool closed_by_server(std::chrono::milliseconds wait);
  // Writes bytes on the current connection without reading.
  bool send(const std::string& bytes);
  // Reads one answer on the current connection (status 0 if none within `wait`).
  HttpReply receive(std::chrono::milliseconds wait);

 private:
  void connect();

  unsigned short port_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last reply
  std::map<std::string, std::string> defaults_;
};

}  // namespace banyan::test
