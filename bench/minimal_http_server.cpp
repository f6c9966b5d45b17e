// The limit for ./scripts/bench.sh http: the least an HTTP/1.1 server on Boost.Beast can
// do per request on this machine. It answers every request with one fixed JSON body,
// keep-alive, on N threads with an io_context each, connections dealt round robin (as
// banyan-server does).
//
//   minimal_http_server HOST PORT THREADS [--reuse-port]
#include <sys/socket.h>

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// About the size of a contact as banyan-server returns it.
const std::string kBody =
    R"({"id":4242,"version":1,"owner_id":null,"team_id":null,"external_id":null,)"
    R"("created_at":"2026-11-29T10:42:57.000000Z","created_by":null,"updated_at":"2026-11-29T10:42:57.000000Z",)"
    R"("updated_by":null,"archived_at":null,"custom":{},"first_name":"Ada","last_name":"Lovelace",)"
    R"("email":"ada@example.com","phone":null,"title":null,"merged_into":null})";

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}
  void read() {
    request_ = {};
    http::async_read(socket_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       self->respond();
                     });
  }

 private:
  void respond() {
    auto response =
        std::make_shared<http::response<http::string_body>>(http::status::ok, request_.version());
    response->set(http::field::content_type, "application/json");
    response->keep_alive(request_.keep_alive());
    response->body() = kBody;
    response->prepare_payload();
    http::async_write(socket_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
                        if (ec || !response->keep_alive()) return;
                        self->read();
                      });
  }

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
};

void accept(tcp::acceptor& acceptor, std::vector<std::unique_ptr<asio::io_context>>& workers,
            std::size_t next) {
  asio::io_context& worker = *workers[next % workers.size()];
  acceptor.async_accept(worker,
                        [&acceptor, &workers, next](beast::error_code ec, tcp::socket socket) {
                          if (!ec) std::make_shared<Session>(std::move(socket))->read();
                          accept(acceptor, workers, next + 1);
                        });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s HOST PORT THREADS [--reuse-port]\n", argv[0]);
    return 2;
  }
  const bool reuse_port = argc > 4 && std::string(argv[4]) == "--reuse-port";
  const int threads = std::max(1, std::atoi(argv[3]));
  std::vector<std::unique_ptr<asio::io_context>> workers;
  for (int i = 0; i < threads; ++i) workers.push_back(std::make_unique<asio::io_context>(1));
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  for (auto& w : workers) keep.push_back(asio::make_work_guard(*w));
  const tcp::endpoint endpoint(asio::ip::make_address(argv[1]),
                               static_cast<unsigned short>(std::atoi(argv[2])));
  tcp::acceptor acceptor(*workers.front());
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  if (reuse_port) {
    const int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("listening on %s:%u\n", argv[1], acceptor.local_endpoint().port());
  std::fflush(stdout);
  accept(acceptor, workers, 0);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&workers, i] { workers[i]->run(); });
  workers.front()->run();
  for (auto& t : pool) t.join();
}
