// What the saga tests share: a bus on a fresh database (MessagingTest), quick retry
// policies and ways to wait for an instance to come to a status.
#pragma once

#include "banyan/builtin_sagas.hpp"
#include "messaging_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {

class SagaTest : public MessagingTest {
 protected:
  using SagaInstance = saga::SagaInstance;
  using SagaOrchestrator = saga::SagaOrchestrator;
  using SagaStatus = saga::SagaStatus;
  using StepContext = saga::StepContext;

  static messaging::RetryPolicy quick(int max_attempts = 3) {
    messaging::RetryPolicy r;
    r.immediate_retries = 0;
    r.max_attempts = max_attempts;
    r.initial_delay = std::chrono::milliseconds(10);
    r.max_delay = std::chrono::milliseconds(50);
    return r;
  }
  // Steps that log what they do; `fail_at` names a step whose action throws `error`.
  saga::SagaDefinition recorder(std::vector<std::string>& log, std::mutex& mutex,
                                const std::string& fail_at = "", bool permanent = true) {
    saga::SagaDefinition def;
    def.name = "recorder";
    def.retry = quick();
    def.lease = std::chrono::seconds(5);
    for (const char* name : {"one", "two", "three"}) {
      saga::Step s;
      s.name = name;
      s.timeout = std::chrono::seconds(2);
      s.action = [&log, &mutex, name = std::string(name), fail_at, permanent](StepContext& ctx) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          log.push_back("do " + name);
        }
        if (name == fail_at) {
          if (permanent) throw messaging::PermanentError(name + " cannot be done");
          throw std::runtime_error(name + " is down");
        }
        ctx.data[name] = "done";
      };
      s.compensation = [&log, &mutex, name = std::string(name)](StepContext&) {
        std::lock_guard<std::mutex> lock(mutex);
        log.push_back("undo " + name);
      };
      def.steps.push_back(s);
    }
    return def;
  }
  std::uint64_t start(const std::string& saga_name, const std::string& key) {
    return db().transact([&](store::UnitOfWork& uow) {
      return SagaOrchestrator::start(uow, saga_name,
                                     {key, {ObjectType::kContact, 1}, {{"who", "test"}}});
    });
  }
  bool ends_as(std::uint64_t id, SagaStatus status) {
    return eventually([&] { return SagaOrchestrator::get(db(), id).status == status; });
  }
};

}  // namespace banyan::test
