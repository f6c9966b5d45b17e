#include "worker.hpp"

#include <banyan/errors.hpp>
#include <banyan/saga/saga.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>

#include "host_log.hpp"

namespace banyan::worker {

namespace {

const std::vector<host::Setting>& worker_settings() {
  static const std::vector<host::Setting> kSettings = {
      host::kDatabaseSetting,
      {"node", "NAME", "This worker's name in leases and logs (host and process id)"},
      {"work_endpoint", "EP",
       "Where the relay serves consumers: tcp://HOST:PORT (port * for any) or ipc://PATH "
       "(a socket file this host's processes reach)"},
      {"publish_endpoint", "EP", "Where the relay publishes to subscribers, like --work-endpoint"},
      {"advertise_host", "HOST", "The host other processes reach a tcp:// relay at"},
      host::kBusKeyFileSetting,
      host::kLogLevelSetting,
      {"relay_lease", "DURATION", "How long the relay lease lasts without renewal"},
  };
  return kSettings;
}

}  // namespace

WorkerCommandLine::WorkerCommandLine(CLI::App& app, const std::string& name) {
  host::describe_program(app, name);
  app.description("Runs the relay, the consumers and the sagas of one database.");
  flags_.add(app, worker_settings());
  flags_.add(app, host::MessagingSettings::settings());
  app.add_flag("--no-relay", no_relay_, "Consume only; never hold the relay lease");
}

WorkerConfig WorkerCommandLine::config(const host::Getenv& getenv) const {
  WorkerConfig c;
  c.database_url = host::default_database_url();
  flags_.apply(getenv,
               [&](const std::string& key, const std::string& value, const std::string& name) {
                 if (key == "database")
                   c.database_url = value;
                 else if (key == "node")
                   c.bus.node = value;
                 else if (key == "work_endpoint")
                   c.bus.work_endpoint = value;
                 else if (key == "publish_endpoint")
                   c.bus.publish_endpoint = value;
                 else if (key == "advertise_host")
                   c.bus.advertise_host = value;
                 else if (key == "bus_key_file")
                   c.bus.curve = messaging::CurveKeys::load_file(value);
                 else if (key == "log_level")
                   c.log_level = host::parse_log_level(value, name);
                 else if (key == "relay_lease")
                   c.bus.relay_lease = host::parse_millis(value, name);
                 else
                   c.messaging.apply(key, value, name);
               });
  if (no_relay_) c.bus.relay = false;
  c.messaging.validate();
  c.bus.retention = c.messaging.retention;
  return c;
}

int run_worker(const WorkerConfig& config, const std::vector<Wiring>& wiring) {
  // Block the stop signals before any thread starts, so only sigtimedwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  host::HostLog log("banyan-worker", config.log_level, std::cout);
  try {
    store::DatabaseOptions db_options;
    db_options.log = log.sink();
    auto db = store::Database::open(config.database_url, std::move(db_options));
    messaging::BusOptions options = config.bus;
    options.log = log.sink();
    messaging::MessageBus bus(*db, options);
    saga::SagaOrchestrator sagas(*db, bus);
    host::define_builtin_sagas(sagas, config.messaging);
    for (const auto& wire : wiring) wire(*db, bus);
    bus.start();
    log.write(LogEvent(LogLevel::kInfo, "running")
                  .with("message", "banyan-worker: running on " + db->location())
                  .with("node", options.node));
    log.flush();
    for (;;) {
      timespec wait{1, 0};
      const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
      if (sig == SIGTERM || sig == SIGINT) break;
    }
    log.say(LogLevel::kInfo, "stopping", "banyan-worker: stopping");
    bus.stop();
    log.say(LogLevel::kInfo, "stopped", "banyan-worker: stopped");
    return 0;
  } catch (const Error& e) {
    log.write(LogEvent(LogLevel::kError, "failed")
                  .with("message", std::string("banyan-worker: ") + e.what())
                  .with("code", to_string(e.code())));
    return 1;
  }
}

}  // namespace banyan::worker
