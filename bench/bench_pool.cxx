// Connection pool: acquire + release through ODB (db.connection(), then drop the
// pointer), Banyan's pool against ODB's connection_pool_factory, on SQLite and MariaDB.
//
// Uncontended, one acquire+release is tens of nanoseconds, below what a clock read can
// resolve on its own; samples are therefore batches of 64 operations, and a sample is the
// batch time / 64. With 8 threads, every operation is timed on its own.
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <odb/mysql/connection-factory.hxx>
#include <odb/mysql/database.hxx>
#include <odb/sqlite/connection-factory.hxx>
#include <odb/sqlite/database.hxx>

#include "bench_util.hpp"
#include "store/odb/island_internal.hxx"

namespace {

using banyan::bench::report_latency;
using Clock = std::chrono::steady_clock;

std::string sqlite_path() { return "/tmp/banyan_bench_pool_" + std::to_string(::getpid()) + ".db"; }

struct MysqlTarget {
  std::string host, user, database;
  unsigned port = 0;
};

// BANYAN_TEST_MYSQL_URL = mysql://root@127.0.0.1:PORT/db (scripts/bench.sh starts it).
MysqlTarget mysql_target() {
  std::string url = banyan::bench::env_or("BANYAN_TEST_MYSQL_URL", "");
  MysqlTarget t;
  if (url.empty()) return t;
  std::string rest = url.substr(std::string("mysql://").size());
  t.user = rest.substr(0, rest.find('@'));
  rest = rest.substr(rest.find('@') + 1);
  t.host = rest.substr(0, rest.find(':'));
  t.port = static_cast<unsigned>(std::stoul(rest.substr(rest.find(':') + 1)));
  t.database = "mysql";  // any existing database: the pool only connects
  return t;
}

banyan::store::PoolOptions banyan_options() {
  banyan::store::PoolOptions o;
  o.min_size = 8;
  o.max_size = 8;
  return o;
}

// The databases under test, made once per process and shared by all threads.
odb::database& banyan_sqlite() {
  static banyan::island::DatabasePtr db = [] {
    banyan::island::ConnectionSpec spec;
    spec.backend = banyan::island::Backend::kSqlite;
    spec.sqlite_path = sqlite_path();
    return banyan::island::open_database(spec, banyan_options(), [](const std::string&) {});
  }();
  return *db->db;
}

odb::database& odb_sqlite() {
  static std::unique_ptr<odb::sqlite::database> db(
      new odb::sqlite::database(sqlite_path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, true, "",
                                std::unique_ptr<odb::sqlite::connection_factory>(
                                    new odb::sqlite::connection_pool_factory(8, 8))));
  return *db;
}

odb::database& banyan_mysql() {
  static banyan::island::DatabasePtr db = [] {
    MysqlTarget t = mysql_target();
    banyan::island::ConnectionSpec spec;
    spec.backend = banyan::island::Backend::kMysql;
    spec.host = t.host;
    spec.port = t.port;
    spec.user = t.user;
    spec.database = t.database;
    return banyan::island::open_database(spec, banyan_options(), [](const std::string&) {});
  }();
  return *db->db;
}

odb::database& odb_mysql() {
  static std::unique_ptr<odb::mysql::database> db = [] {
    MysqlTarget t = mysql_target();
    return std::unique_ptr<odb::mysql::database>(
        new odb::mysql::database(t.user, "", t.database, t.host, t.port, nullptr, "utf8mb4", 0,
                                 std::unique_ptr<odb::mysql::connection_factory>(
                                     new odb::mysql::connection_pool_factory(8, 8, true))));
  }();
  return *db;
}

template <odb::database& (*Db)()>
void acquire_release(benchmark::State& state) {
  odb::database& db = Db();
  {
    // Warm: open the connections this benchmark will use.
    std::vector<odb::connection_ptr> warm;
    if (state.thread_index() == 0)
      for (int i = 0; i < 8; ++i) warm.push_back(db.connection());
  }
  const bool batched = state.threads() == 1;
  const int batch = batched ? 64 : 1;
  std::vector<double> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = Clock::now();
    for (int i = 0; i < batch; ++i) {
      odb::connection_ptr c = db.connection();
      benchmark::DoNotOptimize(c.get());
    }
    const auto ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    samples.push_back(ns / batch);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  report_latency(state, samples);
}

bool have_mysql() { return !mysql_target().host.empty(); }

void register_all() {
  struct Case {
    const char* name;
    void (*fn)(benchmark::State&);
    bool mysql;
  };
  const Case cases[] = {
      {"pool/sqlite/banyan", acquire_release<banyan_sqlite>, false},
      {"pool/sqlite/odb", acquire_release<odb_sqlite>, false},
      {"pool/mariadb/banyan", acquire_release<banyan_mysql>, true},
      {"pool/mariadb/odb", acquire_release<odb_mysql>, true},
  };
  for (const Case& c : cases) {
    if (c.mysql && !have_mysql()) continue;
    benchmark::RegisterBenchmark(c.name, c.fn)->MinTime(0.5)->UseRealTime();
    benchmark::RegisterBenchmark(c.name, c.fn)->MinTime(0.5)->UseRealTime()->Threads(8);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((sqlite_path() + suffix).c_str());
  return 0;
}
