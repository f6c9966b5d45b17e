// A stand-in for an external billing system, for the deal-won saga's tests: a real HTTP
// server on loopback that can be told to succeed, fail, refuse or hang.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace banyan::test {

class BillingStub {
 public:
  enum class Mode {
    kOk,
    kFail /* 500 */,
    kRefuse /* 422 */,
    kHang /* no answer for 30 s */,
    kSilentOk /* does a POST or DELETE, then gives no answer for 30 s */
  };

  BillingStub();
  ~BillingStub();
  BillingStub(const BillingStub&) = delete;
  BillingStub& operator=(const BillingStub&) = delete;

  // "http://127.0.0.1:<port>/customers"
  std::string url() const;
  void set_mode(Mode m) { mode_.store(m); }

  // Customers created (by idempotency key) and not deleted.
  std::set<std::string> customers();
  int posts() const { return posts_.load(); }
  int deletes() const { return deletes_.load(); }

 private:
  void serve();
  void handle(int fd);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<Mode> mode_{Mode::kOk};
  std::atomic<bool> stopping_{false};
  std::atomic<int> posts_{0}, deletes_{0};
  std::mutex mutex_;
  std::set<std::string> customers_;    // guarded by mutex_
  std::vector<std::thread> handlers_;  // guarded by mutex_
  std::thread acceptor_;
};

}  // namespace banyan::test
