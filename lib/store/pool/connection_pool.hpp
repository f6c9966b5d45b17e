// ConnectionPool: Banyan's connection pool, independent of any database driver.
//
// The backends (lib/store/odb/*_connection_factory) plug it into ODB as the connection
// factory: they tell it how to open, check and close a connection, and hand out what it
// gives them. C++14-clean, because the ODB island includes it.
//
// Design, in short:
//  - Idle connections are a stack: the most recently used goes out first, so the rest
//    age and the housekeeper can close those beyond min_size.
//  - Waiters queue in FIFO order and are served by direct hand-off: a returned
//    connection goes to the oldest waiter, never to a thread that arrives later.
//  - Opening, validating and closing a connection happen outside the lock.
//  - Time comes from a Clock seam, so tests drive ageing without sleeping.
#ifndef BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP
#define BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "banyan/store/pool.hpp"

namespace banyan {
namespace detail {

using PoolClock = std::chrono::steady_clock;

// Source of time for the pool. The default reads CLOCK_MONOTONIC_COARSE: the pool's
// decisions (idle for seconds, older than minutes) need milliseconds, not nanoseconds,
// and a coarse read costs a few nanoseconds on the checkout path.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual PoolClock::time_point now() const = 0;
  static const Clock& coarse();
};

// The pool's bookkeeping, embedded in every pooled connection (the backends derive their
// connection class from both the driver's connection and this).
struct PoolEntry {
  virtual ~PoolEntry() = default;
  PoolClock::time_point created_at{};
  PoolClock::time_point returned_at{};   // when it last became idle
  PoolClock::time_point acquired_at{};   // when it was last handed out
  std::size_t in_use_index = 0;          // position in ConnectionPool::in_use_
  bool broken = false;                   // set by the backend when a use failed fatally
  bool leak_reported = false;
};

// How a backend opens, checks and closes its connections. All three are called without
// the pool's lock held, possibly from several threads at once.
struct PoolBackend {
  // Opens a connection. Throws banyan::Unavailable when it cannot.
  std::function<PoolEntry*()> open;
  // A round trip that proves the connection works. Must not throw.
  std::function<bool(PoolEntry&)> validate;
  // Closes and frees it. Must not throw.
  std::function<void(PoolEntry*)> close;
  // Human-readable target for messages ("sqlite:/tmp/crm.db", "mysql://host:3306/db").
  std::string describe;
};

class ConnectionPool {
 public:
  // Starts the housekeeper thread unless `housekeeper` is false (tests call
  // housekeep() themselves). Does not open connections: the first acquire() does, and
  // the housekeeper tops the pool up to min_size.
  ConnectionPool(store::PoolOptions options, PoolBackend backend,
                 std::function<void(const std::string&)> warn,
                 const Clock& clock = Clock::coarse(), bool housekeeper = true);
  // Closes idle connections. Connections still in use are closed when returned.
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Hands out a connection: an idle one (validated first if it sat idle past
  // validation_interval; a broken or expired one is closed and the next tried), a new
  // one while below max_size, else the first one returned to this thread's turn in the
  // FIFO queue. Throws PoolExhausted after acquire_timeout, Unavailable if a connection
  // cannot be opened. Thread-safe.
  PoolEntry& acquire();
  // Takes a connection back. A broken or expired one is closed (and a waiter, if any,
  // is allowed to open a replacement). Thread-safe; never throws.
  void release(PoolEntry& entry) noexcept;

  // One housekeeping pass: closes idle connections past idle_timeout (beyond min_size)
  // and past max_lifetime, opens connections up to min_size, reports leaks.
  void housekeep();

  store::PoolMetrics metrics() const;
  const store::PoolOptions& options() const { return options_; }

 private:
  struct Waiter {
    std::condition_variable ready;
    PoolEntry* handed = nullptr;  // a connection handed over by release()
    bool may_open = false;        // a slot freed by a closed connection, to fill
  };

  bool expired(const PoolEntry& e, PoolClock::time_point now) const;
  PoolEntry& open_new(std::unique_lock<std::mutex>& lock);
  void mark_in_use(PoolEntry& e, PoolClock::time_point now);  // requires mutex_
  void unmark_in_use(PoolEntry& e);                            // requires mutex_
  void close_outside_lock(PoolEntry* e);
  void free_slot();                                            // requires mutex_
  void record_latency(std::uint64_t ns);                       // requires mutex_
  void housekeeper_loop();

  const store::PoolOptions options_;
  const PoolBackend backend_;
  const std::function<void(const std::string&)> warn_;
  const Clock& clock_;

  mutable std::mutex mutex_;
  std::vector<PoolEntry*> idle_;        // guarded by mutex_; back = most recently returned
  std::vector<PoolEntry*> in_use_;      // guarded by mutex_
  std::deque<Waiter*> waiters_;         // guarded by mutex_; front = first to arrive
  std::size_t size_ = 0;                // guarded by mutex_; open + being opened
  store::PoolMetrics counters_;         // guarded by mutex_; gauges filled in metrics()
  bool stopping_ = false;               // guarded by mutex_

  std::condition_variable housekeeper_wake_;
  std::thread housekeeper_;
};

}  // namespace detail
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP
