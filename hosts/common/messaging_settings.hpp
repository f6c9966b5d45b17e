// The messaging settings banyan-server and banyan-worker share: the sagas that ship with
// Banyan, how many consumers run each queue, and retention. One parser serves both hosts'
// flags (and the server's environment and config file), so they read alike.
#pragma once

#include <banyan/builtin_sagas.hpp>
#include <banyan/messaging/message_bus.hpp>
#include <banyan/saga/saga.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "command_line.hpp"

namespace banyan::host {

struct MessagingSettings {
  // Set: the deal_won saga runs too (lead_conversion always does).
  std::string billing_url;
  std::chrono::milliseconds billing_timeout{5000};
  // How long a worker may hold a deal_won step before another takes it over.
  std::chrono::milliseconds saga_lease{60000};
  // Consumers of every saga's step queue, and per queue by name (a step queue
  // "saga.deal_won" or a start queue "saga.deal_won.start"), 1..64 each.
  int saga_consumers = 1;
  std::map<std::string, int> queue_consumers;
  messaging::RetentionPolicy retention;

  // One setting by key: billing_url, billing_timeout, saga_lease (DURATION), consumers
  // ("N", "QUEUE=N", or a comma list of them), outbox_retention, processed_retention,
  // dlq_retention (DURATION, or 0 to keep forever). False for a key it does not know;
  // UsageError (naming `name`) for a bad value.
  bool apply(const std::string& key, const std::string& value, const std::string& name);
  static bool knows(const std::string& key);
  // The keys above with their help: each host adds them as flags (and variables).
  static const std::vector<Setting>& settings();
  // UsageError when the settings do not go together (RetentionPolicy::validate()).
  void validate() const;
  int consumers_of(const std::string& queue, int fallback) const;
};

// Defines the sagas that ship with Banyan on `sagas`, with these settings.
void define_builtin_sagas(saga::SagaOrchestrator& sagas, const MessagingSettings& settings);

}  // namespace banyan::host
