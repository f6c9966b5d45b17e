// The fault tests' worker: banyan-worker's own run loop (hosts/worker) plus one test
// consumer whose effect can be counted exactly. For every contact.created it records an
// activity whose subject is the event id, guarded by record_processed() in the same
// transaction, so a redelivered message must not add a second one.
//
//   banyan-fault-worker [worker flags] [--no-consume] [--always-fail] [--prefetch N]
//                       [--lease DUR] [--max-attempts N] [--handler-delay-us N]
#include <banyan/banyan.hpp>

#include <atomic>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "command_line.hpp"
#include "worker.hpp"

int main(int argc, char** argv) {
  using namespace banyan;
  CLI::App app;
  const worker::WorkerCommandLine line(app, "banyan-fault-worker");
  bool no_consume = false, always_fail = false;
  int prefetch = 64, max_attempts = 5, delay_us = 0;
  std::string lease_text = "2s";
  app.add_flag("--no-consume", no_consume, "Declare the effects queue but consume nothing");
  app.add_flag("--always-fail", always_fail, "Every handler call throws");
  app.add_option("--prefetch", prefetch, "Messages in hand at once (64)");
  app.add_option("--lease", lease_text, "The effects queue's lease (2s)")
      ->check(host::duration_check());
  app.add_option("--max-attempts", max_attempts, "Attempts before a dead letter (5)");
  app.add_option("--handler-delay-us", delay_us, "Microseconds each handler call waits first (0)");
  return host::run_program(app, argc, argv, [&] {
    const auto config = line.config(host::process_environment());
    const auto lease = host::parse_millis(lease_text, "--lease");
    const bool consume = !no_consume;
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
      // The effects are the system's, written through the Engine as any host's are.
      auto engine = std::make_shared<Engine>(db);
      bus.consume(
          "effects",
          [&db, engine, &applied, &skipped, always_fail, delay_us](const messaging::Message& m) {
            if (always_fail) throw std::runtime_error("the handler is broken");
            if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
            const bool first = db.transact([&](store::UnitOfWork& uow) {
              if (!messaging::record_processed(uow, "effects", m.event.id)) return false;
              Activity note;
              note.kind = ActivityKind::kNote;
              note.subject = m.event.id;
              engine->activities(security::Principal::system()).create(uow, note);
              return true;
            });
            (first ? applied : skipped).fetch_add(1);
          },
          {"effects", prefetch});
    };
    const int status = worker::run_worker(config, {wiring});
    std::cout << "applied " << applied.load() << " skipped " << skipped.load() << std::endl;
    return status;
  });
}
