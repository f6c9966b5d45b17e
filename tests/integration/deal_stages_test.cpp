// Deal stage history and pipeline summaries on both backends.
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::UnitOfWork;

class DealStagesTest : public StoreTest {
 protected:
  Deal new_deal(const SalesPipeline& p, const Stage& stage, std::int64_t minor,
                const char* currency = "USD") {
    Deal d;
    d.title = "Deal " + std::to_string(minor);
    d.pipeline_id = p.pipeline.id;
    d.stage_id = stage.id;
    d.amount = Money{minor, currency};
    return d;
  }
};
BANYAN_ON_BOTH_BACKENDS(DealStagesTest);

TEST_P(DealStagesTest, RecordsEveryStageChangeWithWhoWhenAndTimeInThePreviousStage) {
  SalesPipeline p = make_pipeline();
  Deal d = db().transact([&](UnitOfWork& uow) { return db().deals().create(uow, new_deal(p, p.lead, 100)); }, 11);
  d.title = "renamed, same stage";
  d = db().transact([&](UnitOfWork& uow) { return db().deals().update(uow, d); }, 12);
  d.stage_id = p.proposal.id;
  d = db().transact([&](UnitOfWork& uow) { return db().deals().update(uow, d); }, 13);
  d.stage_id = p.won.id;
  d = db().transact([&](UnitOfWork& uow) { return db().deals().update(uow, d); }, 14);

  auto history = db().transact([&](UnitOfWork& uow) { return db().deal_stages().history(uow, d.id); });
  ASSERT_EQ(history.size(), 3u) << "a change that keeps the stage is not a stage change";
  EXPECT_EQ(history[0].from_stage_id, std::nullopt);
  EXPECT_EQ(history[0].to_stage_id, p.lead.id);
  EXPECT_EQ(history[0].changed_by, 11u);
  EXPECT_FALSE(history[0].time_in_previous_stage);
  EXPECT_EQ(history[1].from_stage_id, p.lead.id);
  EXPECT_EQ(history[1].to_stage_id, p.proposal.id);
  EXPECT_EQ(history[1].changed_by, 13u);
  EXPECT_EQ(history[2].from_stage_id, p.proposal.id);
  EXPECT_EQ(history[2].to_stage_id, p.won.id);
  EXPECT_EQ(history[2].changed_by, 14u);
  ASSERT_TRUE(history[1].time_in_previous_stage && history[2].time_in_previous_stage);
  EXPECT_EQ(*history[1].time_in_previous_stage, history[1].changed_at - history[0].changed_at);
  EXPECT_EQ(*history[2].time_in_previous_stage, history[2].changed_at - history[1].changed_at);
  EXPECT_EQ(history[2].changed_at, d.updated_at);
}

TEST_P(DealStagesTest, AStageChangeThatRollsBackLeavesNoHistory) {
  SalesPipeline p = make_pipeline();
  Deal d = db().transact([&](UnitOfWork& uow) { return db().deals().create(uow, new_deal(p, p.lead, 100)); });
  {
    UnitOfWork uow = db().begin();
    d.stage_id = p.won.id;
    db().deals().update(uow, d);
  }  // rolled back
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(db().deal_stages().history(uow, d.id).size(), 1u);
    EXPECT_THROW(db().deal_stages().history(uow, 987654), NotFound);
  });
}

TEST_P(DealStagesTest, SummarisesCountAmountAndWeightedAmountPerStageAndCurrency) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    db().deals().create(uow, new_deal(p, p.lead, 1000));
    db().deals().create(uow, new_deal(p, p.lead, 3001));
    db().deals().create(uow, new_deal(p, p.lead, 500, "EUR"));
    db().deals().create(uow, new_deal(p, p.proposal, 9999));
    db().deals().create(uow, new_deal(p, p.won, 700));
    db().deals().create(uow, new_deal(p, p.lost, 2000));
    Deal gone = db().deals().create(uow, new_deal(p, p.proposal, 123456));
    db().deals().archive(uow, gone.id);
  });
  auto s = db().transact([&](UnitOfWork& uow) { return db().deal_stages().summary(uow, p.pipeline.id); });
  EXPECT_EQ(s.pipeline.id, p.pipeline.id);
  ASSERT_EQ(s.stages.size(), 4u);
  EXPECT_EQ(s.stages[0].stage.id, p.lead.id);
  EXPECT_EQ(s.stages[0].deals, 3u);
  EXPECT_EQ(s.stages[0].amount, (std::vector<Money>{{500, "EUR"}, {4001, "USD"}}));
  EXPECT_EQ(s.stages[0].weighted_amount, (std::vector<Money>{{50, "EUR"}, {400, "USD"}}))
      << "10% of each currency, rounded toward zero";
  EXPECT_EQ(s.stages[1].deals, 1u) << "archived deals are left out";
  EXPECT_EQ(s.stages[1].weighted_amount, (std::vector<Money>{{4999, "USD"}}));
  EXPECT_EQ(s.stages[2].amount, (std::vector<Money>{{700, "USD"}}));
  EXPECT_EQ(s.stages[3].amount, (std::vector<Money>{{2000, "USD"}}));
  EXPECT_EQ(s.stages[3].weighted_amount, (std::vector<Money>{{0, "USD"}})) << "a lost stage is at 0%";
  EXPECT_EQ(s.deals, 6u);
  EXPECT_EQ(s.amount, (std::vector<Money>{{500, "EUR"}, {16700, "USD"}}));

  auto open = db().transact([&](UnitOfWork& uow) {
    return db().deal_stages().summary(uow, p.pipeline.id, DealStatus::kOpen);
  });
  EXPECT_EQ(open.deals, 4u) << "the won and the lost deal are left out";
  EXPECT_EQ(open.stages[2].deals, 0u);
  EXPECT_TRUE(open.stages[2].amount.empty());
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { db().deal_stages().summary(uow, 424242); }),
               NotFound);
}

}  // namespace
}  // namespace banyan::test
