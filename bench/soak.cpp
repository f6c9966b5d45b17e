// The retention soak: events pour through the outbox, a queue with an idempotent consumer
// and a queue whose every 100th message fails for good, while the relay's retention
// deletes what is past its window. It samples the messaging tables as it goes and passes
// when each table's size is flat: once the window has passed, the largest size seen in
// the second half of the run is at most 1.5 times (plus two batches) the largest seen
// before it (after the first two windows). Without retention the tables grow with every event, and
// it fails.
//
//   banyan_soak [--events N] [--window SECONDS] [--database URL]
//
// ./scripts/bench.sh soak runs a million events; the tests run 60,000 with a 2 s window.
// Prints one JSON line per table and one for throughput; exits 1 when a table grew.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "banyan/banyan.hpp"
#include "store/stores.hpp"

namespace {

using namespace banyan;
using SteadyClock = std::chrono::steady_clock;

struct Sample {
  double at = 0;  // seconds since the start
  std::map<std::string, std::int64_t> rows;
};

struct Settings {
  long events = 1'000'000;
  int window_s = 10;
  std::string database;
};

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events")
      s.events = std::stol(argv[i + 1]);
    else if (flag == "--window")
      s.window_s = std::stoi(argv[i + 1]);
    else if (flag == "--database")
      s.database = argv[i + 1];
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  if (s.events < 1000 || s.window_s < 1)
    throw std::invalid_argument("--events >= 1000, --window >= 1");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    settings = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "banyan_soak: " << e.what()
              << "\nusage: banyan_soak [--events N] [--window SECONDS] [--database URL]\n";
    return 2;
  }
  std::filesystem::path scratch;
  if (settings.database.empty()) {
    scratch =
        std::filesystem::temp_directory_path() / ("banyan-soak-" + std::to_string(::getpid()));
    std::filesystem::create_directories(scratch);
    settings.database = "sqlite://" + (scratch / "soak.db").string();
  }
  int status = 0;
  {
    auto db = store::Database::open(settings.database);
    messaging::BusOptions options;
    const auto window = std::chrono::seconds(settings.window_s);
    options.retention.outbox = window;
    options.retention.processed = window;
    options.retention.dead_letters = window;
    options.retention.interval = std::chrono::milliseconds(500);
    options.log = [](const LogEvent& e) { std::cerr << "banyan_soak: " << e.json() << "\n"; };
    messaging::MessageBus bus(*db, options);
    bus.declare_queue({.name = "soak.effects", .event_types = {"soak.event"}});
    messaging::QueueSpec flaky{.name = "soak.flaky", .event_types = {"soak.event"}};
    flaky.retry.max_attempts = 1;
    flaky.retry.immediate_retries = 0;
    bus.declare_queue(flaky);
    std::atomic<long> applied{0}, settled{0};
    bus.consume("soak.effects",
                [&](const messaging::Message& m) {
                  db->transact([&](store::UnitOfWork& uow) {
                    if (messaging::record_processed(uow, "soak.effects", m.event.id))
                      applied.fetch_add(1);
                  });
                },
                {"effects", 256});
    bus.consume("soak.flaky",
                [&](const messaging::Message& m) {
                  settled.fetch_add(1);
                  if (m.event.aggregate_id % 100 == 0)
                    throw messaging::PermanentError("every 100th fails");
                },
                {"flaky", 256});
    bus.start();

    const auto started = SteadyClock::now();
    auto seconds = [&] {
      return std::chrono::duration<double>(SteadyClock::now() - started).count();
    };
    std::vector<Sample> samples;
    std::mutex samples_mutex;
    std::atomic<bool> done{false};
    std::thread sampler([&] {
      while (!done.load()) {
        Sample s;
        s.at = seconds();
        for (const auto& t : bus.table_sizes()) s.rows[t.table] = t.rows;
        {
          std::lock_guard<std::mutex> lock(samples_mutex);
          samples.push_back(std::move(s));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    });
    // Producer: batches of 500, kept at most 5,000 ahead of the consumers, so the tables
    // measure retention, not a backlog.
    const auto outbox = stores(*db).outbox();
    for (long written = 0; written < settings.events;) {
      const long n = std::min<long>(500, settings.events - written);
      db->transact([&](store::UnitOfWork& uow) {
        for (long i = 0; i < n; ++i)
          outbox.append(uow, "soak.event", {ObjectType::kContact, static_cast<Id>(written + i + 1)},
                        "{\"n\":1}");
      });
      written += n;
      while (written - std::min(applied.load(), settled.load()) > 5000)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while (applied.load() < settings.events || settled.load() < settings.events)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double elapsed = seconds();
    done.store(true);
    sampler.join();
    bus.stop();

    // From two windows in (retention has run): the first half of what is left is early,
    // the second late.
    const double from = 2.0 * settings.window_s, middle = from + (elapsed - from) / 2;
    std::map<std::string, std::int64_t> early, late;
    for (const auto& s : samples) {
      if (s.at < from) continue;
      auto& into = s.at < middle ? early : late;
      for (const auto& [table, rows] : s.rows) into[table] = std::max(into[table], rows);
    }
    std::printf(
        "{\"suite\":\"soak\",\"metric\":\"events_per_second\",\"value\":%.0f,\"unit\":\"events/s\","
        "\"events\":%ld,\"seconds\":%.1f}\n",
        static_cast<double>(settings.events) / elapsed, settings.events, elapsed);
    if (early.empty() || late.empty()) {
      std::fprintf(stderr, "banyan_soak: the run (%.1f s) was too short for a %d s window\n",
                   elapsed, settings.window_s);
      status = 1;
    }
    for (const auto& [table, before] : early) {
      const std::int64_t after = late[table];
      // queue_messages is the backlog the producer keeps bounded; it is reported, not judged.
      const bool judged = table != "queue_messages";
      const bool flat =
          !judged || static_cast<double>(after) <=
                         1.5 * static_cast<double>(before) + 2.0 * options.retention.batch_size;
      std::printf(
          "{\"suite\":\"soak\",\"metric\":\"%s_max_rows_late\",\"value\":%lld,\"unit\":\"rows\","
          "\"baseline\":\"%s_max_rows_early\",\"baseline_value\":%lld,\"ratio\":%.2f,\"flat\":%s}"
          "\n",
          table.c_str(), static_cast<long long>(after), table.c_str(),
          static_cast<long long>(before),
          after == 0 ? 0.0 : static_cast<double>(before) / static_cast<double>(after),
          flat ? "true" : "false");
      if (!flat) status = 1;
    }
  }
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return status;
}
