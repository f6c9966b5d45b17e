#include "worker.hpp"

#include <banyan/errors.hpp>
#include <banyan/saga/saga.hpp>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <iostream>

#include <CLI/CLI.hpp>

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
  try {
    auto db = store::Database::open(config.database_url);
    messaging::BusOptions options = config.bus;
    options.log = [](std::string_view m) { std::cerr << "banyan-worker: " << m << std::endl; };
    messaging::MessageBus bus(*db, options);
    saga::SagaOrchestrator sagas(*db, bus);
    host::define_builtin_sagas(sagas, config.messaging);
    for (const auto& wire : wiring) wire(*db, bus);
    bus.start();
    std::cout << "banyan-worker: running on " << config.database_url << std::endl;
    for (;;) {
      timespec wait{1, 0};
      const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
      if (sig == SIGTERM || sig == SIGINT) break;
    }
    std::cout << "banyan-worker: stopping" << std::endl;
    bus.stop();
    std::cout << "banyan-worker: stopped" << std::endl;
    return 0;
  } catch (const Error& e) {
    std::cerr << "banyan-worker: " << to_string(e.code()) << ": " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace banyan::worker
