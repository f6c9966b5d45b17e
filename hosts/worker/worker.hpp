// banyan-worker's run loop, shared by the host's main and by the fault tests' worker (which
// adds a test consumer): open the database, wire the bus, run until SIGTERM, stop cleanly.
#pragma once

#include <banyan/messaging/message_bus.hpp>
#include <banyan/store/database.hpp>

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
  cli::MessagingSettings messaging;
};

extern const char* const kWorkerUsage;
// kWorkerUsage and the messaging settings' lines.
std::string worker_usage();

// Parses the worker's flags; anything it does not know goes to `rest` (or is an error
// when `rest` is null). Throws cli::UsageError.
WorkerConfig parse_worker_args(const std::vector<std::string>& args, std::vector<std::string>* rest);

// Declares queues and adds consumers and subscribers before the bus starts.
using Wiring = std::function<void(store::Database&, messaging::MessageBus&)>;

// Runs until SIGTERM or SIGINT, then stops the bus: the message in hand finishes,
// prefetched ones go back unconsumed, the relay lease is released. Returns the exit status
// (0 after a clean stop, 1 when the database cannot be opened or the bus cannot start).
int run_worker(const WorkerConfig& config, const std::vector<Wiring>& wiring);

}  // namespace banyan::worker
