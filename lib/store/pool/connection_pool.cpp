#include "store/pool/connection_pool.hpp"

#include <ctime>

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
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - since)
          .count());
}

std::int64_t to_ns(PoolClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::atomic<std::uint64_t> next_pool_id{1};

// The slot this thread last returned a connection to, and to which pool.
struct Hint {
  std::uint64_t pool = 0;
  std::size_t slot = 0;
};
thread_local Hint hint;

}  // namespace

const Clock& Clock::coarse() {
  static const CoarseClock clock;
  return clock;
}

ConnectionPool::ConnectionPool(store::PoolOptions options, PoolBackend backend,
                               std::function<void(const std::string&)> warn, const Clock& clock,
                               bool housekeeper)
    : options_(options),
      backend_(std::move(backend)),
      warn_(std::move(warn)),
      clock_(clock),
      id_(next_pool_id.fetch_add(1)),
      slots_(options.max_size > 0 ? new Slot[options.max_size] : nullptr) {
  if (options_.max_size == 0) throw ValidationError("pool max_size must be at least 1", "max_size");
  if (options_.min_size > options_.max_size)
    throw ValidationError("pool min_size must not exceed max_size", "min_size");
  for (auto& bucket : latency_) bucket.store(0);
  if (housekeeper) housekeeper_ = std::thread([this] { housekeeper_loop(); });
}

ConnectionPool::~ConnectionPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  housekeeper_wake_.notify_all();
  if (housekeeper_.joinable()) housekeeper_.join();
  for (std::size_t i = 0; i < options_.max_size; ++i) {
    int expected = kIdle;
    if (slots_[i].state.compare_exchange_strong(expected, kReserved)) {
      backend_.close(slots_[i].conn);
      slots_[i].conn = nullptr;
      slots_[i].state = kEmpty;
    }
  }
}

bool ConnectionPool::expired(const PoolEntry& e, PoolClock::time_point now) const {
  return options_.max_lifetime.count() > 0 && now - e.created_at >= options_.max_lifetime;
}

void ConnectionPool::mark_acquired(Slot& slot, PoolClock::time_point now) {
  slot.acquired_at_ns.store(to_ns(now), std::memory_order_relaxed);
  slot.leak_reported.store(false, std::memory_order_relaxed);
}

void ConnectionPool::record_latency(std::uint64_t ns) {
  std::size_t bucket = 0;
  while (bucket < store::PoolMetrics::kLatencyBoundsNs.size() &&
         ns > store::PoolMetrics::kLatencyBoundsNs[bucket]) {
    ++bucket;
  }
  latency_[bucket].fetch_add(1, std::memory_order_relaxed);
  slow_acquired_.fetch_add(1, std::memory_order_relaxed);
}

PoolEntry* ConnectionPool::claim(std::size_t i, PoolClock::time_point now, bool count) {
  Slot& slot = slots_[i];
  int expected = kIdle;
  if (slot.state.load(std::memory_order_relaxed) != kIdle ||
      !slot.state.compare_exchange_strong(expected, kInUse, std::memory_order_acquire)) {
    return nullptr;
  }
  PoolEntry* e = slot.conn;
  if (expired(*e, now)) {
    retire(e, false);
    return nullptr;
  }
  if (now - e->returned_at >= options_.validation_interval) {
    // Sat idle a while: the server may have dropped it. One round trip, unlocked.
    const auto started = std::chrono::steady_clock::now();
    if (!backend_.validate(*e)) {
      retire(e, true);
      return nullptr;
    }
    mark_acquired(slot, now);
    if (count) record_latency(elapsed_ns(started));
    return e;
  }
  mark_acquired(slot, now);
  // The holder is the only writer of its slot's counter: no contended read-modify-write.
  if (count) {
    slot.fast_acquisitions.store(slot.fast_acquisitions.load(std::memory_order_relaxed) + 1,
                                 std::memory_order_relaxed);
  }
  return e;
}

PoolEntry* ConnectionPool::try_take_idle(PoolClock::time_point now, bool count) {
  if (hint.pool == id_) {
    if (PoolEntry* e = claim(hint.slot, now, count)) return e;
  }
  for (std::size_t i = 0; i < options_.max_size; ++i) {
    if (PoolEntry* e = claim(i, now, count)) return e;
  }
  return nullptr;
}

namespace {
thread_local bool t_no_wait = false;  // a NoWaitScope lives on this thread
}  // namespace

NoWaitScope::NoWaitScope() noexcept : outer_(t_no_wait) { t_no_wait = true; }
NoWaitScope::~NoWaitScope() { t_no_wait = outer_; }

PoolEntry& ConnectionPool::acquire() {
  if (waiters_count_.load() == 0) {
    if (PoolEntry* e = try_take_idle(clock_.now())) return *e;
  }
  return acquire_slow();
}

std::size_t ConnectionPool::reserve_empty_slot() {
  if (size_ >= options_.max_size) return kNoSlot;
  for (std::size_t i = 0; i < options_.max_size; ++i) {
    int expected = kEmpty;
    if (slots_[i].state.compare_exchange_strong(expected, kReserved)) {
      ++size_;
      return i;
    }
  }
  return kNoSlot;
}

PoolEntry& ConnectionPool::open_into(std::size_t i, std::chrono::steady_clock::time_point started) {
  Slot& slot = slots_[i];
  PoolEntry* e = nullptr;
  try {
    e = backend_.open();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    slot.state = kEmpty;
    --size_;
    if (!waiters_.empty()) {
      // Let the next waiter try to open in this slot rather than wait out its timeout.
      const std::size_t again = reserve_empty_slot();
      if (again != kNoSlot) {
        Waiter* w = waiters_.front();
        waiters_.pop_front();
        --waiters_count_;
        w->open_slot = again;
        w->ready.notify_one();
      }
    }
    throw;
  }
  const auto now = clock_.now();
  e->created_at = now;
  e->returned_at = now;
  e->slot = i;
  slot.conn = e;
  mark_acquired(slot, now);
  slot.state.store(kInUse);
  created_.fetch_add(1, std::memory_order_relaxed);
  record_latency(elapsed_ns(started));
  return *e;
}

PoolEntry& ConnectionPool::acquire_slow() {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + options_.acquire_timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  // Another thread may have returned a connection while we came here.
  if (waiters_.empty()) {
    lock.unlock();
    if (PoolEntry* e = try_take_idle(clock_.now())) return *e;
    lock.lock();
  }
  if (waiters_.empty()) {
    const std::size_t i = reserve_empty_slot();
    if (i != kNoSlot) {
      lock.unlock();
      return open_into(i, started);
    }
  }

  if (t_no_wait) {
    throw PoolExhausted("no database connection is free now (all " +
                        std::to_string(options_.max_size) + " in use) for " + backend_.describe);
  }
  // Full: queue up, then look once more (a release may have raced with our arrival:
  // it stores "idle" then reads the waiter count; we raise the count, then scan). What
  // the scan finds belongs to the first waiter, which is not always us.
  Waiter me;
  waiters_.push_back(&me);
  ++waiters_count_;
  lock.unlock();
  PoolEntry* found = try_take_idle(clock_.now(), /*count=*/false);
  lock.lock();
  if (found != nullptr) {
    auto it = std::find(waiters_.begin(), waiters_.end(), &me);
    if (it == waiters_.begin() || it == waiters_.end()) {
      if (it != waiters_.end()) {
        waiters_.erase(it);
        --waiters_count_;
      }
      PoolEntry* extra = me.handed;  // handed one while we scanned: give it back
      const std::size_t extra_slot = me.open_slot;
      lock.unlock();
      if (extra != nullptr) release(*extra);
      if (extra_slot != kNoSlot) {
        std::lock_guard<std::mutex> relock(mutex_);
        slots_[extra_slot].state = kEmpty;
        --size_;
      }
      record_latency(elapsed_ns(started));
      return *found;
    }
    Waiter* first = waiters_.front();
    waiters_.pop_front();
    --waiters_count_;
    first->handed = found;
    first->ready.notify_one();
  }
  while (me.handed == nullptr && me.open_slot == kNoSlot) {
    if (me.ready.wait_until(lock, deadline) == std::cv_status::timeout && me.handed == nullptr &&
        me.open_slot == kNoSlot) {
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
      --waiters_count_;
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      std::size_t in_use = 0;
      for (std::size_t i = 0; i < options_.max_size; ++i)
        if (slots_[i].state.load() == kInUse) ++in_use;
      throw PoolExhausted("no database connection became free within " +
                          std::to_string(options_.acquire_timeout.count()) + " ms (" +
                          std::to_string(in_use) + " of " + std::to_string(options_.max_size) +
                          " in use) for " + backend_.describe);
    }
  }
  lock.unlock();
  if (me.handed != nullptr) {
    mark_acquired(slots_[me.handed->slot], clock_.now());
    record_latency(elapsed_ns(started));
    return *me.handed;
  }
  return open_into(me.open_slot, started);
}

void ConnectionPool::retire(PoolEntry* e, bool broken) noexcept {
  Slot& slot = slots_[e->slot];
  destroyed_.fetch_add(1, std::memory_order_relaxed);
  if (broken) broken_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    slot.conn = nullptr;
    if (!waiters_.empty() && !stopping_) {
      // A waiter gets this slot to open a replacement, ahead of any newcomer.
      Waiter* w = waiters_.front();
      waiters_.pop_front();
      --waiters_count_;
      slot.state = kReserved;
      w->open_slot = e->slot;
      w->ready.notify_one();
    } else {
      slot.state = kEmpty;
      --size_;
    }
  }
  backend_.close(e);
}

void ConnectionPool::hand_off_if_waiting(Slot& slot) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (waiters_.empty()) return;
  int expected = kIdle;
  if (!slot.state.compare_exchange_strong(expected, kInUse)) return;  // someone took it
  Waiter* w = waiters_.front();
  waiters_.pop_front();
  --waiters_count_;
  w->handed = slot.conn;
  w->ready.notify_one();
}

void ConnectionPool::release(PoolEntry& e) noexcept {
  const auto now = clock_.now();
  if (e.broken || expired(e, now) || stopping_.load(std::memory_order_relaxed)) {
    retire(&e, e.broken);
    return;
  }
  e.returned_at = now;
  Slot& slot = slots_[e.slot];
  hint.pool = id_;
  hint.slot = e.slot;
  slot.state.store(kIdle);  // sequentially consistent: pairs with the waiter's count
  if (waiters_count_.load() > 0) hand_off_if_waiting(slot);
}

void ConnectionPool::housekeep() {
  const auto now = clock_.now();
  std::vector<std::string> leaks;
  for (std::size_t i = 0; i < options_.max_size; ++i) {
    Slot& slot = slots_[i];
    const int state = slot.state.load();
    if (state == kIdle) {
      std::size_t size;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        size = size_;
      }
      int expected = kIdle;
      if (!slot.state.compare_exchange_strong(expected, kReserved)) continue;
      PoolEntry* e = slot.conn;
      const bool idle_too_long = options_.idle_timeout.count() > 0 &&
                                 now - e->returned_at >= options_.idle_timeout &&
                                 size > options_.min_size;
      if (expired(*e, now) || idle_too_long) {
        retire(e, false);
      } else {
        slot.state.store(kIdle);
        if (waiters_count_.load() > 0) hand_off_if_waiting(slot);
      }
    } else if (state == kInUse && options_.leak_threshold.count() > 0) {
      const auto held = std::chrono::nanoseconds(to_ns(now) - slot.acquired_at_ns.load());
      if (held >= options_.leak_threshold && !slot.leak_reported.exchange(true)) {
        leaks_.fetch_add(1, std::memory_order_relaxed);
        leaks.push_back(
            "connection pool (" + backend_.describe + "): a connection has been held for " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(held).count()) +
            " ms, past the leak threshold of " + std::to_string(options_.leak_threshold.count()) +
            " ms; is a UnitOfWork kept alive too long?");
      }
    }
  }
  for (const std::string& message : leaks) warn_(message);

  // Top up to min_size, into idle slots.
  for (;;) {
    std::size_t i;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || size_ >= options_.min_size || !waiters_.empty()) return;
      i = reserve_empty_slot();
      if (i == kNoSlot) return;
    }
    PoolEntry* e = nullptr;
    try {
      e = backend_.open();
    } catch (const std::exception& ex) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        slots_[i].state = kEmpty;
        --size_;
      }
      warn_(std::string("connection pool (") + backend_.describe +
            "): could not open a connection to reach min_size: " + ex.what());
      return;
    }
    const auto opened = clock_.now();
    e->created_at = opened;
    e->returned_at = opened;
    e->slot = i;
    slots_[i].conn = e;
    created_.fetch_add(1, std::memory_order_relaxed);
    slots_[i].state.store(kIdle);
    if (waiters_count_.load() > 0) hand_off_if_waiting(slots_[i]);
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
  store::PoolMetrics m;
  std::uint64_t fast = 0;
  for (std::size_t i = 0; i < options_.max_size; ++i) {
    const Slot& slot = slots_[i];
    fast += slot.fast_acquisitions.load(std::memory_order_relaxed);
    const int state = slot.state.load();
    if (state == kInUse) ++m.in_use;
    if (state == kIdle) ++m.idle;
  }
  m.created = created_.load();
  m.destroyed = destroyed_.load();
  m.broken = broken_.load();
  m.acquired = slow_acquired_.load() + fast;
  m.timeouts = timeouts_.load();
  m.leaks = leaks_.load();
  for (std::size_t b = 0; b < m.acquire_latency.size(); ++b)
    m.acquire_latency[b] = latency_[b].load();
  m.acquire_latency[0] += fast;
  std::lock_guard<std::mutex> lock(mutex_);
  m.waiters = waiters_.size();
  return m;
}

}  // namespace detail
}  // namespace banyan
