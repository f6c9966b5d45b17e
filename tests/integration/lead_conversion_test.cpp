// Lead conversion on both backends.
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::LeadConversion;
using store::UnitOfWork;

class LeadConversionTest : public StoreTest {
 protected:
  Lead make_lead(const char* email, std::optional<std::string> company_name = "Initech") {
    return db().transact([&](UnitOfWork& uow) {
      Lead l;
      l.first_name = "Peter";
      l.last_name = "Gibbons";
      l.email = email;
      l.phone = "+1 555 0100";
      l.company_name = std::move(company_name);
      l.status = LeadStatus::kQualified;
      return stores(db()).leads().create(uow, l);
    });
  }
  store::ConversionResult convert(const LeadConversion& request) {
    return db().transact(
        [&](UnitOfWork& uow) { return stores(db()).lead_converter().convert(uow, request); }, 5);
  }
  std::uint64_t count_all() {
    return db().transact([&](UnitOfWork& uow) {
      return stores(db()).contacts().count(uow, {}, true) +
             stores(db()).companies().count(uow, {}, true) +
             stores(db()).deals().count(uow, {}, true);
    });
  }
};
BANYAN_ON_BOTH_BACKENDS(LeadConversionTest);

TEST_P(LeadConversionTest, CreatesContactCompanyAndDealAndMarksTheLead) {
  SalesPipeline p = make_pipeline();
  Lead lead = make_lead("peter@initech.example");
  LeadConversion request;
  request.lead_id = lead.id;
  request.deal = LeadConversion::NewDeal{p.pipeline.id,       p.proposal.id, "",
                                         Money{50000, "USD"}, std::nullopt,  DealRole::kChampion};
  auto r = convert(request);
  EXPECT_TRUE(r.company_created);
  EXPECT_EQ(r.company.name, "Initech");
  EXPECT_EQ(r.company.domain, "initech.example");
  EXPECT_EQ(r.contact.first_name, "Peter");
  EXPECT_EQ(r.contact.email, "peter@initech.example");
  EXPECT_EQ(r.contact.phone, "+1 555 0100");
  ASSERT_TRUE(r.deal);
  EXPECT_EQ(r.deal->title, "Initech - Peter Gibbons");
  EXPECT_EQ(r.deal->company_id, r.company.id);
  EXPECT_EQ(r.lead.status, LeadStatus::kConverted);
  EXPECT_EQ(r.lead.converted_contact_id, r.contact.id);
  EXPECT_EQ(r.lead.converted_company_id, r.company.id);
  EXPECT_EQ(r.lead.converted_deal_id, r.deal->id);
  EXPECT_TRUE(r.lead.converted());
  EXPECT_EQ(r.lead.updated_by, 5u);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).leads().get(uow, lead.id), r.lead);
    auto links = stores(db()).relations().companies_of(uow, r.contact.id);
    ASSERT_EQ(links.size(), 1u);
    EXPECT_TRUE(links[0].primary);
    auto roles = stores(db()).relations().deal_contacts(uow, r.deal->id);
    ASSERT_EQ(roles.size(), 1u);
    EXPECT_EQ(roles[0].role, DealRole::kChampion);
    EXPECT_EQ(stores(db()).leads().count(uow, store::Filter::eq("status", "converted")), 1u);
  });
}

TEST_P(LeadConversionTest, ReusesTheCompanyWithTheLeadsEmailDomain) {
  Company existing = db().transact([&](UnitOfWork& uow) {
    Company c;
    c.name = "Initech Inc.";
    c.domain = "initech.example";
    return stores(db()).companies().create(uow, c);
  });
  Lead lead = make_lead("Peter@INITECH.example");
  LeadConversion request;
  request.lead_id = lead.id;
  auto r = convert(request);
  EXPECT_FALSE(r.company_created);
  EXPECT_EQ(r.company.id, existing.id);
  EXPECT_FALSE(r.deal);
  EXPECT_EQ(r.lead.converted_deal_id, std::nullopt);
}

TEST_P(LeadConversionTest, UsesAChosenCompanyAndNeverMatchesFreeMailDomains) {
  Company chosen = db().transact([&](UnitOfWork& uow) {
    Company gmail;
    gmail.name = "Not Google";
    gmail.domain = "gmail.com";
    stores(db()).companies().create(uow, gmail);
    Company c;
    c.name = "Chosen";
    return stores(db()).companies().create(uow, c);
  });
  LeadConversion request;
  request.lead_id = make_lead("peter@gmail.com").id;
  request.company_id = chosen.id;
  EXPECT_EQ(convert(request).company.id, chosen.id);

  request = {};
  request.lead_id = make_lead("pete@gmail.com", "Gibbons Consulting").id;
  auto r = convert(request);
  EXPECT_TRUE(r.company_created) << "a gmail.com address says nothing about the employer";
  EXPECT_EQ(r.company.name, "Gibbons Consulting");
  EXPECT_EQ(r.company.domain, std::nullopt);
}

TEST_P(LeadConversionTest, CarriesCustomValuesToContactFieldsOfTheSameNameAndType) {
  db().transact([&](UnitOfWork& uow) {
    auto define = [&](ObjectType on, const char* name, CustomFieldType type) {
      CustomFieldDefinition d;
      d.object_type = on;
      d.name = name;
      d.type = type;
      stores(db()).custom_fields().define(uow, d);
    };
    define(ObjectType::kLead, "budget", CustomFieldType::kCurrency);
    define(ObjectType::kContact, "budget", CustomFieldType::kCurrency);
    define(ObjectType::kLead, "campaign", CustomFieldType::kText);
    define(ObjectType::kContact, "campaign", CustomFieldType::kNumber);  // other type: stays
  });
  Lead lead = db().transact([&](UnitOfWork& uow) {
    Lead l;
    l.first_name = "Peter";
    l.last_name = "Gibbons";
    l.company_name = "Initech";
    l.custom = {{"budget", Money{90000, "USD"}}, {"campaign", std::string("spring")}};
    return stores(db()).leads().create(uow, l);
  });
  LeadConversion request;
  request.lead_id = lead.id;
  auto r = convert(request);
  EXPECT_EQ(r.contact.custom, (CustomFields{{"budget", Money{90000, "USD"}}}));
}

TEST_P(LeadConversionTest, MovesActivitiesAndTagsToTheContact) {
  Lead lead = make_lead("peter@initech.example");
  auto [call, tag] = db().transact([&](UnitOfWork& uow) {
    Activity a;
    a.kind = ActivityKind::kCall;
    a.subject = "Discovery call";
    Id act = stores(db()).activities().create(uow, a).id;
    stores(db()).relations().link_activity(uow, act, {ObjectType::kLead, lead.id});
    Tag t;
    t.name = "hot";
    Id tag_id = stores(db()).tags().create(uow, t).id;
    stores(db()).relations().tag(uow, tag_id, {ObjectType::kLead, lead.id});
    return std::pair{act, tag_id};
  });
  LeadConversion request;
  request.lead_id = lead.id;
  auto r = convert(request);
  db().transact([&](UnitOfWork& uow) {
    const ObjectRef contact{ObjectType::kContact, r.contact.id};
    EXPECT_EQ(stores(db()).relations().activities_of(uow, contact), std::vector<Id>{call});
    EXPECT_EQ(stores(db()).relations().tags_of(uow, contact), std::vector<Id>{tag});
    EXPECT_TRUE(stores(db()).relations().activities_of(uow, {ObjectType::kLead, lead.id}).empty());
    EXPECT_TRUE(stores(db()).relations().tags_of(uow, {ObjectType::kLead, lead.id}).empty());
  });
}

TEST_P(LeadConversionTest, ALeadCannotBeConvertedTwiceNorMarkedConvertedByHand) {
  Lead lead = make_lead("peter@initech.example");
  LeadConversion request;
  request.lead_id = lead.id;
  auto first = convert(request);
  const auto before = count_all();
  try {
    convert(request);
    FAIL() << "converted twice";
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "status");
  }
  EXPECT_EQ(count_all(), before);
  Lead edited = first.lead;
  edited.status = LeadStatus::kQualified;
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).leads().update(uow, edited); }),
               ValidationError);
  Lead fresh = make_lead("other@initech.example");
  fresh.status = LeadStatus::kConverted;
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).leads().update(uow, fresh); }),
               ValidationError);
  Lead forged;
  forged.last_name = "Forged";
  forged.status = LeadStatus::kConverted;
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).leads().create(uow, forged); }),
               ValidationError);
  // Ordinary edits keep the conversion pointers, whatever the caller sends.
  edited = first.lead;
  edited.source = "trade show";
  edited.converted_contact_id = 999;
  Lead saved =
      db().transact([&](UnitOfWork& uow) { return stores(db()).leads().update(uow, edited); });
  EXPECT_EQ(saved.converted_contact_id, first.contact.id);
}

TEST_P(LeadConversionTest, AConversionThatFailsHalfwayChangesNothing) {
  SalesPipeline p = make_pipeline();
  Lead lead = make_lead("peter@initech.example");
  LeadConversion request;
  request.lead_id = lead.id;
  // The stage is not in the pipeline: fails after the company and contact were made.
  request.deal =
      LeadConversion::NewDeal{p.pipeline.id, 987654, "x", Money{}, std::nullopt, DealRole::kOther};
  const auto before = count_all();
  EXPECT_THROW(convert(request), ValidationError);
  EXPECT_EQ(count_all(), before);
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).leads().get(uow, lead.id), lead); });

  request.deal.reset();
  request.company_id = 424242;
  EXPECT_THROW(convert(request), NotFound);
  request.company_id.reset();
  request.lead_id = 515151;
  EXPECT_THROW(convert(request), NotFound);
  request.lead_id = make_lead("anon@gmail.com", std::nullopt).id;
  try {
    convert(request);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_EQ(e.field(), "company_name");
  }
  EXPECT_EQ(count_all(), before);
}

// A database written by the first release (schema version 1) opens, migrates to the
// current version, keeps its data and gains what the new version brings.
TEST_P(LeadConversionTest, MigratesAVersion1DatabaseAndConvertsItsLeads) {
  ScratchDatabase old(GetParam());
  old.load_script(std::string(BANYAN_FIXTURES_DIR) + "/schema_v1/" +
                  (GetParam() == Backend::kSqlite ? "sqlite.sql" : "mysql.sql"));
  EXPECT_EQ(old.raw("SELECT version FROM banyan_schema"), "1");
  auto db = old.open();
  EXPECT_EQ(db->schema_version(), store::Database::current_schema_version());
  db->transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(*db).deals().count(uow), 7u);
    EXPECT_EQ(stores(*db).contacts().count(uow), 6u);
    // Every existing deal starts its history in its current stage.
    store::PageRequest all;
    for (const Deal& d : stores(*db).deals().query(uow, all).items) {
      auto history = stores(*db).deal_stages().history(uow, d.id);
      ASSERT_EQ(history.size(), 1u);
      EXPECT_EQ(history[0].to_stage_id, d.stage_id);
      EXPECT_EQ(history[0].changed_at, d.created_at);
    }
    Lead l;
    l.first_name = "New";
    l.last_name = "Lead";
    l.company_name = "Acme Corp";
    l.email = "new@acme.example";
    l = stores(*db).leads().create(uow, l);
    store::LeadConversion request;
    request.lead_id = l.id;
    auto r = stores(*db).lead_converter().convert(uow, request);
    EXPECT_FALSE(r.company_created) << "acme.example is a company of the old database";
    EXPECT_EQ(r.company.name, "Acme Corp");
    // The full-text index (version 4) was filled from the old records.
    store::SearchRequest search;
    search.query = "lovelace";
    auto hits = stores(*db).search().search(uow, search);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].title, "Ada Lovelace");
    search.query = "fleet rollout";
    EXPECT_EQ(stores(*db).search().search(uow, search).size(), 1u) << "deal titles";
  });
}

}  // namespace
}  // namespace banyan::test
