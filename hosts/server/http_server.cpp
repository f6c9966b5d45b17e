#include <utility>  // Boost 1.74's Asio misses it in C++20 (ARCHITECTURE.md)

#include "http_server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "banyan/errors.hpp"

namespace banyan::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace ssl = asio::ssl;

namespace {

std::int64_t steady_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What the server holds of a connection, plain or TLS.
class SessionBase {
 public:
  explicit SessionBase(std::string address) : address_(std::move(address)) {}
  virtual ~SessionBase() = default;
  const std::string& address() const noexcept { return address_; }
  // Since when it waits for a request (steady µs); 0 while it has one in hand. A
  // connection that has sent nothing yet is idle from the start.
  std::int64_t idle_since() const noexcept { return idle_since_.load(std::memory_order_relaxed); }
  // Picks this connection to be closed to make room: false if another caller did already.
  bool claim_for_closing() noexcept { return !claimed_.exchange(true); }
  bool claimed() const noexcept { return claimed_.load(); }
  virtual void start() = 0;
  // Instead of start(): writes `answer` if it can without waiting (plain HTTP), and closes.
  virtual void refuse(const std::string& answer) = 0;
  // On stop: an idle connection closes now; one with a request in hand finishes it.
  virtual void stop_if_idle() = 0;
  virtual void close_now() = 0;

 protected:
  void set_idle(bool idle) noexcept {
    idle_since_.store(idle ? steady_micros() : 0, std::memory_order_relaxed);
  }

 private:
  const std::string address_;
  std::atomic<std::int64_t> idle_since_{steady_micros()};
  std::atomic<bool> claimed_{false};
};

// The default connection cap: what the open-file limit leaves beside the database pool,
// the bus's sockets and the files the process keeps open.
std::size_t connection_cap_from_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return limit.rlim_cur > 128 + 16 ? static_cast<std::size_t>(limit.rlim_cur) - 128 : 16;
}

// The TLS context: TLS 1.3 (and 1.2 if allowed), the certificate and key from files.
std::unique_ptr<ssl::context> tls_context(const HttpServerOptions::Tls& tls) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                tls.allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  try {
    ctx->use_certificate_chain_file(tls.certificate_file);
    ctx->use_private_key_file(tls.private_key_file, ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw Unavailable("cannot use the TLS certificate " + tls.certificate_file + " and key " +
                      tls.private_key_file + ": " + e.code().message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw Unavailable("the TLS key " + tls.private_key_file + " does not match the certificate " +
                      tls.certificate_file);
  return ctx;
}

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
  std::mutex mutex;  // guards sessions and keep
  std::set<std::shared_ptr<SessionBase>> sessions;
  std::map<std::string, std::size_t> per_address;  // open connections by client address
  std::size_t cap = 0;
  std::atomic<std::uint64_t> idle_closed{0}, refused{0}, past_deadline{0};
  std::unique_ptr<asio::thread_pool> handlers;  // null with handler_threads 0
  std::unique_ptr<ssl::context> tls;            // with HTTPS
  std::string hsts;                             // the Strict-Transport-Security value, or ""

  Impl(HttpServerOptions o, HttpHandler h, HttpRejecter r)
      : options(std::move(o)),
        handler(std::move(h)),
        reject(std::move(r)),
        workers(make_workers(options.threads)),
        control(*workers.front()),
        acceptor(control),
        grace(control) {
    cap = options.max_connections != 0 ? options.max_connections : connection_cap_from_file_limit();
    for (auto& w : workers) keep.push_back(asio::make_work_guard(*w));
    if (options.handler_threads > 0)
      handlers = std::make_unique<asio::thread_pool>(options.handler_threads);
    if (options.tls) {
      tls = tls_context(*options.tls);
      if (options.tls->hsts_max_age.count() > 0)
        hsts =
            "max-age=" + std::to_string(options.tls->hsts_max_age.count()) + "; includeSubDomains";
    }
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_workers(unsigned threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (unsigned i = 0; i < std::max(1u, threads); ++i)
      out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  asio::io_context& pick_worker() { return *workers[next_worker++ % workers.size()]; }

  void accept();
  void start_session(tcp::socket socket);
  // With mutex held: the longest-idle connection (of `address` when given) not yet picked.
  std::shared_ptr<SessionBase> claim_idle(const std::string* address);
  // A whole HTTP/1.1 answer refusing a connection, ready to write.
  std::string refusal(const std::string& why);
  void forget(const std::shared_ptr<SessionBase>& s);
  void finish_if_drained();  // with mutex held
  // The handler's answer, or a 500 for an exception it let out.
  HttpResponse answer(const HttpRequest& in) noexcept;
};

HttpResponse HttpServer::Impl::answer(const HttpRequest& in) noexcept {
  try {
    return handler(in);
  } catch (...) {
    try {
      return reject(500, "the server failed on this request");
    } catch (...) {
      HttpResponse out;
      out.status = 500;
      return out;
    }
  }
}

namespace {

using Impl = HttpServer::Impl;

constexpr bool kPlain = false, kTls = true;

// One connection: (over TLS, the handshake first, within the request deadline) wait for a
// request (idle deadline), read it whole (request deadline, size limits), answer, and
// again while the client keeps the connection alive. All of a session's work runs on its
// worker's one thread.
template <bool Tls>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Tls>> {
  using Stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(tcp::socket socket, std::string address, Impl& server)
      : SessionBase(std::move(address)),
        stream_(make_stream(std::move(socket), server)),
        server_(server),
        deadline_(stream_.get_executor()) {}

  void start() override {
    if constexpr (Tls) {
      tcp_().expires_after(server_.options.request_timeout);
      stream_.async_handshake(
          ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec)
              return self->close();  // not TLS, too old a version, or too slow: nothing to answer
            self->wait_for_request();
          });
    } else {
      wait_for_request();
    }
  }

  void refuse(const std::string& answer) override {
    if constexpr (!Tls) {
      boost::system::error_code ec;
      tcp_().socket().non_blocking(true, ec);
      if (!ec) tcp_().socket().write_some(asio::buffer(answer), ec);
    }
    close();
  }

  void stop_if_idle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) self->close();
    });
  }
  void close_now() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

 private:
  static Stream make_stream(tcp::socket socket, Impl& server) {
    if constexpr (Tls)
      return Stream(std::move(socket), *server.tls);
    else
      return Stream(std::move(socket));
  }
  beast::tcp_stream& tcp_() { return beast::get_lowest_layer(stream_); }

  void wait_for_request() {
    busy_ = false;
    set_idle(true);
    if (server_.stopping.load()) return close();
    if (buffer_.size() > 0) return read_request();  // the next request is already here
    tcp_().expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    busy_ = true;
    set_idle(false);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    tcp_().expires_after(server_.options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == ssl::error::stream_truncated)
      return close();  // gone, or too slow: the stream closed the socket already
    if (ec) {
      int status = 400;
      std::string reason = "the request is not valid HTTP/1.1: " + ec.message();
      if (ec == http::error::body_limit) {
        status = 413;
        reason =
            "the body is larger than " + std::to_string(server_.options.max_body_bytes) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        reason = "the headers are larger than " + std::to_string(server_.options.max_header_bytes) +
                 " bytes";
      }
      return respond(server_.reject(status, reason), false);
    }
    const auto& req = parser_->get();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    in.remote = address();
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      in.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    in.body = std::move(parser_->get().body());
    in.deadline = std::chrono::steady_clock::now() + server_.options.handler_timeout;
    const bool keep_alive = req.keep_alive() && req.version() == 11;
    if (!server_.handlers || (server_.options.inline_route && server_.options.inline_route(in)))
      return respond(server_.answer(in), keep_alive);
    hand_off(std::move(in), keep_alive);
  }

  // To the handler pool; whichever comes first, its answer or the deadline, is sent.
  void hand_off(HttpRequest in, bool keep_alive) {
    answered_ = false;
    deadline_.expires_at(in.deadline);
    deadline_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->answered_) return;
      self->answered_ = true;
      self->server_.past_deadline.fetch_add(1);
      HttpResponse out = self->server_.reject(
          503, "the server could not answer within " +
                   std::to_string(self->server_.options.handler_timeout.count()) +
                   " ms (the database or another dependency is slow or unavailable); work not "
                   "committed by then "
                   "is rolled back");
      out.headers.emplace_back("Retry-After", "1");
      self->respond(std::move(out), false);
    });
    asio::post(*server_.handlers, [self = this->shared_from_this(), in = std::move(in),
                                   keep_alive] {
      HttpResponse out = self->server_.answer(in);
      asio::post(self->stream_.get_executor(), [self, out = std::move(out), keep_alive]() mutable {
        if (self->answered_) return;  // the deadline answered first
        self->answered_ = true;
        self->deadline_.cancel();
        self->respond(std::move(out), keep_alive);
      });
    });
  }

  void respond(HttpResponse out, bool keep_alive) {
    keep_alive = keep_alive && !server_.stopping.load();
    response_.emplace(static_cast<http::status>(out.status), 11);
    auto& res = *response_;
    res.set(http::field::server, "banyan");
    if (!out.body.empty() || (out.status != 204 && out.status != 304))
      res.set(http::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res.set(name, value);
    if (Tls && !server_.hsts.empty()) res.set(http::field::strict_transport_security, server_.hsts);
    res.keep_alive(keep_alive);
    res.body() = std::move(out.body);
    res.prepare_payload();
    tcp_().expires_after(server_.options.request_timeout);
    http::async_write(
        stream_, res,
        [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
          self->response_.reset();
          if (ec || !keep_alive) return self->close();
          self->wait_for_request();
        });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    // Over TLS, without close_notify: every answer carries its length, so a client
    // loses nothing, and a connection being dropped is not kept waiting on its peer.
    tcp_().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp_().close();
    server_.forget(this->shared_from_this());
  }

  Stream stream_;
  Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  asio::steady_timer deadline_;
  bool answered_ = false;
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

// Past a cap, the longest-idle connection makes room (an idle keep-alive, or one that has
// sent nothing): a client with a request in hand is served before one that only holds a
// socket. Only when none is idle is the new connection refused.
void HttpServer::Impl::start_session(tcp::socket socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  std::string address = ec ? std::string() : peer.address().to_string();
  std::shared_ptr<SessionBase> s;
  if (tls)
    s = std::make_shared<Session<kTls>>(std::move(socket), address, *this);
  else
    s = std::make_shared<Session<kPlain>>(std::move(socket), address, *this);
  std::shared_ptr<SessionBase> victim;
  std::string full;
  {
    std::lock_guard<std::mutex> lock(mutex);
    std::size_t& from_address = per_address[address];
    const bool address_full = from_address >= options.max_connections_per_address;
    if (address_full || sessions.size() >= cap) {
      victim = claim_idle(address_full ? &address : nullptr);
      if (!victim) {
        full = address_full ? "too many connections from " + address : "too many connections";
        if (from_address == 0) per_address.erase(address);
      }
    }
    if (full.empty()) {
      sessions.insert(s);
      ++from_address;
    }
  }
  if (!full.empty()) {
    refused.fetch_add(1);
    s->refuse(refusal(full));
    return;
  }
  if (victim) {
    idle_closed.fetch_add(1);
    victim->close_now();
  }
  s->start();
}

std::shared_ptr<SessionBase> HttpServer::Impl::claim_idle(const std::string* address) {
  std::shared_ptr<SessionBase> oldest;
  std::int64_t oldest_since = 0;
  for (const auto& s : sessions) {
    const std::int64_t since = s->idle_since();
    if (since == 0 || s->claimed() || (address != nullptr && s->address() != *address)) continue;
    if (!oldest || since < oldest_since) {
      oldest = s;
      oldest_since = since;
    }
  }
  // Picked at most once: two arrivals must not count one closing connection twice.
  if (oldest && !oldest->claim_for_closing()) return nullptr;
  return oldest;
}

std::string HttpServer::Impl::refusal(const std::string& why) {
  const HttpResponse r = reject(503, why);
  std::string out =
      "HTTP/1.1 503 Service Unavailable\r\nServer: banyan\r\nContent-Type: " + r.content_type +
      "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  out += "Retry-After: 1\r\nConnection: close\r\nContent-Length: " + std::to_string(r.body.size()) +
         "\r\n\r\n";
  return out + r.body;
}

void HttpServer::Impl::forget(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard<std::mutex> lock(mutex);
  if (sessions.erase(s) > 0) {
    const auto it = per_address.find(s->address());
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
  }
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
    if (impl_->options.reuse_port)
      a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    a.bind(at);
    a.listen(asio::socket_base::max_listen_connections);
    a.non_blocking(true);
  } catch (const boost::system::system_error& e) {
    throw Unavailable("cannot listen on " + impl_->options.host + ":" +
                      std::to_string(impl_->options.port) + ": " + e.code().message());
  }
}

HttpServer::~HttpServer() = default;

HttpServer::ConnectionStats HttpServer::connection_stats() const {
  ConnectionStats out;
  out.cap = impl_->cap;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    out.open = impl_->sessions.size();
  }
  out.idle_closed = impl_->idle_closed.load();
  out.refused = impl_->refused.load();
  out.past_deadline = impl_->past_deadline.load();
  return out;
}

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
  // Handlers still at work (answered 503 at their deadline) finish before run() returns,
  // so nothing they use goes away under them.
  if (impl_->handlers) impl_->handlers->join();
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  auto impl = impl_;
  asio::post(impl->control, [impl, grace] {
    if (impl->stopping.exchange(true)) return;
    beast::error_code ec;
    impl->acceptor.close(ec);
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(impl->mutex);
      live.assign(impl->sessions.begin(), impl->sessions.end());
      impl->finish_if_drained();
    }
    for (auto& s : live) s->stop_if_idle();
    if (live.empty()) return;
    impl->grace.expires_after(grace);
    impl->grace.async_wait([impl](beast::error_code) {
      std::vector<std::shared_ptr<SessionBase>> rest;
      {
        std::lock_guard<std::mutex> lock(impl->mutex);
        rest.assign(impl->sessions.begin(), impl->sessions.end());
      }
      for (auto& s : rest) s->close_now();
    });
  });
}

}  // namespace banyan::server
