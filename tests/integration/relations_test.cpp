// Relations between records on both backends.
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::UnitOfWork;

class RelationsTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(RelationsTest);

TEST_P(RelationsTest, AContactHasManyCompaniesAndOnePrimary) {
  db().transact([&](UnitOfWork& uow) {
    Id ada = stores(db()).contacts().create(uow, contact("Ada", "Lovelace")).id;
    Company a, b;
    a.name = "A";
    b.name = "B";
    Id ca = stores(db()).companies().create(uow, a).id;
    Id cb = stores(db()).companies().create(uow, b).id;
    auto rel = stores(db()).relations();
    rel.link_company(uow, ada, ca, true);
    rel.link_company(uow, ada, cb);
    rel.link_company(uow, ada, cb);  // idempotent
    auto links = rel.companies_of(uow, ada);
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0], (store::ContactCompanyLink{ada, ca, true}));
    rel.link_company(uow, ada, cb, true);  // moves the primary
    links = rel.companies_of(uow, ada);
    EXPECT_EQ(links[0], (store::ContactCompanyLink{ada, cb, true}));
    EXPECT_EQ(links[1], (store::ContactCompanyLink{ada, ca, false}));
    EXPECT_EQ(rel.contacts_of(uow, ca).size(), 1u);
    rel.unlink_company(uow, ada, ca);
    EXPECT_EQ(rel.companies_of(uow, ada).size(), 1u);
    EXPECT_THROW(rel.link_company(uow, ada, 987654), NotFound);
  });
}

TEST_P(RelationsTest, DealsLinkContactsWithARole) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    Deal d;
    d.title = "Deal";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    Id deal = stores(db()).deals().create(uow, d).id;
    Id ada = stores(db()).contacts().create(uow, contact("Ada", "L")).id;
    Id bob = stores(db()).contacts().create(uow, contact("Bob", "M")).id;
    auto rel = stores(db()).relations();
    rel.add_deal_contact(uow, deal, ada, DealRole::kDecisionMaker);
    rel.add_deal_contact(uow, deal, bob, DealRole::kChampion);
    rel.add_deal_contact(uow, deal, bob, DealRole::kInfluencer);  // changes the role
    auto links = rel.deal_contacts(uow, deal);
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0].role, DealRole::kDecisionMaker);
    EXPECT_EQ(links[1].role, DealRole::kInfluencer);
    stores(db()).contacts().remove(uow, bob);  // removing a contact removes its links
    EXPECT_EQ(rel.deal_contacts(uow, deal).size(), 1u);
  });
}

TEST_P(RelationsTest, ActivitiesConcernAnyRecordAndTagsLabelAnyRecord) {
  db().transact([&](UnitOfWork& uow) {
    Id ada = stores(db()).contacts().create(uow, contact("Ada", "L")).id;
    Company co;
    co.name = "Acme";
    Id acme = stores(db()).companies().create(uow, co).id;
    Activity call;
    call.kind = ActivityKind::kCall;
    call.subject = "Intro call";
    Id act = stores(db()).activities().create(uow, call).id;
    auto rel = stores(db()).relations();
    rel.link_activity(uow, act, {ObjectType::kContact, ada});
    rel.link_activity(uow, act, {ObjectType::kCompany, acme});
    EXPECT_EQ(rel.activity_targets(uow, act).size(), 2u);
    EXPECT_EQ(rel.activities_of(uow, {ObjectType::kCompany, acme}), std::vector<Id>{act});
    EXPECT_THROW(rel.link_activity(uow, act, {ObjectType::kDeal, 4242}), NotFound);
    EXPECT_THROW(rel.link_activity(uow, act, {ObjectType::kActivity, act}), ValidationError);

    Tag vip;
    vip.name = "vip";
    Id tag = stores(db()).tags().create(uow, vip).id;
    rel.tag(uow, tag, {ObjectType::kContact, ada});
    rel.tag(uow, tag, {ObjectType::kCompany, acme});
    rel.tag(uow, tag, {ObjectType::kCompany, acme});  // idempotent
    EXPECT_EQ(rel.tagged_with(uow, tag).size(), 2u);
    EXPECT_EQ(rel.tags_of(uow, {ObjectType::kContact, ada}), std::vector<Id>{tag});
    rel.untag(uow, tag, {ObjectType::kContact, ada});
    EXPECT_TRUE(rel.tags_of(uow, {ObjectType::kContact, ada}).empty());
    stores(db()).companies().remove(uow, acme);  // links to a removed record go with it
    EXPECT_TRUE(rel.tagged_with(uow, tag).empty());
    EXPECT_EQ(rel.activity_targets(uow, act).size(), 1u);
    stores(db()).tags().remove(uow, tag);
  });
}

}  // namespace
}  // namespace banyan::test
