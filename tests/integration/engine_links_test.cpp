// The service layer beyond single records: links, custom field definitions, pipeline
// summaries, idempotent writes, refusals in the audit trail and an application's own
// events, each checked against the principal on both backends (the fixture and its
// instantiation: engine_fixture.hpp, engine_test.cpp).
#include "engine_fixture.hpp"
#include "security/role_store.hpp"

namespace banyan::test {
namespace {

using security::Action;
using security::Principal;
using security::Scope;

TEST_P(EngineTest, LinkingNeedsUpdateOnTheOwningSideAndReadOnTheOtherAndRefusalsChangeNothing) {
  const auto eastern = placed<Company>(db(), "Eastern", rep, east);
  const auto western = placed<Company>(db(), "Western", westerner, west);
  const auto vip = placed<Tag>(db(), "vip", rep, east);
  const auto links = [&](Id contact) {
    return db().read([&](store::UnitOfWork& uow) {
      return stores(db()).relations().companies_of(uow, contact).size();
    });
  };
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    as_rep.link_company(uow, own.id, eastern.id, /*primary=*/true);
    as_rep.tag(uow, vip.id, {ObjectType::kContact, own.id});
  });
  EXPECT_EQ(links(own.id), 1u);
  // A teammate's contact is readable but not the rep's to change; a western company is
  // not readable at all, so it does not exist for the rep.
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).link_company(uow, teammates.id, eastern.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).link_company(uow, own.id, western.id);
  }),
               NotFound);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).tag(uow, vip.id, {ObjectType::kContact, teammates.id});
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(reader).unlink_company(uow, own.id, eastern.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(westerner).unlink_company(uow, own.id, eastern.id);
  }),
               NotFound);
  EXPECT_EQ(links(own.id), 1u);
  EXPECT_EQ(links(teammates.id), 0u);
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_TRUE(
        stores(db()).relations().tags_of(uow, {ObjectType::kContact, teammates.id}).empty());
  });
}

TEST_P(EngineTest, AListOfLinksNamesOnlyTheRecordsThePrincipalMayRead) {
  const auto eastern = placed<Company>(db(), "Eastern", rep, east);
  const auto western = placed<Company>(db(), "Western", westerner, west);
  const auto vip = placed<Tag>(db(), "vip", admin, east);
  const auto secret = placed<Tag>(db(), "secret", admin, west);
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_admin = engine().relations(admin);
    as_admin.link_company(uow, own.id, eastern.id);
    as_admin.link_company(uow, own.id, western.id);
    as_admin.link_company(uow, westerners.id, western.id);
    as_admin.tag(uow, vip.id, {ObjectType::kContact, own.id});
    as_admin.tag(uow, secret.id, {ObjectType::kContact, own.id});
    as_admin.tag(uow, vip.id, {ObjectType::kContact, westerners.id});
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    const auto companies = as_rep.companies_of(uow, own.id);
    ASSERT_EQ(companies.size(), 1u);
    EXPECT_EQ(companies.front().company_id, eastern.id);
    EXPECT_EQ(as_rep.tags_of(uow, {ObjectType::kContact, own.id}), std::vector<Id>{vip.id});
    EXPECT_EQ(as_rep.tagged_with(uow, vip.id),
              (std::vector<ObjectRef>{{ObjectType::kContact, own.id}}));
    EXPECT_THROW(as_rep.contacts_of(uow, western.id), NotFound);
    EXPECT_THROW(as_rep.tags_of(uow, {ObjectType::kContact, westerners.id}), NotFound);
    EXPECT_EQ(engine().relations(admin).companies_of(uow, own.id).size(), 2u);
    EXPECT_EQ(engine().relations(admin).contacts_of(uow, western.id).size(), 2u);
    EXPECT_THROW(engine().relations(nobody).companies_of(uow, own.id), NotFound);
  });
}

TEST_P(EngineTest, DealContactsAndActivityTargetsAreCheckedAsOtherLinksAre) {
  const auto sales = make_pipeline();
  const auto [deal, activity] = db().transact([&](store::UnitOfWork& uow) {
    Deal d;
    d.title = "Big one";
    d.pipeline_id = sales.pipeline.id;
    d.stage_id = sales.lead.id;
    d.owner_id = rep.user_id;
    d.team_id = east;
    Activity a;
    a.subject = "Call";
    a.owner_id = rep.user_id;
    a.team_id = east;
    return std::pair{stores(db()).deals().create(uow, d), stores(db()).activities().create(uow, a)};
  });
  db().transact([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    as_rep.add_deal_contact(uow, deal.id, teammates.id, DealRole::kDecisionMaker);
    as_rep.link_activity(uow, activity.id, {ObjectType::kContact, teammates.id});
  });
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(rep).add_deal_contact(uow, deal.id, westerners.id, DealRole::kOther);
  }),
               NotFound);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(teammate).remove_deal_contact(uow, deal.id, teammates.id);
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().relations(teammate).unlink_activity(uow, activity.id,
                                                 {ObjectType::kContact, teammates.id});
  }),
               PermissionDenied);
  db().transact([&](store::UnitOfWork& uow) {
    engine().relations(admin).add_deal_contact(uow, deal.id, westerners.id, DealRole::kOther);
    engine().relations(admin).link_activity(uow, activity.id,
                                            {ObjectType::kContact, westerners.id});
  });
  db().read([&](store::UnitOfWork& uow) {
    const auto as_rep = engine().relations(rep);
    const auto contacts = as_rep.deal_contacts(uow, deal.id);
    ASSERT_EQ(contacts.size(), 1u);
    EXPECT_EQ(contacts.front().contact_id, teammates.id);
    EXPECT_EQ(contacts.front().role, DealRole::kDecisionMaker);
    EXPECT_EQ(as_rep.activity_targets(uow, activity.id),
              (std::vector<ObjectRef>{{ObjectType::kContact, teammates.id}}));
    EXPECT_EQ(as_rep.activities_of(uow, {ObjectType::kContact, teammates.id}),
              std::vector<Id>{activity.id});
    EXPECT_EQ(engine().relations(admin).deal_contacts(uow, deal.id).size(), 2u);
    EXPECT_THROW(engine().relations(westerner).deal_contacts(uow, deal.id), NotFound);
  });
}

TEST_P(EngineTest, CustomFieldDefinitionsAreReadWithTheirTypeAndChangedOnlyByItsAdministrators) {
  const auto contact_admin = with_contact_role("contact_admin", {Action::kRead, Action::kAdmin});
  const auto [tier, stage] = db().transact([&](store::UnitOfWork& uow) {
    const auto of = engine().custom_fields(contact_admin);
    return std::pair{of.define(uow, custom_field("tier", CustomFieldType::kText)),
                     engine().custom_fields(admin).define(
                         uow, custom_field("phase", CustomFieldType::kText, ObjectType::kDeal))};
  });
  const auto stored_definitions = [&] {
    return db().read([&](store::UnitOfWork& uow) {
      std::vector<CustomFieldDefinition> all =
          stores(db()).custom_fields().list(uow, ObjectType::kContact);
      for (auto& d : stores(db()).custom_fields().list(uow, ObjectType::kDeal)) all.push_back(d);
      return all;
    });
  };
  const auto before = stored_definitions();
  ASSERT_EQ(before.size(), 2u);
  // A type's administrator changes its definitions; anyone else is refused, and nothing
  // changes.
  const auto refused = [&](const Principal& who, const std::function<void(store::UnitOfWork&)>& f) {
    EXPECT_THROW(db().transact(f), PermissionDenied) << who.name;
  };
  for (const auto& who : {rep, manager, reader, bot}) {
    const auto of = engine().custom_fields(who);
    refused(who, [&](auto& uow) { of.define(uow, custom_field("x", CustomFieldType::kText)); });
    refused(who, [&](auto& uow) { of.rename(uow, tier.id, "level"); });
    refused(who, [&](auto& uow) { of.change_type(uow, tier.id, CustomFieldType::kNumber); });
    refused(who, [&](auto& uow) { of.deprecate(uow, tier.id); });
    refused(who, [&](auto& uow) { of.remove(uow, tier.id); });
    refused(who, [&](auto& uow) {
      auto changed = tier;
      changed.label = "Level";
      of.update(uow, changed);
    });
    EXPECT_THROW(of.seal_sensitive_values(ObjectType::kContact), PermissionDenied);
  }
  const auto of_contacts = engine().custom_fields(contact_admin);
  refused(contact_admin, [&](auto& uow) { of_contacts.remove(uow, stage.id); });
  refused(contact_admin, [&](auto& uow) {
    of_contacts.define(uow, custom_field("y", CustomFieldType::kText, ObjectType::kDeal));
  });
  EXPECT_EQ(stored_definitions(), before);
  db().transact([&](store::UnitOfWork& uow) { of_contacts.rename(uow, tier.id, "level"); });
  // Reading follows the type's read right: a list without a type names only the types
  // the principal reads.
  db().read([&](store::UnitOfWork& uow) {
    const auto names = [](const std::vector<CustomFieldDefinition>& ds) {
      std::vector<std::string> out;
      for (const auto& d : ds) out.push_back(d.name);
      return out;
    };
    EXPECT_EQ(names(of_contacts.list(uow)), std::vector<std::string>{"level"});
    EXPECT_EQ(names(engine().custom_fields(rep).list(uow)),
              (std::vector<std::string>{"level", "phase"}));
    EXPECT_EQ(engine().custom_fields(rep).get(uow, stage.id).name, "phase");
    EXPECT_THROW(of_contacts.get(uow, stage.id), PermissionDenied);
    EXPECT_THROW(of_contacts.list(uow, ObjectType::kDeal), PermissionDenied);
    EXPECT_TRUE(engine().custom_fields(nobody).list(uow).empty());
    EXPECT_THROW(engine().custom_fields(nobody).list(uow, ObjectType::kContact), PermissionDenied);
  });
}

TEST_P(EngineTest, APipelineSummaryCountsOnlyTheDealsThePrincipalReadsAndHistoryIsScoped) {
  const auto sales = make_pipeline();
  const auto deal_of = [&](const Principal& owner, Id team, std::int64_t minor) {
    return db().transact([&](store::UnitOfWork& uow) {
      Deal d;
      d.title = owner.name + "'s deal";
      d.pipeline_id = sales.pipeline.id;
      d.stage_id = sales.proposal.id;
      d.amount = Money{minor, "USD"};
      d.owner_id = owner.user_id;
      d.team_id = team;
      return stores(db()).deals().create(uow, d);
    });
  };
  const Deal reps = deal_of(rep, east, 10000);
  deal_of(teammate, east, 20000);
  const Deal westerners_deal = deal_of(westerner, west, 40000);
  const auto summed = [&](const Principal& who) {
    return db().read([&](store::UnitOfWork& uow) {
      const auto s = engine().pipeline_summary(uow, who, sales.pipeline.id);
      EXPECT_EQ(s.stages.size(), 4u);
      return std::pair{s.deals, s.amount.empty() ? std::int64_t{0} : s.amount.front().minor_units};
    });
  };
  EXPECT_EQ(summed(admin), (std::pair<std::uint64_t, std::int64_t>{3, 70000}));
  EXPECT_EQ(summed(rep), (std::pair<std::uint64_t, std::int64_t>{2, 30000})) << "its teams'";
  EXPECT_EQ(summed(westerner), (std::pair<std::uint64_t, std::int64_t>{1, 40000}));
  EXPECT_EQ(summed(reader), (std::pair<std::uint64_t, std::int64_t>{3, 70000}));
  db().read([&](store::UnitOfWork& uow) {
    EXPECT_EQ(engine().stage_history(uow, rep, reps.id).size(), 1u);
    EXPECT_THROW(engine().stage_history(uow, rep, westerners_deal.id), NotFound);
    EXPECT_EQ(engine().stage_history(uow, westerner, westerners_deal.id).size(), 1u);
  });
}

// An idempotent write runs once per key of a principal's, keeps its answer with its
// writes, and gives it back to a retry; a failed one keeps nothing.
TEST_P(EngineTest, AnIdempotentWriteRunsOncePerKeyOfAPrincipalsAndAFailedOneKeepsNothing) {
  int runs = 0;
  const auto create = [&](const std::string& last_name) {
    return [&, last_name](store::UnitOfWork& uow) {
      ++runs;
      const Contact made = engine().contacts(rep).create(uow, [&] {
        Contact c = contact("Ada", last_name);
        c.owner_id = rep.user_id;
        c.team_id = east;
        return c;
      }());
      return store::StoredResponse{{}, 201, "{}", std::to_string(made.id), {}};
    };
  };
  const auto contacts_named = [&](const std::string& last_name) {
    return db().read([&](store::UnitOfWork& uow) {
      return stores(db()).contacts().count(uow, store::Filter::eq("last_name", last_name));
    });
  };
  const auto first = engine().once(rep, "k-1", "POST /v1/contacts A", create("Once"));
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(first.answer.status, 201);
  const auto again = engine().once(rep, "k-1", "POST /v1/contacts A", create("Once"));
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.answer.body, first.answer.body);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(contacts_named("Once"), 1u);

  // The same key with another request is refused; another principal's key is its own.
  EXPECT_THROW(engine().once(rep, "k-1", "POST /v1/contacts B", create("Other")), ValidationError);
  EXPECT_FALSE(engine().once(teammate, "k-1", "POST /v1/contacts A", create("Twin")).replayed);
  EXPECT_EQ(runs, 2);

  // Work that fails rolls back with its key: the retry runs it.
  bool fail = true;
  const auto flaky = [&](store::UnitOfWork& uow) {
    auto answer = create("Flaky")(uow);
    if (fail) throw Unavailable("the service behind it is down");
    return answer;
  };
  EXPECT_THROW(engine().once(rep, "k-2", "POST /v1/contacts F", flaky), Unavailable);
  EXPECT_EQ(contacts_named("Flaky"), 0u);
  fail = false;
  EXPECT_FALSE(engine().once(rep, "k-2", "POST /v1/contacts F", flaky).replayed);
  EXPECT_EQ(contacts_named("Flaky"), 1u);
}

// A host's refusal is a denial entry in the trail, by the principal, from its origin.
TEST_P(EngineTest, ARefusalIsNotedInTheAuditTrailByThePrincipalFromItsOrigin) {
  engine().record_refusal(reader, {ObjectType::kContact, own.id},
                          "DELETE /v1/contacts/1: read_only may not delete", "10.0.0.7");
  const auto entries = db().read([&](store::UnitOfWork& uow) {
    store::AuditQuery q;
    q.object = ObjectRef{ObjectType::kContact, own.id};
    return stores(db()).audit().query(uow, q);
  });
  ASSERT_FALSE(entries.empty());
  const store::AuditEntry& last = entries.back();
  EXPECT_EQ(last.action, "denied");
  EXPECT_EQ(last.actor_id, reader.user_id);
  EXPECT_EQ(last.actor, reader.name);
  EXPECT_EQ(last.origin, "10.0.0.7");
  EXPECT_NE(last.detail.find("may not delete"), std::string::npos) << last.detail;
}

TEST_P(EngineTest, AnOwnEventIsPublishedAboutARecordThePrincipalMayChangeAndRollsBackWithItsWork) {
  const auto events_of = [&](const std::string& type) {
    return db().read([&](store::UnitOfWork& uow) {
      std::vector<store::DomainEvent> out;
      for (auto& e : stores(db()).outbox().read(uow))
        if (e.type == type) out.push_back(std::move(e));
      return out;
    });
  };
  const ObjectRef mine{ObjectType::kContact, own.id};
  const auto published = db().transact([&](store::UnitOfWork& uow) {
    return engine().publish(uow, rep, "order.placed", mine, R"({"total":"99.00"})");
  });
  EXPECT_EQ(published.type, "order.placed");
  EXPECT_EQ(published.aggregate_type, ObjectType::kContact);
  EXPECT_EQ(published.aggregate_id, own.id);
  ASSERT_EQ(events_of("order.placed").size(), 1u);
  EXPECT_EQ(events_of("order.placed")[0].payload, R"({"total":"99.00"})");

  // A record outside the read scope is NotFound (and noted), one it reads but may not
  // change is PermissionDenied, bad input is named; none of them appends anything.
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().publish(uow, rep, "order.refused", {ObjectType::kContact, westerners.id}, "{}");
  }),
               NotFound);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().publish(uow, reader, "order.refused", mine, "{}");
  }),
               PermissionDenied);
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().publish(uow, rep, "order.refused", {ObjectType::kContact, 999999}, "{}");
  }),
               NotFound);
  try {
    db().transact([&](store::UnitOfWork& uow) { engine().publish(uow, rep, "nodot", mine, "{}"); });
    ADD_FAILURE() << "a type without a dot was taken";
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "type");
  }
  // Published in work that then fails: gone with it.
  EXPECT_THROW(db().transact([&](store::UnitOfWork& uow) {
    engine().publish(uow, rep, "order.refused", mine, "{}");
    throw Conflict("the caller's own write failed");
  }),
               Conflict);
  EXPECT_TRUE(events_of("order.refused").empty());
}

}  // namespace
}  // namespace banyan::test
