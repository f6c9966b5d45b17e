// The sagas that ship with Banyan, on both backends: deal_won (billing, onboarding task,
// a flag and a dead letter when billing fails for good) and lead_conversion (what a
// direct conversion makes, undone when it fails).
#include "billing_stub.hpp"
#include "saga_fixture.hpp"

namespace banyan::test {
namespace {

using namespace std::chrono_literals;

class BuiltinSagaTest : public SagaTest {
 protected:
  std::vector<std::string> tags_of(ObjectRef target) {
    return db().transact([&](store::UnitOfWork& uow) {
      std::vector<std::string> out;
      for (Id t : stores(db()).relations().tags_of(uow, target))
        out.push_back(stores(db()).tags().get(uow, t).name);
      return out;
    });
  }
  std::size_t activities_of(ObjectRef target) {
    return db().transact([&](store::UnitOfWork& uow) {
      return stores(db()).relations().activities_of(uow, target).size();
    });
  }
  // The deal_won saga of a deal, if one started.
  std::optional<saga::SagaInstance> deal_saga(Id deal) {
    return SagaOrchestrator::find(db(), "deal_won", "deal-" + std::to_string(deal));
  }
  // Whether the deal's saga comes to `status` in time.
  bool deal_saga_ends_as(Id deal, SagaStatus status) {
    return eventually([&] {
      const auto s = deal_saga(deal);
      return s && s->status == status;
    });
  }
  // Runs the lead conversion saga for `request` on the bus: its instance id once it comes
  // to `status`, none if it does not in time.
  std::optional<std::uint64_t> run_lead_conversion(const saga::LeadConversionRequest& request,
                                                   SagaStatus status) {
    messaging::MessageBus& b = bus();
    SagaOrchestrator o(db(), b);
    o.define(saga::lead_conversion_saga(quick()));
    b.start();
    const auto id = db().transact(
        [&](store::UnitOfWork& uow) { return saga::start_lead_conversion(uow, request); });
    if (!ends_as(id, status)) return std::nullopt;
    return id;
  }
};
BANYAN_ON_BOTH_BACKENDS(BuiltinSagaTest);

TEST_P(BuiltinSagaTest, AWonDealIsProvisionedInBillingAndGetsAnOnboardingTask) {
  BillingStub billing;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(
      saga::deal_won_saga({.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick()}));
  b.start();
  const Deal deal = won_deal("Big account", {500000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompleted));
  EXPECT_EQ(billing.customers().size(), 1u);
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"onboarding"});
  // Later updates of the won deal start nothing new.
  db().transact([&](store::UnitOfWork& uow) {
    Deal d = stores(db()).deals().get(uow, deal.id);
    d.title = "Bigger account";
    stores(db()).deals().update(uow, d);
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(billing.posts(), 1);
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
}

// The issue this pins: a deal moved to the "Closed won" stage stayed open and the saga never
// ran. Every way of winning a deal starts it: a move to a won stage, and a status.
TEST_P(BuiltinSagaTest, AMoveToAWonStageOrAWonStatusStartsTheDealWonSaga) {
  BillingStub billing;
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(
      saga::deal_won_saga({.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick()}));
  b.start();
  const auto p = make_pipeline();
  auto open_deal = [&](const char* title) {
    return db().transact([&](store::UnitOfWork& uow) {
      Deal d;
      d.title = title;
      d.pipeline_id = p.pipeline.id;
      d.stage_id = p.proposal.id;
      return stores(db()).deals().create(uow, d);
    });
  };
  const Deal moved = open_deal("Moved"), set = open_deal("Set");
  db().transact([&](store::UnitOfWork& uow) {
    Patch<Deal> to_won;
    to_won.values.stage_id = p.won.id;
    to_won.name("stage_id");
    stores(db()).deals().patch(uow, moved.id, to_won);
    Patch<Deal> won;
    won.values.status = DealStatus::kWon;
    won.name("status");
    stores(db()).deals().patch(uow, set.id, won);
  });
  for (const Deal& d : {moved, set}) {
    EXPECT_TRUE(deal_saga_ends_as(d.id, SagaStatus::kCompleted)) << d.title;
  }
  EXPECT_EQ(billing.customers().size(), 2u);
}

TEST_P(BuiltinSagaTest, WhenBillingFailsForGoodTheDealIsFlaggedAndTheFailureIsInTheDlq) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kFail);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick(3)}));
  b.start();
  const Deal deal = won_deal("Big account", {500000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  EXPECT_EQ(billing.posts(), 3);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"billing-failed"});
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 0u);
  auto dlq = messaging::detail::dead_letter_store(db());
  ASSERT_TRUE(eventually([&] { return dlq.list({.queue = "saga.deal_won"}).size() == 1; }));
  EXPECT_NE(dlq.list()[0].last_error.find("billing answered 500"), std::string::npos)
      << dlq.list()[0].last_error;
}

// Billing did the work but its answer never came (timed out, twice): when the saga gives
// up, the billing step is undone too, not only the steps before it.
// The issue this pins: "banyan dlq replay" of the failed billing step said "replayed" and
// did nothing, because the saga had compensated already. Now the replay runs it again.
TEST_P(BuiltinSagaTest, ReplayingTheFailedBillingStepRunsTheSagaAgainToTheEnd) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kFail);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 2s, .retry = quick(2)}));
  b.start();
  const Deal deal = won_deal("Second try", {250000, "EUR"});
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  auto dlq = messaging::detail::dead_letter_store(db(), saga::replay_guard());
  ASSERT_TRUE(eventually([&] { return dlq.list({.queue = "saga.deal_won"}).size() == 1; }));
  billing.set_mode(BillingStub::Mode::kOk);
  const auto report = dlq.replay(messaging::DeadLetterFilter{.queue = "saga.deal_won"});
  EXPECT_EQ(report.replayed, 1u);
  EXPECT_TRUE(report.refused.empty());
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompleted));
  EXPECT_EQ(billing.customers().size(), 1u);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"onboarding"});
  EXPECT_EQ(activities_of({ObjectType::kDeal, deal.id}), 1u);
  const auto instance = *deal_saga(deal.id);
  std::vector<std::string> what;
  for (const auto& h : instance.history) what.push_back(h.step + " " + h.what);
  EXPECT_EQ(what,
            (std::vector<std::string>{"flag_onboarding done", "provision_billing failed",
                                      "flag_onboarding compensated", "provision_billing replayed",
                                      "flag_onboarding done", "provision_billing done",
                                      "create_onboarding_task done"}));
  EXPECT_TRUE(dlq.list({.queue = "saga.deal_won"}).empty()) << "the entry is history now";
}

TEST_P(BuiltinSagaTest, ABillingCallThatMayHaveSucceededIsUndoneWhenTheSagaGivesUp) {
  BillingStub billing;
  billing.set_mode(BillingStub::Mode::kSilentOk);
  messaging::MessageBus& b = bus();
  SagaOrchestrator o(db(), b);
  o.define(saga::deal_won_saga(
      {.billing_url = billing.url(), .billing_timeout = 1s, .retry = quick(2)}));
  b.start();
  const Deal deal = won_deal("Silent", {100000, "EUR"});
  ASSERT_TRUE(eventually([&] { return billing.posts() == 2; }));
  EXPECT_EQ(billing.customers().size(), 1u) << "both unanswered calls made the one customer";
  billing.set_mode(BillingStub::Mode::kOk);  // the compensation is answered
  ASSERT_TRUE(deal_saga_ends_as(deal.id, SagaStatus::kCompensated));
  EXPECT_TRUE(billing.customers().empty())
      << "the customer the unanswered call made is left in billing";
  EXPECT_EQ(billing.deletes(), 1);
  EXPECT_EQ(tags_of({ObjectType::kDeal, deal.id}), std::vector<std::string>{"billing-failed"});
  const auto s = *deal_saga(deal.id);
  std::vector<std::string> what;
  for (const auto& h : s.history) what.push_back(h.step + " " + h.what);
  EXPECT_EQ(what, (std::vector<std::string>{
                      "flag_onboarding done", "provision_billing outcome_unknown",
                      "provision_billing compensated", "flag_onboarding compensated"}));
}

TEST_P(BuiltinSagaTest, ALeadIsConvertedAcrossMessages) {
  auto p = make_pipeline();
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Lead l;
    l.first_name = "Grace";
    l.last_name = "Hopper";
    l.email = "grace@navy.example";
    l.company_name = "Navy";
    return stores(db()).leads().create(uow, l);
  });
  const auto run =
      run_lead_conversion({lead.id, p.pipeline.id, Money{120000, "USD"}}, SagaStatus::kCompleted);
  ASSERT_TRUE(run.has_value());
  const std::uint64_t id = *run;
  const auto s = SagaOrchestrator::get(db(), id);
  db().transact([&](store::UnitOfWork& uow) {
    const Lead converted = stores(db()).leads().get(uow, lead.id);
    EXPECT_EQ(converted.status, LeadStatus::kConverted);
    EXPECT_EQ(converted.converted_contact_id, std::stoull(s.data.at("contact_id")));
    EXPECT_EQ(converted.converted_company_id, std::stoull(s.data.at("company_id")));
    const Deal deal = stores(db()).deals().get(uow, std::stoull(s.data.at("deal_id")));
    EXPECT_EQ(deal.stage_id, p.lead.id);  // the pipeline's first stage
    EXPECT_EQ(deal.amount.minor_units, 120000);
    EXPECT_EQ(stores(db()).companies().get(uow, *deal.company_id).name, "Navy");
  });
  // The saga's writes are the system principal's, and the trail names the saga and step.
  const auto trail = db().read([&](store::UnitOfWork& uow) {
    store::AuditQuery q;
    q.object = ObjectRef{ObjectType::kContact, std::stoull(s.data.at("contact_id"))};
    return stores(db()).audit().query(uow, q);
  });
  // Created, then linked to its company (the link is an entry of its own).
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[0].action, "created");
  EXPECT_EQ(trail[0].actor, "system");
  EXPECT_EQ(trail[0].actor_id, std::nullopt);
  EXPECT_EQ(trail[0].origin, "saga lead_conversion #" + std::to_string(id) + " create_contact");
  EXPECT_EQ(trail[1].action, "linked");
  EXPECT_EQ(trail[1].actor, "system");
  EXPECT_EQ(trail[1].changes.find("company." + s.data.at("company_id")), 2u) << trail[1].changes;
}

// The saga and a direct conversion (LeadConverter::convert) run the same steps: twin leads
// become twin records, custom values and company matching included.
TEST_P(BuiltinSagaTest, TheSagaMakesWhatADirectConversionMakes) {
  auto p = make_pipeline();
  db().transact([&](store::UnitOfWork& uow) {
    for (ObjectType on : {ObjectType::kLead, ObjectType::kContact}) {
      CustomFieldDefinition d;
      d.object_type = on;
      d.name = "campaign";
      d.type = CustomFieldType::kText;
      stores(db()).custom_fields().define(uow, d);
    }
    Company known;
    known.name = "Initech Inc.";
    known.domain = "initech.example";
    stores(db()).companies().create(uow, known);
  });
  const auto twin = [&](const char* email) {
    return db().transact([&](store::UnitOfWork& uow) {
      Lead l;
      l.first_name = "Peter";
      l.last_name = "Gibbons";
      l.email = email;
      l.phone = "+1 555 0100";
      l.company_name = "Initech";
      l.custom = {{"campaign", std::string("spring")}};
      return stores(db()).leads().create(uow, l);
    });
  };
  const Lead direct_lead = twin("peter@initech.example");
  const Lead saga_lead = twin("peter@initech.example");

  const store::ConversionResult direct = db().transact([&](store::UnitOfWork& uow) {
    store::LeadConversion request;
    request.lead_id = direct_lead.id;
    request.deal = store::LeadConversion::NewDeal{};
    request.deal->pipeline_id = p.pipeline.id;
    request.deal->amount = Money{120000, "USD"};
    return stores(db()).lead_converter().convert(uow, request);
  });
  ASSERT_TRUE(run_lead_conversion({saga_lead.id, p.pipeline.id, Money{120000, "USD"}},
                                  SagaStatus::kCompleted)
                  .has_value());
  db().transact([&](store::UnitOfWork& uow) {
    const Lead converted = stores(db()).leads().get(uow, saga_lead.id);
    const Contact contact = stores(db()).contacts().get(uow, *converted.converted_contact_id);
    EXPECT_EQ(contact.first_name, direct.contact.first_name);
    EXPECT_EQ(contact.email, direct.contact.email);
    EXPECT_EQ(contact.phone, direct.contact.phone);
    EXPECT_EQ(contact.custom, direct.contact.custom);
    EXPECT_EQ(contact.custom.count("campaign"), 1u) << "the custom value carried over";
    EXPECT_EQ(converted.converted_company_id, direct.company.id)
        << "both matched the company by the email domain";
    EXPECT_FALSE(direct.company_created);
    const Deal deal = stores(db()).deals().get(uow, *converted.converted_deal_id);
    EXPECT_EQ(deal.title, direct.deal->title);
    EXPECT_EQ(deal.stage_id, direct.deal->stage_id);
    EXPECT_EQ(deal.stage_id, p.lead.id) << "the pipeline's first stage";
    EXPECT_EQ(deal.amount.minor_units, direct.deal->amount.minor_units);
    EXPECT_EQ(deal.company_id, direct.deal->company_id);
  });
}

// A company the saga matched rather than made is not its to undo.
TEST_P(BuiltinSagaTest, AFailedLeadConversionLeavesAMatchedCompanyAlone) {
  const Pipeline empty = db().transact([&](store::UnitOfWork& uow) {
    return stores(db()).pipelines().create(uow, named<Pipeline>("Empty"));
  });
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Company known;
    known.name = "Initech";
    known.domain = "initech.example";
    stores(db()).companies().create(uow, known);
    Lead l;
    l.first_name = "Peter";
    l.last_name = "Gibbons";
    l.email = "peter@initech.example";
    return stores(db()).leads().create(uow, l);
  });
  ASSERT_TRUE(
      run_lead_conversion({lead.id, empty.id, std::nullopt}, SagaStatus::kCompensated).has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM contacts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM companies WHERE archived_at IS NULL"), 1);
}

TEST_P(BuiltinSagaTest, AFailedLeadConversionUndoesWhatItCreated) {
  const Pipeline empty = db().transact([&](store::UnitOfWork& uow) {
    return stores(db()).pipelines().create(uow, named<Pipeline>("Empty"));
  });
  const Lead lead = db().transact([&](store::UnitOfWork& uow) {
    Lead l;
    l.first_name = "Ada";
    l.last_name = "Lovelace";
    l.company_name = "Analytical Engines";
    return stores(db()).leads().create(uow, l);
  });
  const auto run = run_lead_conversion({lead.id, empty.id, std::nullopt}, SagaStatus::kCompensated);
  ASSERT_TRUE(run.has_value());
  const std::uint64_t id = *run;
  EXPECT_EQ(count("SELECT COUNT(*) FROM contacts"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM companies"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deals"), 0);
  db().transact([&](store::UnitOfWork& uow) {
    EXPECT_FALSE(stores(db()).leads().get(uow, lead.id).converted());
  });
  EXPECT_NE(SagaOrchestrator::get(db(), id).error.find("has no stages"), std::string::npos);
}

}  // namespace
}  // namespace banyan::test
