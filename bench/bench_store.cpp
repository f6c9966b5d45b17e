// Store throughput: insert, get by id, and a filtered page, through Banyan's stores
// and through the raw C APIs (sqlite3, libmariadb prepared statements) doing the same
// statements with the same transaction size (one operation per transaction) and the
// same durability settings (the same database file or server, WAL + synchronous=NORMAL).
#include <mysql.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include "banyan/banyan.hpp"
#include "store/stores.hpp"

#include <random>

#include "bench_util.hpp"
#include "mysql_scratch.hpp"
#include "raw_baselines.hpp"
#include "store/match_keys.hpp"
#include "store/sql_builder.hpp"
#include "store_targets.hpp"
#include "util/encoding.hpp"

namespace {

using namespace banyan::bench;  // NOLINT(google-build-using-namespace): the benchmarks' own

// ---- Banyan ----------------------------------------------------------------------------

void banyan_insert(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    t.db->transact(
        [&](UnitOfWork& uow) { stores(*t.db).contacts().create(uow, new_contact(i++)); });
  }
  state.SetItemsProcessed(state.iterations());
}

// The same contacts with encryption at rest: the email sealed (AES-256-GCM) in the row,
// the event and the audit entry, its blind index computed and indexed, its match key an
// HMAC.
void banyan_insert_encrypted(benchmark::State& state, bool mysql) {
  Target& t = target(mysql, true);
  int i = 0;
  for (auto _ : state) {
    t.db->transact(
        [&](UnitOfWork& uow) { stores(*t.db).contacts().create(uow, new_contact(i++)); });
  }
  state.SetItemsProcessed(state.iterations());
}

// A contact found by its email (the index on email, or the blind index when encrypted).
void email_lookup(benchmark::State& state, bool mysql, bool encrypted) {
  Target& t = target(mysql, encrypted);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter =
        Filter::eq("email", "person" + std::to_string((i++ * 37) % kSeedRows) + "@example.com");
    r.limit = 10;
    auto page = stores(*t.db).contacts().query(uow, r);
    if (page.items.size() != 1)
      throw std::runtime_error("email lookup found " + std::to_string(page.items.size()));
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

// 1,000 contacts with external ids "sync-<n>", as an import made them (made on first use,
// outside the timed loops).
const std::vector<Contact>& synced(bool mysql) {
  static std::vector<Contact> made[2];
  auto& out = made[mysql ? 1 : 0];
  if (!out.empty()) return out;
  Target& t = target(mysql);
  t.db->transact([&](UnitOfWork& uow) {
    for (int i = 0; i < 1000; ++i) {
      Contact c = new_contact(2000000 + i);
      c.external_id = "sync-" + std::to_string(i);
      out.push_back(stores(*t.db).contacts().create(uow, c));
    }
  });
  return out;
}

// A sync that finds each record as it is: an upsert of a patch naming every field it sends,
// which must change nothing (and so write nothing).
void banyan_sync_unchanged(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    banyan::Patch<Contact> p;
    p.values = records[i++ % records.size()];
    p.name("first_name").name("last_name").name("email").name("title");
    const auto done =
        t.db->transact([&](UnitOfWork& uow) { return stores(*t.db).contacts().upsert(uow, p); });
    if (done.outcome != banyan::WriteOutcome::kUnchanged)
      throw std::runtime_error("the sync changed a record");
  }
  state.SetItemsProcessed(state.iterations());
}

// A change of one field: as a patch, and as the read-modify-write of the whole record that
// the server did before patches.
// Titles never repeat across runs and repetitions, so that every write changes something.
std::size_t next_title() {
  static std::size_t n = 0;
  return n++;
}

void banyan_patch(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  for (auto _ : state) {
    const std::size_t i = next_title();
    banyan::Patch<Contact> p;
    p.values.title = "Title " + std::to_string(i);
    p.name("title");
    const Id id = records[i % records.size()].id;
    const auto done =
        t.db->transact([&](UnitOfWork& uow) { return stores(*t.db).contacts().patch(uow, id, p); });
    if (done.outcome != banyan::WriteOutcome::kUpdated)
      throw std::runtime_error("the patch changed nothing");
  }
  state.SetItemsProcessed(state.iterations());
}
void banyan_update(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  const auto& records = synced(mysql);
  for (auto _ : state) {
    const std::size_t i = next_title();
    const Id id = records[i % records.size()].id;
    t.db->transact([&](UnitOfWork& uow) {
      Contact c = stores(*t.db).contacts().get(uow, id);
      c.title = "Title " + std::to_string(i);
      if (stores(*t.db).contacts().update(uow, c).version == c.version)
        throw std::runtime_error("the update changed nothing");
    });
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_get(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    Contact c = stores(*t.db).contacts().get(uow, t.ids[i++ % t.ids.size()]);
    benchmark::DoNotOptimize(c);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_page(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter = Filter::starts_with("last_name", "Smith" + std::to_string(i++ % 100));
    r.sort = {"last_name", false};
    r.limit = 50;
    auto page = stores(*t.db).contacts().query(uow, r);
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_custom_page(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::PageRequest r;
    r.filter = Filter::eq("custom.tier", "gold") &&
               Filter::ge("custom.score", std::int64_t{(i++ * 37) % 950});
    r.sort = {"custom.score", false};
    r.limit = 50;
    auto page = stores(*t.db).contacts().query(uow, r);
    benchmark::DoNotOptimize(page);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

void banyan_search(benchmark::State& state, bool mysql) {
  Target& t = target(mysql);
  int i = 0;
  for (auto _ : state) {
    UnitOfWork uow = t.db->begin(std::nullopt, banyan::store::Access::kReadOnly);
    banyan::store::SearchRequest r;
    r.query = "smith" + std::to_string(100 + i++ % 900);
    r.limit = 20;
    auto hits = stores(*t.db).search().search(uow, r);
    benchmark::DoNotOptimize(hits);
    uow.commit();
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_insert(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 1000000;
  for (auto _ : state) r.insert(i++);
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_get(benchmark::State& state, bool mysql) {
  Raw& r = raw<Raw>();
  const auto& ids = target(mysql).ids;
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.get(ids[i++ % ids.size()]));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_sync_unchanged(benchmark::State& state, bool mysql) {
  Raw& r = raw<Raw>();
  const auto& records = synced(mysql);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto rows = r.by_external_id(*records[i++ % records.size()].external_id);
    if (rows.size() != 1) throw std::runtime_error("no record by its external id");
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_page(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.page("Smith" + std::to_string(i++ % 100)));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_custom_page(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(r.custom_page((i++ * 37) % 950));
  state.SetItemsProcessed(state.iterations());
}

template <typename Raw>
void raw_search(benchmark::State& state) {
  Raw& r = raw<Raw>();
  int i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(r.search("smith" + std::to_string(100 + i++ % 900)));
  state.SetItemsProcessed(state.iterations());
}

void register_all() {
  const bool have_mysql = !banyan::bench::env_or("BANYAN_TEST_MYSQL_URL", "").empty();
  for (bool mysql : {false, true}) {
    if (mysql && !have_mysql) continue;
    const std::string b = mysql ? "store/mariadb/" : "store/sqlite/";
    benchmark::RegisterBenchmark((b + "insert/banyan").c_str(), banyan_insert, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "insert/raw").c_str(), raw_insert<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "insert/raw").c_str(), raw_insert<RawSqlite>)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "insert/banyan_encrypted").c_str(), banyan_insert_encrypted,
                                 mysql)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "email_lookup/banyan").c_str(), email_lookup, mysql, false)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "email_lookup/banyan_encrypted").c_str(), email_lookup, mysql,
                                 true)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "get/banyan").c_str(), banyan_get, mysql)->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "get/raw").c_str(), raw_get<RawMariaDb>, true)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "get/raw").c_str(), raw_get<RawSqlite>, false)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "sync_unchanged/banyan").c_str(), banyan_sync_unchanged,
                                 mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "sync_unchanged/raw").c_str(),
                                   raw_sync_unchanged<RawMariaDb>, true)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "sync_unchanged/raw").c_str(),
                                   raw_sync_unchanged<RawSqlite>, false)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "patch/banyan").c_str(), banyan_patch, mysql)->UseRealTime();
    benchmark::RegisterBenchmark((b + "patch/banyan_read_modify_write").c_str(), banyan_update,
                                 mysql)
        ->UseRealTime();
    benchmark::RegisterBenchmark((b + "page/banyan").c_str(), banyan_page, mysql)->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "page/raw").c_str(), raw_page<RawMariaDb>)->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "page/raw").c_str(), raw_page<RawSqlite>)->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "custom_page/banyan").c_str(), banyan_custom_page, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "custom_page/raw").c_str(), raw_custom_page<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "custom_page/raw").c_str(), raw_custom_page<RawSqlite>)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((b + "search/banyan").c_str(), banyan_search, mysql)
        ->UseRealTime();
    if (mysql) {
      benchmark::RegisterBenchmark((b + "search/raw").c_str(), raw_search<RawMariaDb>)
          ->UseRealTime();
    } else {
      benchmark::RegisterBenchmark((b + "search/raw").c_str(), raw_search<RawSqlite>)
          ->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  banyan::bench::remove_sqlite_files(sqlite_path());
  banyan::bench::remove_sqlite_files(sqlite_path() + "_enc");
  return 0;
}
