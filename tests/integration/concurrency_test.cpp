// Optimistic concurrency under load: 8 threads x 1000 read-modify-write increments on
// one deal end with the exact total, on both backends.
#include <atomic>
#include <thread>
#include <vector>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

class ConcurrencyTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(ConcurrencyTest);

TEST_P(ConcurrencyTest, EightThreadsIncrementingOneDealLoseNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 1000;
  SalesPipeline p = make_pipeline();
  Id deal = db().transact([&](store::UnitOfWork& uow) {
    Deal d;
    d.title = "Counter";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    return stores(db()).deals().create(uow, d).id;
  });
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        for (;;) {
          try {
            db().transact([&](store::UnitOfWork& uow) {
              Deal d = stores(db()).deals().get(uow, deal);
              d.amount.minor_units += 1;
              stores(db()).deals().update(uow, d);
            });
            break;
          } catch (const Conflict&) {
            ++conflicts;  // someone else won: read again and retry
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Deal final =
      db().transact([&](store::UnitOfWork& uow) { return stores(db()).deals().get(uow, deal); });
  EXPECT_EQ(final.amount.minor_units, kThreads * kIncrements);
  EXPECT_EQ(final.version, 1u + kThreads * kIncrements);
  RecordProperty("conflicts_retried", conflicts.load());
}

}  // namespace
}  // namespace banyan::test
