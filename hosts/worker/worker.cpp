#include "worker.hpp"

#include <banyan/errors.hpp>
#include <banyan/saga/saga.hpp>

#include <algorithm>
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
    "                     [--relay-lease DUR]\n"
    "  URL defaults to sqlite://<current directory>/banyan.db; EP like tcp://127.0.0.1:*\n"
    "  or ipc:///run/banyan.sock (default: a socket file this host's processes reach);\n"
    "  DUR like 90s, 15m, 2h, 7d\n"
    "  A tcp:// endpoint, or a relay reached over one, needs the deployment's CURVE keys:\n"
    "  --bus-key-file or BANYAN_BUS_KEY_FILE (make one with: banyan bus keygen)\n"
    "Sagas, consumers and retention:\n";

std::string worker_usage() { return std::string(kWorkerUsage) + cli::kMessagingUsage; }

namespace {
// "--billing-url" -> "billing_url", the settings' key.
std::string key_of(const std::string& flag) {
  if (flag.rfind("--", 0) != 0) return {};
  std::string key = flag.substr(2);
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}
}  // namespace

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
    } else if (cli::MessagingSettings::knows(key_of(a))) {
      c.messaging.apply(key_of(a), value(), a);
    } else if (rest != nullptr) {
      rest->push_back(a);
    } else {
      throw cli::UsageError("unknown argument '" + a + "'");
    }
  }
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
    cli::define_builtin_sagas(sagas, config.messaging);
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
