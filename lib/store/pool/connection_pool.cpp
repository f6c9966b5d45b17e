#include "store/pool/connection_pool.hpp"

#include <time.h>

#include <algorithm>
#include <utility>

#include "banyan/errors.hpp"

namespace banyan {
namespace store {
// C++14 (this file's dialect) needs the definition of an odr-used constexpr member.
constexpr std::array<std::uint64_t, 7> PoolMetrics::kLatencyBoundsNs;
}  // namespace store

namespace detail {
namespace {

class CoarseClock final : public Clock {
 public:
  PoolClock::time_point now() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return PoolClock::time_point(std::chrono::duration_cast<PoolClock::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
};

std::uint64_t elapsed_ns(std::chrono::steady_clock::time_point since) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - since)
                                        .count());
}

}  // namespace

const Clock& Clock::coarse() {
  static const CoarseClock clock;
  return clock;
}

ConnectionPool::ConnectionPool(store::PoolOptions options, PoolBackend backend,
                               std::function<void(const std::string&)> warn,
                               const Clock& clock, bool housekeeper)
    : options_(options), backend_(std::move(backend)), warn_(std::move(warn)), clock_(clock) {
  if (options_.max_size == 0) throw ValidationError("pool max_size must be at least 1", "max_size");
  if (options_.min_size > options_.max_size)
    throw ValidationError("pool min_size must not exceed max_size", "min_size");
  if (housekeeper) housekeeper_ = std::thread([this] { housekeeper_loop(); });
}

ConnectionPool::~ConnectionPool() {
  std::vector<PoolEntry*> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    idle.swap(idle_);
    size_ -= idle.size();
  }
  housekeeper_wake_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
  for (PoolEntry* e : idle) backend_.close(e);
}

bool ConnectionPool::expired(const PoolEntry& e, PoolClock::time_point now) const {
  return options_.max_lifetime.count() > 0 && now - e.created_at >= options_.max_lifetime;
}

void ConnectionPool::mark_in_use(PoolEntry& e, PoolClock::time_point now) {
  e.acquired_at = now;
  e.leak_reported = false;
  e.in_use_index = in_use_.size();
  in_use_.push_back(&e);
  ++counters_.acquired;
}

void ConnectionPool::unmark_in_use(PoolEntry& e) {
  PoolEntry* last = in_use_.back();
  in_use_[e.in_use_index] = last;
  last->in_use_index = e.in_use_index;
  in_use_.pop_back();
}

void ConnectionPool::record_latency(std::uint64_t ns) {
  std::size_t bucket = 0;
  while (bucket < store::PoolMetrics::kLatencyBoundsNs.size() &&
         ns > store::PoolMetrics::kLatencyBoundsNs[bucket]) {
    ++bucket;
  }
  ++counters_.acquire_latency[bucket];
}

void ConnectionPool::free_slot() {
  // A connection was closed: if someone waits, let the first waiter open a replacement
  // rather than letting a newcomer take the slot.
  if (!waiters_.empty() && size_ < options_.max_size) {
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->may_open = true;
    ++size_;
    w->ready.notify_one();
  }
}

void ConnectionPool::close_outside_lock(PoolEntry* e) { backend_.close(e); }

PoolEntry& ConnectionPool::open_new(std::unique_lock<std::mutex>& lock) {
  // The caller has already counted this connection in size_.
  const auto started = std::chrono::steady_clock::now();
  lock.unlock();
  PoolEntry* e = nullptr;
  try {
    e = backend_.open();
  } catch (...) {
    lock.lock();
    --size_;
    free_slot();
    throw;
  }
  const auto now = clock_.now();
  e->created_at = now;
  e->returned_at = now;
  lock.lock();
  ++counters_.created;
  mark_in_use(*e, now);
  record_latency(elapsed_ns(started));
  return *e;
}

PoolEntry& ConnectionPool::acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (!idle_.empty()) {
      PoolEntry* e = idle_.back();
      idle_.pop_back();
      const auto now = clock_.now();
      bool usable = !e->broken && !expired(*e, now);
      if (usable && now - e->returned_at >= options_.validation_interval) {
        // Sat idle a while: the server may have dropped it. One round trip, unlocked.
        const auto started = std::chrono::steady_clock::now();
        lock.unlock();
        usable = backend_.validate(*e);
        lock.lock();
        if (usable) {
          mark_in_use(*e, now);
          record_latency(elapsed_ns(started));
          return *e;
        }
        ++counters_.broken;
      }
      if (!usable) {
        --size_;
        ++counters_.destroyed;
        lock.unlock();
        close_outside_lock(e);
        lock.lock();
        continue;
      }
      mark_in_use(*e, now);
      ++counters_.acquire_latency[0];
      return *e;
    }
    if (size_ < options_.max_size) {
      ++size_;
      return open_new(lock);
    }

    // Full: queue up and wait for a hand-off.
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + options_.acquire_timeout;
    Waiter me;
    waiters_.push_back(&me);
    while (me.handed == nullptr && !me.may_open) {
      if (me.ready.wait_until(lock, deadline) == std::cv_status::timeout &&
          me.handed == nullptr && !me.may_open) {
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
        ++counters_.timeouts;
        throw PoolExhausted("no database connection became free within " +
                            std::to_string(options_.acquire_timeout.count()) + " ms (" +
                            std::to_string(in_use_.size()) + " of " +
                            std::to_string(options_.max_size) + " in use) for " +
                            backend_.describe);
      }
    }
    if (me.handed != nullptr) {
      mark_in_use(*me.handed, clock_.now());
      record_latency(elapsed_ns(started));
      return *me.handed;
    }
    return open_new(lock);  // a closed connection's slot, reserved for us
  }
}

void ConnectionPool::release(PoolEntry& e) noexcept {
  const auto now = clock_.now();
  std::unique_lock<std::mutex> lock(mutex_);
  unmark_in_use(e);
  if (e.broken || expired(e, now) || stopping_) {
    if (e.broken) ++counters_.broken;
    --size_;
    ++counters_.destroyed;
    free_slot();
    lock.unlock();
    close_outside_lock(&e);
    return;
  }
  e.returned_at = now;
  if (!waiters_.empty()) {
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->handed = &e;
    w->ready.notify_one();
    return;
  }
  idle_.push_back(&e);
}

void ConnectionPool::housekeep() {
  const auto now = clock_.now();
  std::vector<PoolEntry*> to_close;
  std::vector<std::string> leaks;
  std::size_t to_open = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // idle_ front is the one idle the longest.
    auto keep = idle_.begin();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      PoolEntry* e = *it;
      const bool idle_too_long = options_.idle_timeout.count() > 0 &&
                                 now - e->returned_at >= options_.idle_timeout &&
                                 size_ > options_.min_size;
      if (expired(*e, now) || idle_too_long) {
        to_close.push_back(e);
        --size_;
        ++counters_.destroyed;
      } else {
        *keep++ = e;
      }
    }
    idle_.erase(keep, idle_.end());
    if (options_.leak_threshold.count() > 0) {
      for (PoolEntry* e : in_use_) {
        if (!e->leak_reported && now - e->acquired_at >= options_.leak_threshold) {
          e->leak_reported = true;
          ++counters_.leaks;
          leaks.push_back(
              "connection pool (" + backend_.describe + "): a connection has been held for " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(now - e->acquired_at)
                      .count()) +
              " ms, past the leak threshold of " +
              std::to_string(options_.leak_threshold.count()) +
              " ms; is a UnitOfWork kept alive too long?");
        }
      }
    }
    if (!stopping_ && size_ < options_.min_size && waiters_.empty()) {
      to_open = options_.min_size - size_;
      size_ += to_open;
    }
  }
  for (PoolEntry* e : to_close) close_outside_lock(e);
  for (const std::string& message : leaks) warn_(message);
  for (std::size_t i = 0; i < to_open; ++i) {
    PoolEntry* e = nullptr;
    try {
      e = backend_.open();
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lock(mutex_);
      size_ -= to_open - i;
      warn_(std::string("connection pool (") + backend_.describe +
            "): could not open a connection to reach min_size: " + ex.what());
      return;
    }
    const auto opened = clock_.now();
    e->created_at = opened;
    e->returned_at = opened;
    std::lock_guard<std::mutex> lock(mutex_);
    ++counters_.created;
    if (!waiters_.empty()) {
      Waiter* w = waiters_.front();
      waiters_.pop_front();
      w->handed = e;
      w->ready.notify_one();
    } else {
      idle_.insert(idle_.begin(), e);  // coldest end: hot connections stay on top
    }
  }
}

void ConnectionPool::housekeeper_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    housekeeper_wake_.wait_for(lock, options_.housekeeping_interval);
    if (stopping_) break;
    lock.unlock();
    housekeep();
    lock.lock();
  }
}

store::PoolMetrics ConnectionPool::metrics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  store::PoolMetrics m = counters_;
  m.in_use = in_use_.size();
  m.idle = idle_.size();
  m.waiters = waiters_.size();
  return m;
}

}  // namespace detail
}  // namespace banyan
