// banyan-worker's run loop, shared by the host's main and by the fault tests' worker (which
// adds a test consumer): open the database, wire the bus, run until SIGTERM, stop cleanly.
#pragma once

#include <banyan/messaging/message_bus.hpp>
#include <banyan/store/database.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace banyan::worker {

struct WorkerConfig {
  std::string database_url;
  messaging::BusOptions bus;
  // Dead letters older than this are deleted (checked every retention_interval).
  std::chrono::microseconds dlq_retention = std::chrono::hours(24 * 14);
  std::chrono::seconds retention_interval = std::chrono::hours(1);
  // The sagas that ship with Banyan: lead_conversion always; deal_won when a billing URL
  // is configured.
  std::string billing_url;
  std::chrono::milliseconds billing_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds saga_lease = std::chrono::seconds(60);
};

extern const char* const kWorkerUsage;

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
