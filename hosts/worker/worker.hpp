// banyan-worker's run loop, shared by the host's main and by the fault tests' worker (which
// adds a test consumer): open the database, wire the bus, run until SIGTERM, stop cleanly.
#pragma once

#include <banyan/messaging/message_bus.hpp>
#include <banyan/store/database.hpp>

#include "command_line.hpp"
#include "messaging_settings.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace banyan::worker {

struct WorkerConfig {
  std::string database_url;
  messaging::BusOptions bus;
  // The sagas that ship with Banyan (lead_conversion always; deal_won when a billing URL
  // is configured), their consumers, and retention (applied while this worker relays).
  host::MessagingSettings messaging;
  LogLevel log_level = LogLevel::kInfo;  // the least level logged
};

// The worker's command line: declares its flags on an app (with --help and --version;
// a program built on the run loop adds its own), then, once parsed, reads the settings:
// BANYAN_* variables, then flags. Throws host::UsageError naming the setting.
class WorkerCommandLine {
 public:
  explicit WorkerCommandLine(CLI::App& app, const std::string& name = "banyan-worker");
  WorkerConfig config(const host::Getenv& getenv) const;

 private:
  host::SettingFlags flags_;
  bool no_relay_ = false;
};

// Declares queues and adds consumers and subscribers before the bus starts.
using Wiring = std::function<void(store::Database&, messaging::MessageBus&)>;

// Runs until SIGTERM or SIGINT, then stops the bus: the message in hand finishes,
// prefetched ones go back unconsumed, the relay lease is released. Returns the exit status
// (0 after a clean stop, 1 when the database cannot be opened or the bus cannot start).
int run_worker(const WorkerConfig& config, const std::vector<Wiring>& wiring);

}  // namespace banyan::worker
