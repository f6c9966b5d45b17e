#include <utility>  // Boost 1.74's Asio misses it in C++20 (ARCHITECTURE.md)

#include "http_server.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "banyan/errors.hpp"

namespace banyan::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session;

}  // namespace

// One io_context per thread, each run by its own thread, and each connection on one of
// them: a connection's work then never runs on two threads at once with no strand to
// hop through, and the threads do not wake each other through a shared queue (the
// strands and the shared scheduler's locking and wake-ups were about 10% of a GET).
struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  HttpRejecter reject;
  std::vector<std::unique_ptr<asio::io_context>> workers;
  // Keep the workers running while they have no connection; released once stopping
  // has closed them all.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  std::size_t next_worker = 0;  // round robin, on the first worker
  // The acceptor, the grace timer and stop() work on the first worker's thread.
  asio::io_context& control;
  tcp::acceptor acceptor;
  asio::steady_timer grace;
  std::atomic<bool> stopping{false};
  std::mutex mutex;                          // guards sessions and keep
  std::set<std::shared_ptr<Session>> sessions;

  Impl(HttpServerOptions o, HttpHandler h, HttpRejecter r)
      : options(std::move(o)), handler(std::move(h)), reject(std::move(r)), workers(make_workers(options.threads)),
        control(*workers.front()), acceptor(control), grace(control) {
    for (auto& w : workers) keep.push_back(asio::make_work_guard(*w));
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_workers(unsigned threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (unsigned i = 0; i < std::max(1u, threads); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  asio::io_context& pick_worker() { return *workers[next_worker++ % workers.size()]; }

  void accept();
  void start_session(tcp::socket socket);
  void forget(const std::shared_ptr<Session>& s);
  void finish_if_drained();  // with mutex held
};

namespace {

using Impl = HttpServer::Impl;

// One connection: wait for a request (idle deadline), read it whole (request deadline,
// size limits), answer, and again while the client keeps the connection alive. All of
// a session's work runs on its worker's one thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& server) : stream_(std::move(socket)), server_(server) {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
  }

  void start() { wait_for_request(); }

  // On stop: an idle connection closes now; one with a request in hand finishes it.
  void stop_if_idle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }
  void close_now() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  void wait_for_request() {
    busy_ = false;
    if (server_.stopping.load()) return close();
    if (buffer_.size() > 0) return read_request();  // the next request is already here
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_request();
    });
  }

  void read_request() {
    busy_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.request_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
      return close();  // gone, or too slow: the stream closed the socket already
    if (ec) {
      int status = 400;
      std::string reason = "the request is not valid HTTP/1.1: " + ec.message();
      if (ec == http::error::body_limit) {
        status = 413;
        reason = "the body is larger than " + std::to_string(server_.options.max_body_bytes) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        reason = "the headers are larger than " + std::to_string(server_.options.max_header_bytes) + " bytes";
      }
      return respond(server_.reject(status, reason), false);
    }
    const auto& req = parser_->get();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.remote = remote_;
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      in.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    in.body = std::move(parser_->get().body());
    const bool keep_alive = req.keep_alive() && req.version() == 11;
    HttpResponse out;
    try {
      out = server_.handler(in);
    } catch (...) {
      out = server_.reject(500, "the server failed on this request");
    }
    respond(std::move(out), keep_alive);
  }

  void respond(HttpResponse out, bool keep_alive) {
    keep_alive = keep_alive && !server_.stopping.load();
    response_.emplace(static_cast<http::status>(out.status), 11);
    auto& res = *response_;
    res.set(http::field::server, "banyan");
    if (!out.body.empty() || out.status != 204) res.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = std::move(out.body);
    res.prepare_payload();
    stream_.expires_after(server_.options.request_timeout);
    http::async_write(stream_, res, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      self->response_.reset();
      if (ec || !keep_alive) return self->close();
      self->wait_for_request();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    server_.forget(shared_from_this());
  }

  beast::tcp_stream stream_;
  Impl& server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  bool busy_ = false;
  bool closed_ = false;
};

}  // namespace

// Each completion accepts what else is waiting too (up to 256 at once): the completion
// queues behind every request handler that is ready, so one connection per trip through
// that queue would leave a burst of new clients waiting seconds under load.
void HttpServer::Impl::accept() {
  acceptor.async_accept(pick_worker(), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;  // stopped
    if (!ec) {
      start_session(std::move(socket));
      for (int more = 0; more < 256; ++more) {
        tcp::socket next(pick_worker());
        beast::error_code again;
        acceptor.accept(next, again);  // non-blocking: would_block once the backlog is empty
        if (again) break;
        start_session(std::move(next));
      }
    } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      // Out of file descriptors: keep serving those we have; try again shortly.
      auto retry = std::make_shared<asio::steady_timer>(control, std::chrono::milliseconds(50));
      retry->async_wait([this, retry](beast::error_code) { accept(); });
      return;
    }
    accept();
  });
}

void HttpServer::Impl::start_session(tcp::socket socket) {
  auto s = std::make_shared<Session>(std::move(socket), *this);
  {
    std::lock_guard<std::mutex> lock(mutex);
    sessions.insert(s);
  }
  s->start();
}

void HttpServer::Impl::forget(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(mutex);
  sessions.erase(s);
  finish_if_drained();
}

// Once stopping has closed every connection: no grace period is needed any more, and
// each worker's run() may return once it has nothing left to do.
void HttpServer::Impl::finish_if_drained() {
  if (!stopping.load() || !sessions.empty()) return;
  asio::post(control, [this] { grace.cancel(); });
  for (auto& k : keep) k.reset();
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, HttpRejecter reject)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(handler), std::move(reject))) {
  auto& a = impl_->acceptor;
  try {
    const tcp::endpoint at(asio::ip::make_address(impl_->options.host), impl_->options.port);
    a.open(at.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    if (impl_->options.reuse_port) a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    a.bind(at);
    a.listen(asio::socket_base::max_listen_connections);
    a.non_blocking(true);
  } catch (const boost::system::system_error& e) {
    throw Unavailable("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                      ": " + e.code().message());
  }
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const noexcept {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::run() {
  asio::post(impl_->control, [impl = impl_] { impl->accept(); });
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->workers.size(); ++i)
    threads.emplace_back([this, i] { impl_->workers[i]->run(); });
  impl_->control.run();
  for (auto& t : threads) t.join();
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  auto impl = impl_;
  asio::post(impl->control, [impl, grace] {
    if (impl->stopping.exchange(true)) return;
    beast::error_code ec;
    impl->acceptor.close(ec);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(impl->mutex);
      live.assign(impl->sessions.begin(), impl->sessions.end());
      impl->finish_if_drained();
    }
    for (auto& s : live) s->stop_if_idle();
    if (live.empty()) return;
    impl->grace.expires_after(grace);
    impl->grace.async_wait([impl](beast::error_code) {
      std::vector<std::shared_ptr<Session>> rest;
      {
        std::lock_guard<std::mutex> lock(impl->mutex);
        rest.assign(impl->sessions.begin(), impl->sessions.end());
      }
      for (auto& s : rest) s->close_now();
    });
  });
}

}  // namespace banyan::server
