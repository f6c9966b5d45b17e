// What the messaging tests share: a bus on the test's database, quick retry policies, and
// waiting for asynchronous delivery.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {

// Waits until `done` holds, for at most `limit` (generous: the machine is shared). The
// caller asserts on the outcome, so a timeout fails the test with a clear message.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class MessagingTest : public StoreTest {
 protected:
  void TearDown() override {
    buses_.clear();
    StoreTest::TearDown();
  }

  messaging::MessageBus& bus(messaging::BusOptions options = {}) {
    buses_.push_back(std::make_unique<messaging::MessageBus>(db(), std::move(options)));
    return *buses_.back();
  }

  // A queue that retries fast: for tests of the retry path.
  static messaging::QueueSpec queue(std::string name, std::vector<std::string> types,
                                    int max_attempts = 4, int immediate_retries = 1) {
    messaging::QueueSpec q;
    q.name = std::move(name);
    q.event_types = std::move(types);
    q.retry.max_attempts = max_attempts;
    q.retry.immediate_retries = immediate_retries;
    q.retry.initial_delay = std::chrono::milliseconds(20);
    q.retry.max_delay = std::chrono::milliseconds(100);
    q.lease = std::chrono::seconds(5);
    return q;
  }

  Contact add_contact(const std::string& last) {
    return db().transact([&](store::UnitOfWork& uow) {
      return stores(db()).contacts().create(uow, contact("Ada", last));
    });
  }

  std::int64_t count(const std::string& sql) { return std::stoll(scratch().raw(sql)); }

 private:
  std::vector<std::unique_ptr<messaging::MessageBus>> buses_;
};

// Messages seen by a handler, safe to read from the test thread.
struct Seen {
  std::mutex mutex;
  std::vector<messaging::Message> messages;
  void add(const messaging::Message& m) {
    std::lock_guard<std::mutex> lock(mutex);
    messages.push_back(m);
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages.size();
  }
  std::vector<messaging::Message> copy() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages;
  }
};

}  // namespace banyan::test
