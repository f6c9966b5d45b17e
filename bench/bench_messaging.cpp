// The message bus end to end: durable throughput (write, outbox, relay, ZeroMQ, consumer,
// ack) and commit-to-handler latency at a fixed offered rate, on SQLite and MariaDB,
// beside raw ZeroMQ PUSH/PULL with messages of the same size in the same run (the limit).
// Two kinds of write: an application's own message (Outbox::append, what a messaging
// benchmark measures) and a contact created through the repository (the CRM write whose
// event it is: validation, duplicate keys, the search index, then the event).
#include <banyan/banyan.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <zmq.hpp>

#include "bench_util.hpp"
#include "mysql_scratch.hpp"
#include "store/stores.hpp"

namespace {

using namespace banyan;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kMessages = 20000;  // per throughput run
constexpr int kBatch = 500;       // writes per transaction
constexpr int kRate = 1000;       // offered messages per second in the latency run

// The SQLite files this run made, removed when it ends.
struct ScratchFiles {
  std::vector<std::filesystem::path> paths;
  ~ScratchFiles() {
    for (const auto& p : paths) bench::remove_sqlite_files(p.string());
  }
};

std::string url_for(const std::string& backend) {
  if (backend == "sqlite") {
    static ScratchFiles files;
    const auto path = std::filesystem::temp_directory_path() /
                      ("banyan-bench-messaging-" + std::to_string(getpid()) + "-" +
                       std::to_string(files.paths.size()) + ".db");
    std::filesystem::remove(path);
    files.paths.push_back(path);
    return "sqlite://" + path.string();
  }
  if (bench::env_or("BANYAN_TEST_MYSQL_URL", "").empty()) return "";
  static int n = 0;
  return bench::fresh_mysql_database("bench_messaging_" + std::to_string(getpid()) + "_" +
                                     std::to_string(n++));
}

// A fresh database for one benchmark, or null (and the benchmark skipped) without MariaDB.
std::unique_ptr<store::Database> open_fresh(benchmark::State& state, const std::string& backend) {
  const std::string url = url_for(backend);
  if (url.empty()) {
    state.SkipWithError("BANYAN_TEST_MYSQL_URL is not set");
    return nullptr;
  }
  return store::Database::open(url);
}

Contact contact_n(int i) {
  Contact c;
  c.first_name = "Bench";
  c.last_name = "Contact" + std::to_string(i);
  c.email = "bench" + std::to_string(i) + "@example.com";
  c.phone = "+1 555 0100";
  return c;
}

enum class Write { kMessage, kContact };

// A message body the size of a contact.created event's (about 600 bytes of JSON).
std::string message_body(int i) {
  return R"({"order":)" + std::to_string(i) +
         R"(,"source":"bench","customer":{"name":"Bench Customer","email":"bench@example.com",)"
         R"("phone":"+1 555 0100"},"lines":[{"sku":"A-100","quantity":2,"price":"19.90"},)"
         R"({"sku":"B-200","quantity":1,"price":"249.00"},{"sku":"C-300","quantity":5,"price":"3.50"}],)"
         R"("note":")" +
         std::string(300, 'n') + R"("})";
}

// Writes `n` records of the kind in transactions of kBatch, each with its event.
void write_batches(store::Database& db, Write kind, int first, int n) {
  for (int done = 0; done < n; done += kBatch) {
    db.transact([&](store::UnitOfWork& uow) {
      for (int i = done; i < std::min(n, done + kBatch); ++i) {
        if (kind == Write::kContact) {
          stores(db).contacts().create(uow, contact_n(first + i));
        } else {
          stores(db).outbox().append(uow, "bench.message",
                                     {ObjectType::kContact, static_cast<Id>(first + i)},
                                     message_body(first + i));
        }
      }
    });
  }
}

messaging::QueueSpec bench_queue() {
  messaging::QueueSpec q;
  q.name = "bench";
  q.event_types = {"contact.created", "bench.message"};
  return q;
}

// A bus that keeps quiet, with the benchmark's queue declared.
std::unique_ptr<messaging::MessageBus> quiet_bus(store::Database& db) {
  auto bus = std::make_unique<messaging::MessageBus>(db, messaging::BusOptions{});
  bus->declare_queue(bench_queue());
  return bus;
}

// Waits until the bus holds the relay lease and its consumer is connected: one contact
// goes through end to end. Startup is not what these benchmarks measure.
void warm_up(store::Database& db, const std::atomic<long>& handled) {
  const long before = handled.load();
  db.transact([&](store::UnitOfWork& uow) { stores(db).contacts().create(uow, contact_n(-1)); });
  while (handled.load() == before) std::this_thread::sleep_for(1ms);
}

void BM_Durable(benchmark::State& state, const std::string& backend, Write kind) {
  auto db = open_fresh(state, backend);
  if (!db) return;
  auto bus_ptr = quiet_bus(*db);
  messaging::MessageBus& bus = *bus_ptr;
  std::atomic<long> handled{0};
  bus.consume("bench", [&](const messaging::Message&) { handled.fetch_add(1); }, {"bench", 2048});
  bus.start();
  warm_up(*db, handled);
  int written = 1;
  for (auto _ : state) {
    const long target = handled.load() + kMessages;
    write_batches(*db, kind, written, kMessages);
    written += kMessages;
    while (handled.load() < target || bus.metrics().acked < static_cast<std::uint64_t>(written))
      std::this_thread::sleep_for(100us);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMessages);
  bus.stop();
}

// The bus alone: 20,000 messages already committed to the outbox, then a bus starts and
// the clock runs until the last is acked. Every step is still durable (routing into the
// queue table, the lease, the ack's delete); only the writes are outside.
void BM_Drain(benchmark::State& state, const std::string& backend) {
  auto db = open_fresh(state, backend);
  if (!db) return;
  int written = 0;
  for (auto _ : state) {
    state.PauseTiming();
    write_batches(*db, Write::kMessage, written, kMessages);
    written += kMessages;
    auto bus_ptr = quiet_bus(*db);
    messaging::MessageBus& bus = *bus_ptr;
    std::atomic<long> handled{0};
    bus.consume("bench", [&](const messaging::Message&) { handled.fetch_add(1); }, {"bench", 2048});
    state.ResumeTiming();
    bus.start();
    while (bus.metrics().acked < static_cast<std::uint64_t>(kMessages))
      std::this_thread::sleep_for(100us);
    state.PauseTiming();
    bus.stop();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMessages);
}

// The writes alone, with no bus: what the durable run costs before any messaging.
void BM_WriteOnly(benchmark::State& state, const std::string& backend, Write kind) {
  auto db = open_fresh(state, backend);
  if (!db) return;
  int written = 0;
  for (auto _ : state) {
    write_batches(*db, kind, written, kMessages);
    written += kMessages;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMessages);
}

void BM_Latency(benchmark::State& state, const std::string& backend) {
  auto db = open_fresh(state, backend);
  if (!db) return;
  auto bus_ptr = quiet_bus(*db);
  messaging::MessageBus& bus = *bus_ptr;
  // The handler notes when each message arrived and the writer when each committed; the
  // two are joined at the end. (The handler must not wait for the writer: a handler
  // blocked on a lock the writer holds across its commit would time the benchmark, not
  // the bus.)
  std::mutex mutex;
  std::vector<std::pair<Id, Clock::time_point>> arrived;  // guarded by mutex
  std::atomic<long> handled{0};
  bus.consume("bench",
              [&](const messaging::Message& m) {
                const auto now = Clock::now();
                {
                  std::lock_guard<std::mutex> lock(mutex);
                  arrived.emplace_back(m.event.aggregate_id, now);
                }
                handled.fetch_add(1);
              },
              {"bench", 64});
  bus.start();
  warm_up(*db, handled);
  const int n = 3 * kRate;  // three seconds per run
  int i = 0;
  std::vector<double> samples;
  for (auto _ : state) {
    std::map<Id, Clock::time_point> committed;
    const long before = handled.load();
    auto next = Clock::now();
    for (int k = 0; k < n; ++k, ++i) {
      std::this_thread::sleep_until(next);
      next += std::chrono::microseconds(1000000 / kRate);
      const Contact c = db->transact(
          [&](store::UnitOfWork& uow) { return stores(*db).contacts().create(uow, contact_n(i)); });
      committed[c.id] = Clock::now();
    }
    while (handled.load() < before + n) std::this_thread::sleep_for(1ms);
    samples.clear();
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [id, at] : arrived) {
      auto it = committed.find(id);
      // A handler may run a hair before the writer reads its clock after the commit;
      // that counts as no wait, not a negative one.
      if (it != committed.end())
        samples.push_back(
            std::max(0.0, std::chrono::duration<double, std::nano>(at - it->second).count()));
    }
    arrived.clear();
  }
  bench::report_latency(state, samples);
  bus.stop();
}

// The limit: raw ZeroMQ PUSH/PULL over inproc with a payload the size of a routed event.
void BM_RawZmq(benchmark::State& state) {
  zmq::context_t ctx(1);
  zmq::socket_t push(ctx, zmq::socket_type::push), pull(ctx, zmq::socket_type::pull);
  pull.bind("inproc://bench");
  push.connect("inproc://bench");
  // A message the size of a routed event: a short header frame, then the payload.
  const std::string payload(620, 'x');
  for (auto _ : state) {
    std::thread receiver([&] {
      zmq::message_t m;
      for (int i = 0; i < kMessages; ++i) {
        do {
          (void)pull.recv(m);
        } while (m.more());
      }
    });
    for (int i = 0; i < kMessages; ++i) {
      push.send(zmq::buffer(std::to_string(i)), zmq::send_flags::sndmore);
      push.send(zmq::buffer(payload), zmq::send_flags::none);
    }
    receiver.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kMessages);
}

}  // namespace

BENCHMARK_CAPTURE(BM_Durable, sqlite, std::string("sqlite"), Write::kMessage)
    ->Name("messaging/sqlite/durable")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Durable, mariadb, std::string("mariadb"), Write::kMessage)
    ->Name("messaging/mariadb/durable")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Durable, sqlite_contacts, std::string("sqlite"), Write::kContact)
    ->Name("messaging/sqlite/durable_contacts")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Durable, mariadb_contacts, std::string("mariadb"), Write::kContact)
    ->Name("messaging/mariadb/durable_contacts")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Drain, sqlite, std::string("sqlite"))
    ->Name("messaging/sqlite/drain")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Drain, mariadb, std::string("mariadb"))
    ->Name("messaging/mariadb/drain")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_WriteOnly, sqlite, std::string("sqlite"), Write::kMessage)
    ->Name("messaging/sqlite/write_only")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_WriteOnly, mariadb, std::string("mariadb"), Write::kMessage)
    ->Name("messaging/mariadb/write_only")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_WriteOnly, sqlite_contacts, std::string("sqlite"), Write::kContact)
    ->Name("messaging/sqlite/write_only_contacts")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_WriteOnly, mariadb_contacts, std::string("mariadb"), Write::kContact)
    ->Name("messaging/mariadb/write_only_contacts")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Latency, sqlite, std::string("sqlite"))
    ->Name("messaging/sqlite/latency")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_Latency, mariadb, std::string("mariadb"))
    ->Name("messaging/mariadb/latency")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_RawZmq)
    ->Name("messaging/raw_zmq/push_pull")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);

BENCHMARK_MAIN();
