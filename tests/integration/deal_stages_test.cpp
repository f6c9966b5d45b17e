// Deal stage history and pipeline summaries on both backends; stage kinds, and the status,
// stage and close time of deals that agree with them.
#include "store/stores.hpp"
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
  Deal create(const Deal& d) {
    return db().transact([&](UnitOfWork& uow) { return stores(db()).deals().create(uow, d); });
  }
  Deal stored(Id id) {
    return db().read([&](UnitOfWork& uow) { return stores(db()).deals().get(uow, id); });
  }
  WriteResult<Deal> patch(Id id, const Patch<Deal>& p) {
    return db().transact([&](UnitOfWork& uow) { return stores(db()).deals().patch(uow, id, p); });
  }
  Patch<Deal> stage_patch(Id stage) {
    Patch<Deal> p;
    p.values.stage_id = stage;
    p.name("stage_id");
    return p;
  }
  Patch<Deal> status_patch(DealStatus status) {
    Patch<Deal> p;
    p.values.status = status;
    p.name("status");
    return p;
  }
  // Expects `work` to throw E naming `field`, and the deal to be as it was.
  template <typename E>
  void refused(Id deal, const std::function<void()>& work, const std::string& field) {
    const Deal before = stored(deal);
    try {
      work();
      ADD_FAILURE() << "accepted; expected a refusal naming " << field;
    } catch (const E& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
    EXPECT_EQ(stored(deal), before);
  }
};
BANYAN_ON_BOTH_BACKENDS(DealStagesTest);

TEST_P(DealStagesTest, RecordsEveryStageChangeWithWhoWhenAndTimeInThePreviousStage) {
  SalesPipeline p = make_pipeline();
  Deal d = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).deals().create(uow, new_deal(p, p.lead, 100)); },
      11);
  d.title = "renamed, same stage";
  d = db().transact([&](UnitOfWork& uow) { return stores(db()).deals().update(uow, d); }, 12);
  d.stage_id = p.proposal.id;
  d = db().transact([&](UnitOfWork& uow) { return stores(db()).deals().update(uow, d); }, 13);
  d.stage_id = p.won.id;
  d = db().transact([&](UnitOfWork& uow) { return stores(db()).deals().update(uow, d); }, 14);

  auto history =
      db().transact([&](UnitOfWork& uow) { return stores(db()).deal_stages().history(uow, d.id); });
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
  Deal d = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).deals().create(uow, new_deal(p, p.lead, 100)); });
  {
    UnitOfWork uow = db().begin();
    d.stage_id = p.won.id;
    stores(db()).deals().update(uow, d);
  }  // rolled back
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).deal_stages().history(uow, d.id).size(), 1u);
    EXPECT_THROW(stores(db()).deal_stages().history(uow, 987654), NotFound);
  });
}

TEST_P(DealStagesTest, SummarisesCountAmountAndWeightedAmountPerStageAndCurrency) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    stores(db()).deals().create(uow, new_deal(p, p.lead, 1000));
    stores(db()).deals().create(uow, new_deal(p, p.lead, 3001));
    stores(db()).deals().create(uow, new_deal(p, p.lead, 500, "EUR"));
    stores(db()).deals().create(uow, new_deal(p, p.proposal, 9999));
    stores(db()).deals().create(uow, new_deal(p, p.won, 700));
    stores(db()).deals().create(uow, new_deal(p, p.lost, 2000));
    Deal gone = stores(db()).deals().create(uow, new_deal(p, p.proposal, 123456));
    stores(db()).deals().archive(uow, gone.id);
  });
  auto s = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).deal_stages().summary(uow, p.pipeline.id); });
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
  EXPECT_EQ(s.stages[3].weighted_amount, (std::vector<Money>{{0, "USD"}}))
      << "a lost stage is at 0%";
  EXPECT_EQ(s.deals, 6u);
  EXPECT_EQ(s.amount, (std::vector<Money>{{500, "EUR"}, {16700, "USD"}}));

  auto open = db().transact([&](UnitOfWork& uow) {
    return stores(db()).deal_stages().summary(uow, p.pipeline.id, DealStatus::kOpen);
  });
  EXPECT_EQ(open.deals, 4u) << "the won and the lost deal are left out";
  EXPECT_EQ(open.stages[2].deals, 0u);
  EXPECT_TRUE(open.stages[2].amount.empty());
  EXPECT_THROW(
      db().transact([&](UnitOfWork& uow) { stores(db()).deal_stages().summary(uow, 424242); }),
      NotFound);
}

TEST_P(DealStagesTest, AMoveToAWonOrLostStageWinsOrLosesTheDealWithItsEvents) {
  SalesPipeline p = make_pipeline();
  const Deal d = create(new_deal(p, p.lead, 100));
  EXPECT_EQ(d.status, DealStatus::kOpen);
  EXPECT_FALSE(d.closed_at);
  const auto since = last_sequence();
  const Deal won = patch(d.id, stage_patch(p.won.id)).record;
  EXPECT_EQ(won.status, DealStatus::kWon);
  ASSERT_TRUE(won.closed_at);
  EXPECT_GT(*won.closed_at, d.updated_at);
  EXPECT_LE(*won.closed_at, won.updated_at) << "closed by this write";
  EXPECT_EQ(types(since),
            (std::vector<std::string>{"deal.updated", "deal.won", "deal.stage_changed"}));

  const Deal other = create(new_deal(p, p.proposal, 200));
  const Deal lost = patch(other.id, stage_patch(p.lost.id)).record;
  EXPECT_EQ(lost.status, DealStatus::kLost);
  EXPECT_TRUE(lost.closed_at);
  // A whole-record update that moves the stage does the same.
  Deal third = create(new_deal(p, p.lead, 300));
  third.stage_id = p.won.id;
  third = db().transact([&](UnitOfWork& uow) { return stores(db()).deals().update(uow, third); });
  EXPECT_EQ(third.status, DealStatus::kWon);
}

TEST_P(DealStagesTest, SettingTheStatusMovesTheDealToItsPipelinesStageOfThatKind) {
  SalesPipeline p = make_pipeline();
  const Deal d = create(new_deal(p, p.proposal, 100));
  const auto since = last_sequence();
  const Deal won = patch(d.id, status_patch(DealStatus::kWon)).record;
  EXPECT_EQ(won.stage_id, p.won.id);
  EXPECT_TRUE(won.closed_at);
  EXPECT_EQ(types(since),
            (std::vector<std::string>{"deal.updated", "deal.won", "deal.stage_changed"}))
      << "the same events as a move";
  const Deal other = create(new_deal(p, p.lead, 200));
  EXPECT_EQ(patch(other.id, status_patch(DealStatus::kLost)).record.stage_id, p.lost.id);
  // A deal created won lands in the won stage only if it says so; else it must agree.
  Deal made_won = new_deal(p, p.won, 300);
  EXPECT_EQ(create(made_won).status, DealStatus::kWon)
      << "on create, open means: as the stage says";
  Deal imported = new_deal(p, p.won, 400);
  imported.status = DealStatus::kWon;
  imported.closed_at = Timestamp(std::chrono::sys_days{std::chrono::year{2019} / 2 / 11});
  EXPECT_EQ(create(imported).closed_at, imported.closed_at)
      << "a given close time is kept (imports)";
  Deal wrong = new_deal(p, p.lead, 500);
  wrong.status = DealStatus::kWon;
  try {
    create(wrong);
    ADD_FAILURE();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "status");
  }
}

TEST_P(DealStagesTest, InconsistentCombinationsAreRefusedNamingTheFieldAndChangeNothing) {
  SalesPipeline p = make_pipeline();
  const Deal d = create(new_deal(p, p.lead, 100));
  Patch<Deal> both = stage_patch(p.won.id);
  both.values.status = DealStatus::kLost;
  both.name("status");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, both); }, "status");
  Patch<Deal> open_closed = stage_patch(p.won.id);
  open_closed.values.status = DealStatus::kOpen;
  open_closed.name("status");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, open_closed); }, "status");
  Patch<Deal> close_open;
  close_open.values.closed_at = Timestamp{};
  close_open.name("closed_at");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, close_open); }, "closed_at");
  // Agreeing values go through.
  both.values.status = DealStatus::kWon;
  EXPECT_EQ(patch(d.id, both).record.status, DealStatus::kWon);
}

TEST_P(DealStagesTest, AClosedDealMovesOnlyOnceReopened) {
  SalesPipeline p = make_pipeline();
  Deal d = create(new_deal(p, p.proposal, 100));
  d = patch(d.id, stage_patch(p.won.id)).record;
  refused<ValidationError>(
      d.id, [&] { patch(d.id, stage_patch(p.lead.id)); }, "stage_id");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, stage_patch(p.lost.id)); }, "stage_id");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, status_patch(DealStatus::kOpen)); }, "status");
  refused<ValidationError>(
      d.id, [&] { patch(d.id, status_patch(DealStatus::kLost)); }, "status");
  // Naming what it already is, or changing other fields, is fine.
  EXPECT_EQ(patch(d.id, status_patch(DealStatus::kWon)).outcome, WriteOutcome::kUnchanged);
  Patch<Deal> title;
  title.values.title = "Renewal";
  title.name("title");
  EXPECT_EQ(patch(d.id, title).record.closed_at, d.closed_at);

  const auto since = last_sequence();
  const Deal reopened =
      db().transact([&](UnitOfWork& uow) { return stores(db()).deal_stages().reopen(uow, d.id); });
  EXPECT_EQ(reopened.status, DealStatus::kOpen);
  EXPECT_FALSE(reopened.closed_at);
  EXPECT_EQ(reopened.stage_id, p.proposal.id) << "back to the stage it left";
  EXPECT_EQ(types(since), (std::vector<std::string>{"deal.reopened", "deal.stage_changed"}));
  db().read([&](UnitOfWork& uow) {
    const auto trail = stores(db()).audit().history(uow, {ObjectType::kDeal, d.id}, "status");
    ASSERT_FALSE(trail.empty());
    EXPECT_EQ(trail.back().action, "reopened");
  });
  refused<Conflict>(
      d.id,
      [&] {
        db().transact([&](UnitOfWork& uow) { stores(db()).deal_stages().reopen(uow, d.id); });
      },
      "status");
  // Into a stage of one's choosing: an open one of its pipeline.
  patch(d.id, status_patch(DealStatus::kLost));
  refused<ValidationError>(
      d.id,
      [&] {
        db().transact(
            [&](UnitOfWork& uow) { stores(db()).deal_stages().reopen(uow, d.id, p.won.id); });
      },
      "stage_id");
  SalesPipeline elsewhere = make_pipeline("Elsewhere");
  refused<ValidationError>(
      d.id,
      [&] {
        db().transact([&](UnitOfWork& uow) {
          stores(db()).deal_stages().reopen(uow, d.id, elsewhere.lead.id);
        });
      },
      "stage_id");
  refused<Conflict>(
      d.id,
      [&] {
        db().transact(
            [&](UnitOfWork& uow) { stores(db()).deal_stages().reopen(uow, d.id, p.lead.id, 1); });
      },
      "version");
  EXPECT_EQ(db().transact([&](UnitOfWork& uow) {
                  return stores(db()).deal_stages().reopen(uow, d.id, p.lead.id);
                })
                .stage_id,
            p.lead.id);
}

TEST_P(DealStagesTest, DealsNeedAPipelineWithAStageOfEachKind) {
  const auto [pipeline, open] = db().transact([&](UnitOfWork& uow) {
    const Pipeline pl = stores(db()).pipelines().create(uow, named<Pipeline>("Half"));
    Stage s;
    s.pipeline_id = pl.id;
    s.name = "Open";
    return std::pair{pl, stores(db()).stages().create(uow, s)};
  });
  Deal d;
  d.title = "Nowhere to go";
  d.pipeline_id = pipeline.id;
  d.stage_id = open.id;
  try {
    create(d);
    ADD_FAILURE();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "pipeline_id");
    EXPECT_NE(std::string(e.what()).find("won, lost"), std::string::npos) << e.what();
  }
  db().read([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).deals().count(uow), 0u); });
}

TEST_P(DealStagesTest, APipelineHoldingDealsKeepsAStageOfEachKindAndStagesWithDealsKeepTheirKind) {
  SalesPipeline p = make_pipeline();
  const Deal d = create(new_deal(p, p.lead, 100));
  auto change_stage = [&](Stage s) {
    db().transact([&](UnitOfWork& uow) { stores(db()).stages().update(uow, s); });
  };
  auto stage_is_kept = [&](const Stage& s, const std::function<void()>& work,
                           const std::string& field) {
    try {
      work();
      ADD_FAILURE() << "accepted";
    } catch (const Conflict& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
    db().read([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).stages().get(uow, s.id), s); });
  };
  Stage lead = p.lead;
  lead.kind = StageKind::kWon;
  stage_is_kept(
      p.lead, [&] { change_stage(lead); }, "kind");  // it holds the deal
  Stage won = p.won;
  won.kind = StageKind::kOpen;
  stage_is_kept(
      p.won, [&] { change_stage(won); }, "kind");  // the pipeline's last won stage
  stage_is_kept(
      p.lost,
      [&] {
        db().transact([&](UnitOfWork& uow) { stores(db()).stages().remove(uow, p.lost.id); });
      },
      "id");
  SalesPipeline elsewhere = make_pipeline("Elsewhere");
  Stage moved = p.lead;
  moved.pipeline_id = elsewhere.pipeline.id;
  moved.position = 99;
  stage_is_kept(
      p.lead, [&] { change_stage(moved); }, "pipeline_id");
  // A second won stage may become open; a pipeline without deals changes freely.
  Stage second = p.proposal;
  second.kind = StageKind::kWon;
  change_stage(second);
  won = db().read([&](UnitOfWork& uow) { return stores(db()).stages().get(uow, p.won.id); });
  won.kind = StageKind::kOpen;
  change_stage(won);
  db().transact([&](UnitOfWork& uow) { stores(db()).stages().remove(uow, elsewhere.lost.id); });
  EXPECT_EQ(stored(d.id).status, DealStatus::kOpen);
}

// Schema 14 tells each existing pipeline's won and lost stages by their old names and
// probabilities; a pipeline where it cannot takes no deals until an administrator says.
TEST_P(DealStagesTest, AnOlderDatabaseLearnsItsStageKindsFromTheirNames) {
  ScratchDatabase old(GetParam());
  old.load_script(std::string(BANYAN_FIXTURES_DIR) + "/schema_v1/" +
                  (GetParam() == Backend::kSqlite ? "sqlite.sql" : "mysql.sql"));
  // A second pipeline of that time: its "won" stage is the likeliest, a "lost" one sits at
  // 0%, and a 0% stage not named so stays open.
  old.raw(
      "INSERT INTO pipelines (id, version, created_at, updated_at, name) VALUES (2, 1, 1, 1, "
      "'Renewals')");
  auto stage = [&](int id, const char* name, int position, int probability) {
    old.raw(
        "INSERT INTO stages (id, version, created_at, updated_at, pipeline_id, name, position, "
        "win_probability) "
        "VALUES (" +
        std::to_string(id) + ", 1, 1, 1, 2, '" + name + "', " + std::to_string(position) + ", " +
        std::to_string(probability) + ")");
  };
  stage(10, "Parked", 1, 0);
  stage(11, "Won (verbal)", 2, 90);
  stage(12, "Signed", 3, 100);
  stage(13, "Lost to a competitor", 4, 0);
  auto db = old.open();
  db->transact([&](UnitOfWork& uow) {
    auto kind = [&](Id id) { return stores(*db).stages().get(uow, id).kind; };
    EXPECT_EQ(kind(5), StageKind::kWon) << "Closed won, at 100%";
    for (Id id : {1, 2, 3, 4, 10, 11}) EXPECT_EQ(kind(id), StageKind::kOpen) << id;
    EXPECT_EQ(kind(12), StageKind::kWon) << "the likeliest of the stages named won or at 100%";
    EXPECT_EQ(kind(13), StageKind::kLost);
    const Deal won = stores(*db).deals().get(uow, 5);
    EXPECT_EQ(won.status, DealStatus::kWon);
    EXPECT_EQ(won.closed_at, won.updated_at) << "a deal closed before takes its last update";
    EXPECT_FALSE(stores(*db).deals().get(uow, 1).closed_at);
  });
  // The demo pipeline has no lost stage: no new deals there until it has one.
  Deal d;
  d.title = "After the upgrade";
  d.pipeline_id = 1;
  d.stage_id = 1;
  try {
    db->transact([&](UnitOfWork& uow) { stores(*db).deals().create(uow, d); });
    ADD_FAILURE();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "pipeline_id");
  }
  db->transact([&](UnitOfWork& uow) {
    Stage lost;
    lost.pipeline_id = 1;
    lost.name = "Closed lost";
    lost.position = 6;
    lost.kind = StageKind::kLost;
    stores(*db).stages().create(uow, lost);
    EXPECT_EQ(stores(*db).deals().create(uow, d).status, DealStatus::kOpen);
  });
}

}  // namespace
}  // namespace banyan::test
