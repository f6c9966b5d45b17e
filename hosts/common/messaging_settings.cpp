#include "messaging_settings.hpp"

#include <banyan/errors.hpp>

#include <algorithm>

namespace banyan::host {

namespace {

// A retention window: a duration, or 0 for forever.
std::chrono::microseconds window(const std::string& value, const std::string& name) {
  return value == "0" ? std::chrono::microseconds(0)
                      : std::chrono::microseconds(parse_millis(value, name));
}

int consumer_count(const std::string& text, const std::string& name) {
  int n = 0;
  try {
    std::size_t used = 0;
    n = std::stoi(text, &used);
    if (used != text.size()) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < 1 || n > 64)
    throw UsageError(name + ": '" + text + "' is not a consumer count from 1 to 64");
  return n;
}

}  // namespace

const std::vector<Setting>& MessagingSettings::settings() {
  static const std::vector<Setting> kSettings = {
      {"billing_url", "URL", "Run the deal_won saga, billing won deals at this URL"},
      {"billing_timeout", "DURATION", "Give up on a billing call after this long (5s)"},
      {"saga_lease", "DURATION",
       "A saga step held longer goes to another consumer (60s; above the billing timeout)"},
      {"consumers", "N|QUEUE=N[,...]",
       "Consumers of every saga's step queue (N), or of one queue by name (saga.deal_won, "
       "saga.deal_won.start, saga.lead_conversion), 1 to 64; 1 each by default"},
      {"outbox_retention", "DURATION",
       "Delete relayed outbox events older than this (7d; 0 keeps forever)"},
      {"processed_retention", "DURATION",
       "Delete processed-message claims older than this (30d; at least the dead letters' window; 0 "
       "keeps forever)"},
      {"dlq_retention", "DURATION", "Delete dead letters older than this (14d; 0 keeps forever)"},
  };
  return kSettings;
}

bool MessagingSettings::knows(const std::string& key) {
  for (const auto& s : settings())
    if (key == s.key) return true;
  return false;
}

bool MessagingSettings::apply(const std::string& key, const std::string& value,
                              const std::string& name) {
  if (!knows(key)) return false;
  if (key == "billing_url")
    billing_url = value;
  else if (key == "billing_timeout")
    billing_timeout = parse_millis(value, name);
  else if (key == "saga_lease")
    saga_lease = parse_millis(value, name);
  else if (key == "outbox_retention")
    retention.outbox = window(value, name);
  else if (key == "processed_retention")
    retention.processed = window(value, name);
  else if (key == "dlq_retention")
    retention.dead_letters = window(value, name);
  else if (key == "consumers") {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      const std::string item = value.substr(start, comma - start);
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos)
        saga_consumers = consumer_count(item, name);
      else if (eq == 0)
        throw UsageError(name + ": '" + item + "' names no queue");
      else
        queue_consumers[item.substr(0, eq)] = consumer_count(item.substr(eq + 1), name);
      start = comma + 1;
    }
  }
  return true;
}

void MessagingSettings::validate() const {
  try {
    retention.validate();
  } catch (const ValidationError& e) {
    throw UsageError(std::string("retention: ") + e.what());
  }
  if (saga_lease <= billing_timeout) throw UsageError("saga_lease: must exceed billing_timeout");
}

int MessagingSettings::consumers_of(const std::string& queue, int fallback) const {
  const auto it = queue_consumers.find(queue);
  return it == queue_consumers.end() ? fallback : it->second;
}

void define_builtin_sagas(saga::SagaOrchestrator& sagas, const MessagingSettings& settings) {
  auto consumers = [&](const std::string& saga) {
    return saga::SagaConsumers{
        settings.consumers_of(saga::step_queue(saga), settings.saga_consumers),
        settings.consumers_of(saga::start_queue(saga), 1)};
  };
  sagas.define(saga::lead_conversion_saga(), consumers("lead_conversion"));
  if (!settings.billing_url.empty()) {
    sagas.define(saga::deal_won_saga({.billing_url = settings.billing_url,
                                      .billing_timeout = settings.billing_timeout,
                                      .lease = settings.saga_lease}),
                 consumers("deal_won"));
  }
}

}  // namespace banyan::host
