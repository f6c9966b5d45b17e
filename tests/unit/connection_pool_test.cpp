// ConnectionPool with a fake backend and a manual clock: every rule of the pool,
// deterministically, without a database.
#include "store/pool/connection_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "banyan/errors.hpp"

namespace banyan::detail {
namespace {

using namespace std::chrono_literals;

class ManualClock final : public Clock {
 public:
  PoolClock::time_point now() const override { return now_.load(); }
  void advance(std::chrono::milliseconds d) { now_ = now_.load() + d; }

 private:
  std::atomic<PoolClock::time_point> now_{PoolClock::time_point(1h)};
};

struct FakeConnection : PoolEntry {
  int serial = 0;
  bool healthy = true;
  std::atomic<int> holders{0};
};

class FakeBackend {
 public:
  PoolBackend backend() {
    PoolBackend b;
    b.open = [this]() -> PoolEntry* {
      if (fail_open) throw Unavailable("server down");
      auto* c = new FakeConnection;
      c->serial = ++opened;
      return c;
    };
    b.validate = [this](PoolEntry& e) {
      ++validations;
      return static_cast<FakeConnection&>(e).healthy;
    };
    b.close = [this](PoolEntry* e) {
      ++closed;
      delete static_cast<FakeConnection*>(e);
    };
    b.describe = "fake://db";
    return b;
  }
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> validations{0};
  std::atomic<bool> fail_open{false};
};

store::PoolOptions options(std::size_t min, std::size_t max) {
  store::PoolOptions o;
  o.min_size = min;
  o.max_size = max;
  o.acquire_timeout = 50ms;
  o.max_lifetime = 30min;
  o.idle_timeout = 10min;
  o.validation_interval = 5s;
  o.leak_threshold = 60s;
  return o;
}

class ConnectionPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConnectionPool> make(store::PoolOptions o) {
    return std::make_unique<ConnectionPool>(
        o, fake.backend(), [this](const std::string& w) { warnings.push_back(w); }, clock,
        /*housekeeper=*/false);
  }
  FakeBackend fake;
  ManualClock clock;
  std::vector<std::string> warnings;
};

TEST_F(ConnectionPoolTest, ReusesAReturnedConnectionWithoutOpeningAnother) {
  auto pool = make(options(0, 4));
  PoolEntry& a = pool->acquire();
  pool->release(a);
  PoolEntry& b = pool->acquire();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(fake.opened, 1);
  EXPECT_EQ(fake.validations, 0) << "a fresh idle connection is not validated";
  pool->release(b);
  auto m = pool->metrics();
  EXPECT_EQ(m.created, 1u);
  EXPECT_EQ(m.acquired, 2u);
  EXPECT_EQ(m.idle, 1u);
  EXPECT_EQ(m.in_use, 0u);
}

TEST_F(ConnectionPoolTest, FailsWithPoolExhaustedAfterTheAcquireTimeout) {
  auto pool = make(options(0, 2));
  PoolEntry& a = pool->acquire();
  PoolEntry& b = pool->acquire();
  EXPECT_THROW(pool->acquire(), PoolExhausted);
  auto m = pool->metrics();
  EXPECT_EQ(m.timeouts, 1u);
  EXPECT_EQ(m.in_use, 2u);
  EXPECT_EQ(m.waiters, 0u) << "a waiter that gave up leaves the queue";
  EXPECT_EQ(fake.opened, 2);
  pool->release(a);
  pool->release(b);
}

TEST_F(ConnectionPoolTest, ServesWaitersInArrivalOrder) {
  auto o = options(0, 1);
  o.acquire_timeout = 10s;
  auto pool = make(o);
  PoolEntry& held = pool->acquire();
  std::vector<int> order;
  std::mutex order_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      PoolEntry& e = pool->acquire();
      {
        std::lock_guard<std::mutex> lock(order_mutex);
        order.push_back(i);
      }
      pool->release(e);
    });
    // Let thread i queue before thread i+1 arrives.
    while (pool->metrics().waiters != static_cast<std::size_t>(i + 1)) std::this_thread::yield();
  }
  pool->release(held);
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(fake.opened, 1);
}

TEST_F(ConnectionPoolTest, ValidatesOnlyConnectionsIdleLongerThanTheInterval) {
  auto pool = make(options(0, 2));
  PoolEntry& a = pool->acquire();
  pool->release(a);
  clock.advance(4s);
  pool->release(pool->acquire());
  EXPECT_EQ(fake.validations, 0);
  clock.advance(5s);
  pool->release(pool->acquire());
  EXPECT_EQ(fake.validations, 1);
}

TEST_F(ConnectionPoolTest, ReplacesAConnectionThatFailsValidationWithoutTheCallerSeeingIt) {
  auto pool = make(options(0, 2));
  PoolEntry& a = pool->acquire();
  pool->release(a);
  static_cast<FakeConnection&>(a).healthy = false;
  clock.advance(10s);
  PoolEntry& b = pool->acquire();
  EXPECT_EQ(static_cast<FakeConnection&>(b).serial, 2);
  pool->release(b);
  auto m = pool->metrics();
  EXPECT_EQ(m.broken, 1u);
  EXPECT_EQ(m.destroyed, 1u);
  EXPECT_EQ(m.created, 2u);
  EXPECT_EQ(fake.closed, 1);
}

TEST_F(ConnectionPoolTest, EvictsABrokenConnectionOnReturnAndLetsAWaiterOpenAnother) {
  auto o = options(0, 1);
  o.acquire_timeout = 10s;
  auto pool = make(o);
  PoolEntry& a = pool->acquire();
  auto waiter = std::async(std::launch::async, [&] { return &pool->acquire(); });
  while (pool->metrics().waiters != 1) std::this_thread::yield();
  a.broken = true;
  pool->release(a);
  PoolEntry* b = waiter.get();
  EXPECT_EQ(static_cast<FakeConnection*>(b)->serial, 2);
  pool->release(*b);
  EXPECT_EQ(pool->metrics().broken, 1u);
}

TEST_F(ConnectionPoolTest, ClosesConnectionsPastTheirMaximumLifetime) {
  auto pool = make(options(0, 2));
  PoolEntry& a = pool->acquire();
  clock.advance(31min);
  pool->release(a);  // too old: closed instead of kept
  EXPECT_EQ(fake.closed, 1);
  PoolEntry& b = pool->acquire();
  EXPECT_EQ(static_cast<FakeConnection&>(b).serial, 2);
  pool->release(b);
}

TEST_F(ConnectionPoolTest, HousekeepingClosesIdleConnectionsBeyondMinSize) {
  auto pool = make(options(1, 4));
  PoolEntry& a = pool->acquire();
  PoolEntry& b = pool->acquire();
  PoolEntry& c = pool->acquire();
  pool->release(a);
  pool->release(b);
  pool->release(c);
  clock.advance(11min);
  pool->housekeep();
  auto m = pool->metrics();
  EXPECT_EQ(m.idle, 1u) << "min_size connections stay";
  EXPECT_EQ(m.destroyed, 2u);
}

TEST_F(ConnectionPoolTest, HousekeepingOpensConnectionsUpToMinSize) {
  auto pool = make(options(3, 4));
  pool->housekeep();
  EXPECT_EQ(pool->metrics().idle, 3u);
  EXPECT_EQ(fake.opened, 3);
}

TEST_F(ConnectionPoolTest, WarnsOnceAboutAConnectionHeldPastTheLeakThreshold) {
  auto pool = make(options(0, 2));
  PoolEntry& a = pool->acquire();
  clock.advance(30s);
  pool->housekeep();
  EXPECT_TRUE(warnings.empty());
  clock.advance(31s);
  pool->housekeep();
  pool->housekeep();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("leak threshold"), std::string::npos);
  EXPECT_EQ(pool->metrics().leaks, 1u);
  pool->release(a);
}

TEST_F(ConnectionPoolTest, ReportsUnavailableWhenNoConnectionCanBeOpened) {
  auto pool = make(options(0, 2));
  fake.fail_open = true;
  EXPECT_THROW(pool->acquire(), Unavailable);
  fake.fail_open = false;
  PoolEntry& a = pool->acquire();  // the failed attempt gave its slot back
  PoolEntry& b = pool->acquire();
  pool->release(a);
  pool->release(b);
}

TEST_F(ConnectionPoolTest, CountsAcquisitionLatencyInTheHistogram) {
  auto o = options(0, 1);
  o.acquire_timeout = 10s;
  auto pool = make(o);
  PoolEntry& a = pool->acquire();  // opens: measured
  auto waiter = std::async(std::launch::async, [&] { return &pool->acquire(); });
  while (pool->metrics().waiters != 1) std::this_thread::yield();
  std::this_thread::sleep_for(20ms);  // the waiter waits at least this long
  pool->release(a);
  pool->release(*waiter.get());
  pool->release(pool->acquire());  // from idle: first bucket
  auto m = pool->metrics();
  std::uint64_t total = 0;
  for (auto n : m.acquire_latency) total += n;
  EXPECT_EQ(total, 3u);
  EXPECT_GE(m.acquire_latency[0], 1u);
  // The waiter waited >= 20 ms: bucket (10 ms, 100 ms] or slower.
  std::uint64_t slow = 0;
  for (std::size_t i = 5; i < m.acquire_latency.size(); ++i) slow += m.acquire_latency[i];
  EXPECT_EQ(slow, 1u);
}

// Many threads, few connections, a housekeeper and broken connections all at once: no
// connection is ever held by two threads, and every acquisition is accounted for.
TEST_F(ConnectionPoolTest, NeverHandsOneConnectionToTwoThreadsUnderContention) {
  auto o = options(1, 3);
  o.acquire_timeout = 30s;
  o.validation_interval = 0ms;  // validate on every idle checkout: exercises that path too
  auto pool = make(o);
  std::atomic<bool> stop{false};
  std::thread housekeeper([&] {
    while (!stop) pool->housekeep();
  });
  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  std::atomic<int> double_holds{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto& c = static_cast<FakeConnection&>(pool->acquire());
        if (c.holders.fetch_add(1) != 0) ++double_holds;
        if ((i + t) % 997 == 0) c.broken = true;
        c.holders.fetch_sub(1);
        pool->release(c);
      }
    });
  }
  for (auto& th : threads) th.join();
  stop = true;
  housekeeper.join();
  EXPECT_EQ(double_holds, 0);
  auto m = pool->metrics();
  EXPECT_EQ(m.acquired, static_cast<std::uint64_t>(kThreads * kRounds));
  EXPECT_EQ(m.in_use, 0u);
  EXPECT_EQ(m.waiters, 0u);
  EXPECT_LE(m.idle, 3u);
  EXPECT_EQ(m.created - m.destroyed, m.idle);
  EXPECT_GT(m.broken, 0u);
  EXPECT_EQ(fake.opened - fake.closed, static_cast<int>(m.idle));
}

TEST_F(ConnectionPoolTest, RejectsAMinSizeAboveTheMaxSize) {
  EXPECT_THROW(make(options(5, 2)), ValidationError);
  EXPECT_THROW(make(options(0, 0)), ValidationError);
}

}  // namespace
}  // namespace banyan::detail
