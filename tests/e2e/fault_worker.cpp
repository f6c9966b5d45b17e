// The fault tests' worker: banyan-worker's own run loop (hosts/worker) plus one test
// consumer whose effect can be counted exactly. For every contact.created it records an
// activity whose subject is the event id, guarded by record_processed() in the same
// transaction, so a redelivered message must not add a second one.
//
//   banyan-fault-worker [worker flags] [--no-consume] [--always-fail] [--prefetch N]
//                       [--lease DUR] [--max-attempts N] [--handler-delay-us N]
#include <banyan/banyan.hpp>

#include <atomic>
#include <charconv>
#include <iostream>
#include <thread>

#include "args.hpp"
#include "worker.hpp"

namespace {

int number(const std::string& text) {
  int n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) throw banyan::cli::UsageError("not a number: " + text);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace banyan;
  try {
    std::vector<std::string> rest;
    const auto config = worker::parse_worker_args(std::vector<std::string>(argv + 1, argv + argc), &rest);
    const cli::Args a(rest, {"--prefetch", "--lease", "--max-attempts", "--handler-delay-us"});
    if (!a.positionals().empty()) throw cli::UsageError("unexpected " + a.positionals()[0]);
    const bool consume = !a.flag("--no-consume");
    const bool always_fail = a.flag("--always-fail");
    const int prefetch = a.option("--prefetch") ? number(*a.option("--prefetch")) : 64;
    const int max_attempts = a.option("--max-attempts") ? number(*a.option("--max-attempts")) : 5;
    const int delay_us = a.option("--handler-delay-us") ? number(*a.option("--handler-delay-us")) : 0;
    const auto lease = a.option("--lease") ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 cli::parse_duration(*a.option("--lease")))
                                           : std::chrono::milliseconds(2000);
    std::atomic<long> applied{0}, skipped{0};

    auto wiring = [&](store::Database& db, messaging::MessageBus& bus) {
      messaging::QueueSpec q;
      q.name = "effects";
      q.event_types = {"contact.created"};
      q.retry.immediate_retries = 0;
      q.retry.max_attempts = max_attempts;
      q.retry.initial_delay = std::chrono::milliseconds(20);
      q.retry.max_delay = std::chrono::milliseconds(200);
      q.lease = lease;
      bus.declare_queue(q);
      if (!consume) return;
      bus.consume("effects", [&db, &applied, &skipped, always_fail, delay_us](const messaging::Message& m) {
        if (always_fail) throw std::runtime_error("the handler is broken");
        if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
        const bool first = db.transact([&](store::UnitOfWork& uow) {
          if (!messaging::record_processed(uow, "effects", m.event.id)) return false;
          Activity note;
          note.kind = ActivityKind::kNote;
          note.subject = m.event.id;
          db.activities().create(uow, note);
          return true;
        });
        (first ? applied : skipped).fetch_add(1);
      }, {"effects", prefetch});
    };
    const int status = worker::run_worker(config, {wiring});
    std::cout << "applied " << applied.load() << " skipped " << skipped.load() << std::endl;
    return status;
  } catch (const cli::UsageError& e) {
    std::cerr << "banyan-fault-worker: " << e.what() << "\n";
    return 2;
  }
}
