// ConnectionPool: Banyan's connection pool, independent of any database driver.
//
// The backends (lib/store/odb/*_connection_factory) plug it into ODB as the connection
// factory: they tell it how to open, check and close a connection, and hand out what it
// gives them. C++14-clean, because the ODB island includes it.
//
// Design, in short (HikariCP's ConcurrentBag is the model):
//  - Connections live in a fixed array of max_size slots. A slot's state (empty, idle,
//    in use, reserved) is an atomic; taking an idle connection is one compare-and-swap,
//    with no lock and no shared counter written, so checkout costs tens of nanoseconds
//    and threads do not queue on a mutex.
//  - Each thread first tries the slot it last returned (its hint), then scans the array
//    from the start: low slots stay hot and high ones age, so the housekeeper can close
//    idle connections beyond min_size.
//  - When the pool is full, callers queue in FIFO order and are served by direct hand-off:
//    a returned connection goes to the oldest waiter, never to a thread that arrives later.
//  - Opening, validating and closing happen outside the lock. Slots are never freed while
//    the pool lives, so a racing compare-and-swap never touches freed memory.
//  - Time comes from a Clock seam, so tests drive ageing without sleeping.
#ifndef BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP
#define BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP

#include <array>
#include <atomic>
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
// connection class from both the driver's connection and this). Only the thread that holds
// the connection touches these fields.
struct PoolEntry {
  virtual ~PoolEntry() = default;
  PoolClock::time_point created_at{};
  PoolClock::time_point returned_at{};  // when it last became idle
  std::size_t slot = 0;                 // its slot in ConnectionPool::slots_
  bool broken = false;                  // set by the backend when a use failed fatally
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

// While one lives, acquire() on this thread takes only a connection it can have at once:
// with the pool full and none idle it throws PoolExhausted rather than queue. For a caller
// with something to fall back on (Engine's policy refresh keeps the cached policy) that
// may already hold a connection of this pool, so that waiting could starve it.
class NoWaitScope {
 public:
  NoWaitScope() noexcept;
  ~NoWaitScope();
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

 private:
  bool outer_;
};

class ConnectionPool {
 public:
  // Starts the housekeeper thread unless `housekeeper` is false (tests call
  // housekeep() themselves). Does not open connections: the first acquire() does, and
  // the housekeeper tops the pool up to min_size.
  ConnectionPool(store::PoolOptions options, PoolBackend backend,
                 std::function<void(const std::string&)> warn, const Clock& clock = Clock::coarse(),
                 bool housekeeper = true);
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
  enum SlotState : int { kEmpty, kIdle, kInUse, kReserved };

  // One place for a connection. Padded to a cache line's size, so threads working on
  // different slots seldom share a line (C++14 has no over-aligned new to do better).
  struct Slot {
    std::atomic<int> state{kEmpty};
    PoolEntry* conn = nullptr;                        // set while not empty; owned by the
                                                      // thread that moved it out of idle
    std::atomic<std::int64_t> acquired_at_ns{0};      // for the leak scan
    std::atomic<std::uint64_t> fast_acquisitions{0};  // written only by the holder
    std::atomic<bool> leak_reported{false};
    char padding[24];
  };

  struct Waiter {
    std::condition_variable ready;
    PoolEntry* handed = nullptr;      // a connection handed over by release()
    std::size_t open_slot = kNoSlot;  // a slot freed by a closed connection, to fill
  };
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);

  bool expired(const PoolEntry& e, PoolClock::time_point now) const;
  // Claims an idle connection without locking, validating or retiring as needed.
  // `count`: record the acquisition in the metrics (false when the caller will, or when
  // the connection goes on to another thread that will).
  PoolEntry* try_take_idle(PoolClock::time_point now, bool count = true);
  PoolEntry* claim(std::size_t slot, PoolClock::time_point now, bool count);
  PoolEntry& acquire_slow();
  // Opens a connection into a slot reserved by the caller; the caller holds it.
  PoolEntry& open_into(std::size_t slot, std::chrono::steady_clock::time_point started);
  // Reserves an empty slot and counts it in size_. Requires mutex_. kNoSlot if full.
  std::size_t reserve_empty_slot();
  // Closes a connection the caller owns and frees its slot (or passes the slot to the
  // first waiter). Never throws.
  void retire(PoolEntry* e, bool broken) noexcept;
  void hand_off_if_waiting(Slot& slot);
  void mark_acquired(Slot& slot, PoolClock::time_point now);
  void record_latency(std::uint64_t ns);
  void housekeeper_loop();

  const store::PoolOptions options_;
  const PoolBackend backend_;
  const std::function<void(const std::string&)> warn_;
  const Clock& clock_;
  const std::uint64_t id_;  // tells this pool's thread-local hints from another pool's
  const std::unique_ptr<Slot[]> slots_;

  std::atomic<std::size_t> waiters_count_{0};
  std::atomic<bool> stopping_{false};

  mutable std::mutex mutex_;
  std::deque<Waiter*> waiters_;  // guarded by mutex_; front = first to arrive
  std::size_t size_ = 0;         // guarded by mutex_; slots not empty

  std::atomic<std::uint64_t> created_{0}, destroyed_{0}, broken_{0}, slow_acquired_{0},
      timeouts_{0}, leaks_{0};
  std::array<std::atomic<std::uint64_t>, 8> latency_{};

  std::condition_variable housekeeper_wake_;
  std::thread housekeeper_;
};

}  // namespace detail
}  // namespace banyan

#endif  // BANYAN_LIB_STORE_POOL_CONNECTION_POOL_HPP
