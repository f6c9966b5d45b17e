#include "worker.hpp"

#include <banyan/errors.hpp>
#include <banyan/messaging/dead_letter_store.hpp>
#include <banyan/saga/saga.hpp>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "args.hpp"

namespace banyan::worker {

const char* const kWorkerUsage =
    "usage: banyan-worker [--database URL] [--node NAME] [--no-relay]\n"
    "                     [--work-endpoint EP] [--publish-endpoint EP] [--advertise-host H]\n"
    "                     [--bus-key-file FILE]\n"
    "                     [--relay-lease DUR] [--dlq-retention DUR]\n"
    "                     [--billing-url URL] [--billing-timeout DUR] [--saga-lease DUR]\n"
    "  URL defaults to sqlite://<current directory>/banyan.db; EP like tcp://127.0.0.1:*\n"
    "  or ipc:///run/banyan.sock (default: this process only); DUR like 90s, 15m, 2h, 7d\n"
    "  A tcp:// endpoint, or a relay reached over one, needs the deployment's CURVE keys:\n"
    "  --bus-key-file or BANYAN_BUS_KEY_FILE (make one with: banyan bus keygen)\n";

WorkerConfig parse_worker_args(const std::vector<std::string>& argv, std::vector<std::string>* rest) {
  WorkerConfig c;
  c.database_url = "sqlite://" + (std::filesystem::current_path() / "banyan.db").string();
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= argv.size()) throw cli::UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--database") {
      c.database_url = value();
    } else if (a == "--node") {
      c.bus.node = value();
    } else if (a == "--no-relay") {
      c.bus.relay = false;
    } else if (a == "--work-endpoint") {
      c.bus.work_endpoint = value();
    } else if (a == "--publish-endpoint") {
      c.bus.publish_endpoint = value();
    } else if (a == "--bus-key-file") {
      c.bus.curve = messaging::CurveKeys::load_file(value());
    } else if (a == "--advertise-host") {
      c.bus.advertise_host = value();
    } else if (a == "--relay-lease") {
      c.bus.relay_lease = std::chrono::duration_cast<std::chrono::milliseconds>(cli::parse_duration(value()));
    } else if (a == "--billing-url") {
      c.billing_url = value();
    } else if (a == "--billing-timeout") {
      c.billing_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cli::parse_duration(value()));
    } else if (a == "--saga-lease") {
      c.saga_lease = std::chrono::duration_cast<std::chrono::milliseconds>(cli::parse_duration(value()));
    } else if (a == "--dlq-retention") {
      c.dlq_retention = cli::parse_duration(value());
    } else if (rest != nullptr) {
      rest->push_back(a);
    } else {
      throw cli::UsageError("unknown argument '" + a + "'");
    }
  }
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
    sagas.define(saga::lead_conversion_saga());
    if (!config.billing_url.empty()) {
      sagas.define(saga::deal_won_saga({.billing_url = config.billing_url,
                                        .billing_timeout = config.billing_timeout,
                                        .lease = config.saga_lease}));
    }
    for (const auto& wire : wiring) wire(*db, bus);
    bus.start();
    std::cout << "banyan-worker: running on " << config.database_url << std::endl;
    messaging::DeadLetterStore dlq(*db);
    auto next_retention = std::chrono::steady_clock::now();
    for (;;) {
      if (std::chrono::steady_clock::now() >= next_retention) {
        next_retention = std::chrono::steady_clock::now() + config.retention_interval;
        try {
          if (auto n = dlq.purge_older_than(config.dlq_retention); n > 0)
            std::cerr << "banyan-worker: purged " << n << " dead letters past retention" << std::endl;
        } catch (const Error& e) {
          std::cerr << "banyan-worker: dead-letter retention failed: " << e.what() << std::endl;
        }
      }
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
