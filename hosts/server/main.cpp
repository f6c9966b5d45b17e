// banyan-server: the REST API as a process. The composition root: settings, the
// database, the in-process message bus, the API, the HTTP server, and a clean stop on
// SIGTERM or SIGINT (stop accepting, finish what is in flight, exit 0).
#include <signal.h>
#include <sys/resource.h>

#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "audit_anchor.hpp"
#include "banyan/banyan.hpp"
#include "banyan/rest/api.hpp"
#include "command_line.hpp"
#include "config.hpp"
#include "database_probe.hpp"
#include "demo_data.hpp"
#include "host_log.hpp"
#include "http_server.hpp"
#include "key_ring_watcher.hpp"

namespace {

using namespace banyan;

int serve(server::ServerConfig config) {
  // Only the signal thread below sees the stop signals: block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // not a stop: reread the key ring
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Connections are capped by what the open-file limit allows: take all the operator allows.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // Every line the process writes is one JSON object on stdout, the access log included.
  host::HostLog log("banyan-server", config.log_level, std::cout);
  store::DatabaseOptions options;
  options.log = log.sink();
  // A connection for each thread that may hold one: handlers (or, without a handler
  // pool, the I/O threads), the relay, the probes.
  const std::size_t workers =
      config.http.handler_threads > 0 ? config.http.handler_threads : config.http.threads;
  options.pool.max_size = std::max<std::size_t>(options.pool.max_size, workers + 4);
  auto db = store::Database::open(config.database, options);
  if (config.demo) {
    Engine engine(*db);
    demo::load(engine, security::Principal::system());
  }
  // The relay and the sagas that ship with Banyan run in-process, as banyan-worker's do.
  std::unique_ptr<messaging::MessageBus> bus;
  std::unique_ptr<saga::SagaOrchestrator> sagas;
  if (config.messaging) {
    messaging::BusOptions bus_options;
    bus_options.log = log.sink();
    if (!config.bus_key_file.empty())
      bus_options.curve = messaging::CurveKeys::load_file(config.bus_key_file);
    bus_options.retention = config.sagas.retention;
    bus = std::make_unique<messaging::MessageBus>(*db, std::move(bus_options));
    sagas = std::make_unique<saga::SagaOrchestrator>(*db, *bus);
    host::define_builtin_sagas(*sagas, config.sagas);
    bus->start();
  }
  // The server's own jobs (the audit anchor) act as the system principal.
  Engine engine(*db);
  std::unique_ptr<server::AuditAnchorWriter> anchor;
  if (!config.audit_anchor.empty()) {
    anchor = std::make_unique<server::AuditAnchorWriter>(
        engine, config.audit_anchor, config.audit_checkpoint_interval, log.sink());
  }
  rest::Api api(*db, config.api_options(), log.sink(), bus.get());
  server::KeyRingWatcher keys(*db, config.key_check_interval, log.sink());
  api.add_readiness_check([&] { return keys.problems(); });
  server::DatabaseProbe probe(*db, std::chrono::seconds(1), std::chrono::seconds(2), log.sink());
  api.add_readiness_check([&] { return probe.problems(); });
  config.http.inline_route = &rest::Api::answers_without_waiting;
  server::HttpServer server(
      config.http, [&](const server::HttpRequest& r) { return api.handle(r); },
      [&](int status, const std::string& reason) { return api.reject(status, reason); });
  api.add_metrics_source([&] {
    const auto c = server.connection_stats();
    return "# HELP banyan_http_connections Connections open now.\n# TYPE banyan_http_connections "
           "gauge\n"
           "banyan_http_connections " +
           std::to_string(c.open) +
           "\n# HELP banyan_http_connection_cap The cap on open connections.\n"
           "# TYPE banyan_http_connection_cap gauge\nbanyan_http_connection_cap " +
           std::to_string(c.cap) +
           "\n# HELP banyan_http_idle_connections_closed_total Idle connections closed to make "
           "room under a cap.\n"
           "# TYPE banyan_http_idle_connections_closed_total "
           "counter\nbanyan_http_idle_connections_closed_total " +
           std::to_string(c.idle_closed) +
           "\n# HELP banyan_http_connections_refused_total Connections refused (503) at a cap with "
           "none idle.\n"
           "# TYPE banyan_http_connections_refused_total "
           "counter\nbanyan_http_connections_refused_total " +
           std::to_string(c.refused) + "\n";
  });
  const std::string url = std::string(config.http.tls ? "https://" : "http://") + config.http.host +
                          ":" + std::to_string(server.port());
  log.write(LogEvent(LogLevel::kInfo, "listening")
                .with("message", "banyan-server: listening on " + url + " (" +
                                     std::to_string(config.http.threads) + " threads, " +
                                     std::string(db->backend()) + ")")
                .with("url", url));
  log.flush();
  std::thread signals([&] {
    int sig = 0;
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) keys.check_now();
    log.say(LogLevel::kInfo, "stopping", "banyan-server: stopping");
    log.flush();
    server.stop(config.shutdown_grace);
  });
  server.run();
  // run() also returns if the server stops on its own; wake the signal thread then.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  if (bus) bus->stop();
  anchor.reset();  // the last checkpoint, after the last write
  log.say(LogLevel::kInfo, "stopped", "banyan-server: stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  const server::ServerCommandLine line(app);
  return host::run_program(app, argc, argv,
                           [&] { return serve(line.config(host::process_environment())); });
}
