// Duplicate detection and merging on both backends.
#include "store/match_keys.hpp"
#include "store/stores.hpp"

#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::DuplicateRule;
using store::MergeRequest;
using store::UnitOfWork;

TEST(MatchKeys, NormaliseNamesPhonesAndCompanies) {
  using namespace store::detail;
  EXPECT_EQ(soundex("Robert"), "R163");
  EXPECT_EQ(soundex("Rupert"), "R163");
  EXPECT_EQ(soundex("Ashcraft"), "A261");
  EXPECT_EQ(soundex("Tymczak"), "T522");
  EXPECT_EQ(soundex("Müller"), soundex("Mueller").substr(0, 1) + soundex("Muller").substr(1));
  EXPECT_EQ(soundex("Jon"), soundex("John"));
  EXPECT_EQ(soundex(""), "");
  EXPECT_EQ(phone_digits("+44 (0)20 7946-0958"), "4402079460958");
  EXPECT_EQ(phone_digits("0044 20 7946 0958"), "442079460958");
  EXPECT_EQ(company_name_key("ACME Corp."), "acme");
  EXPECT_EQ(company_name_key("Acme Corporation"), "acme");
  EXPECT_EQ(company_name_key("Société Générale SA"), "societe generale");
  EXPECT_EQ(company_name_key("Inc"), "inc") << "a name that is only a suffix stays";
}

class DuplicatesTest : public StoreTest {
 protected:
  Contact make(std::string first, std::string last, std::optional<std::string> email = std::nullopt,
               std::optional<std::string> phone = std::nullopt) {
    return db().transact([&](UnitOfWork& uow) {
      Contact c = contact(std::move(first), std::move(last), std::move(email));
      c.phone = std::move(phone);
      return stores(db()).contacts().create(uow, c);
    });
  }
  std::vector<store::DuplicateMatch> dupes(ObjectRef r) {
    return db().transact([&](UnitOfWork& uow) { return stores(db()).duplicates().of(uow, r); });
  }
  store::MergeResult merge(const MergeRequest& r) {
    return db().transact([&](UnitOfWork& uow) { return stores(db()).duplicates().merge(uow, r); },
                         9);
  }
};
BANYAN_ON_BOTH_BACKENDS(DuplicatesTest);

TEST_P(DuplicatesTest, FindsContactsByEmailPhoneAndSimilarName) {
  Contact ada = make("Ada", "Lovelace", "ada@example.com", "+44 20 7946 0958");
  Contact same_email = make("A.", "King", "ADA@Example.com");
  Contact same_phone = make("Augusta", "Byron", std::nullopt, "0044-20-7946-0958");
  Contact sounds_alike = make("Adah", "Loveless");
  Contact everything = make("Ada", "Lovelace", "ada@example.com", "+44 20 7946 0958");
  make("Charles", "Babbage", "charles@example.com");
  auto found = dupes({ObjectType::kContact, ada.id});
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].id, everything.id);
  EXPECT_EQ(found[0].rules,
            (std::vector<DuplicateRule>{DuplicateRule::kEmail, DuplicateRule::kPhone,
                                        DuplicateRule::kName}));
  std::map<Id, std::vector<DuplicateRule>> by_id;
  for (const auto& m : found) by_id[m.id] = m.rules;
  EXPECT_EQ(by_id[same_email.id], std::vector<DuplicateRule>{DuplicateRule::kEmail});
  EXPECT_EQ(by_id[same_phone.id], std::vector<DuplicateRule>{DuplicateRule::kPhone});
  EXPECT_EQ(by_id[sounds_alike.id], std::vector<DuplicateRule>{DuplicateRule::kName});

  // Keys follow writes: a changed email no longer matches, an archived record not at all.
  Contact changed = same_email;
  changed.email = "king@example.com";
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().update(uow, changed);
    stores(db()).contacts().archive(uow, sounds_alike.id);
  });
  EXPECT_EQ(dupes({ObjectType::kContact, ada.id}).size(), 2u);
}

TEST_P(DuplicatesTest, FindsCompaniesAndLeadsAndScansAWholeType) {
  db().transact([&](UnitOfWork& uow) {
    auto company = [&](const char* name, std::optional<std::string> domain) {
      Company c;
      c.name = name;
      c.domain = std::move(domain);
      return stores(db()).companies().create(uow, c);
    };
    company("Acme Corp.", "acme.example");
    company("ACME Corporation", "www.ACME.example");
    company("Globex", "globex.example");
    Lead a, b;
    a.first_name = b.first_name = "Peter";
    a.last_name = "Gibbons";
    b.last_name = "Gibbens";
    stores(db()).leads().create(uow, a);
    stores(db()).leads().create(uow, b);
  });
  auto groups = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).duplicates().scan(uow, ObjectType::kCompany); });
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].rule, DuplicateRule::kDomain);
  EXPECT_EQ(groups[1].rule, DuplicateRule::kName);
  EXPECT_EQ(groups[0].ids.size(), 2u);
  auto leads = db().transact(
      [&](UnitOfWork& uow) { return stores(db()).duplicates().scan(uow, ObjectType::kLead); });
  ASSERT_EQ(leads.size(), 1u);
  EXPECT_EQ(leads[0].rule, DuplicateRule::kName);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_THROW(stores(db()).duplicates().scan(uow, ObjectType::kDeal), ValidationError);
    EXPECT_THROW(stores(db()).duplicates().of(uow, {ObjectType::kContact, 4242}), NotFound);
  });
}

TEST_P(DuplicatesTest, MergeMovesEverythingToTheSurvivorAndArchivesTheLosers) {
  db().transact([&](UnitOfWork& uow) {
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kText;
    stores(db()).custom_fields().define(uow, tier);
    CustomFieldDefinition source = tier;
    source.name = "source";
    stores(db()).custom_fields().define(uow, source);
  });
  SalesPipeline p = make_pipeline();
  Contact survivor = make("Ada", "Lovelace", "ada@old.example");
  Contact loser = db().transact([&](UnitOfWork& uow) {
    Contact c = contact("Ada", "Lovelace", "ada@new.example");
    c.phone = "+44 20 7946 0958";
    c.title = "Countess";
    c.custom = {{"tier", std::string("gold")}, {"source", std::string("event")}};
    return stores(db()).contacts().create(uow, c);
  });
  Contact loser2 = make("Adah", "Lovelase", std::nullopt, "+1 555 0100");
  auto [company, deal, activity, tag] = db().transact([&](UnitOfWork& uow) {
    Company co;
    co.name = "Analytical";
    Id company_id = stores(db()).companies().create(uow, co).id;
    stores(db()).relations().link_company(uow, loser.id, company_id, true);
    Deal d;
    d.title = "Engine";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    Id deal_id = stores(db()).deals().create(uow, d).id;
    stores(db()).relations().add_deal_contact(uow, deal_id, loser.id, DealRole::kChampion);
    stores(db()).relations().add_deal_contact(uow, deal_id, survivor.id, DealRole::kDecisionMaker);
    Activity a;
    a.subject = "Call Ada";
    Id act = stores(db()).activities().create(uow, a).id;
    stores(db()).relations().link_activity(uow, act, {ObjectType::kContact, loser.id});
    Tag t;
    t.name = "vip";
    Id tag_id = stores(db()).tags().create(uow, t).id;
    stores(db()).relations().tag(uow, tag_id, {ObjectType::kContact, loser2.id});
    return std::tuple{company_id, deal_id, act, tag_id};
  });

  MergeRequest r;
  r.type = ObjectType::kContact;
  r.survivor = survivor.id;
  r.losers = {loser.id, loser2.id};
  r.winners = {{"email", loser.id}, {"custom.tier", loser.id}};
  auto result = merge(r);
  EXPECT_EQ(result.survivor, survivor.id);
  EXPECT_EQ(result.merged, (std::vector<Id>{loser.id, loser2.id}));

  db().transact([&](UnitOfWork& uow) {
    Contact s = stores(db()).contacts().get(uow, survivor.id);
    EXPECT_EQ(s.email, "ada@new.example") << "the chosen value";
    EXPECT_EQ(s.title, "Countess") << "a blank filled from a loser";
    EXPECT_EQ(s.phone, "+44 20 7946 0958") << "the first loser's value fills the blank";
    EXPECT_EQ(s.custom,
              (CustomFields{{"tier", std::string("gold")}, {"source", std::string("event")}}));
    EXPECT_EQ(s.updated_by, 9u);
    auto rel = stores(db()).relations();
    EXPECT_EQ(rel.companies_of(uow, s.id),
              (std::vector<store::ContactCompanyLink>{{s.id, company, true}}));
    auto roles = rel.deal_contacts(uow, deal);
    ASSERT_EQ(roles.size(), 1u) << "the survivor was on the deal already";
    EXPECT_EQ(roles[0].contact_id, s.id);
    EXPECT_EQ(rel.activities_of(uow, {ObjectType::kContact, s.id}), std::vector<Id>{activity});
    EXPECT_EQ(rel.tags_of(uow, {ObjectType::kContact, s.id}), std::vector<Id>{tag});
    for (Id id : {loser.id, loser2.id}) {
      Contact gone = stores(db()).contacts().get(uow, id);
      EXPECT_TRUE(gone.archived());
      EXPECT_EQ(gone.merged_into, s.id) << "reading a loser says where it went";
    }
    EXPECT_TRUE(stores(db()).duplicates().of(uow, {ObjectType::kContact, s.id}).empty());
  });
  // A loser cannot be merged again, nor a merged record survive.
  r.losers = {loser.id};
  EXPECT_THROW(merge(r), Conflict);
  r.survivor = loser2.id;
  r.losers = {make("X", "Y").id};
  EXPECT_THROW(merge(r), Conflict);
}

TEST_P(DuplicatesTest, MergesCompaniesMovingDealsAndContacts) {
  SalesPipeline p = make_pipeline();
  auto [keep, drop, deal, person] = db().transact([&](UnitOfWork& uow) {
    Company a, b;
    a.name = "Acme";
    b.name = "ACME Corp";
    b.domain = "acme.example";
    Id ka = stores(db()).companies().create(uow, a).id;
    Id kb = stores(db()).companies().create(uow, b).id;
    Deal d;
    d.title = "Big";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    d.company_id = kb;
    Id deal_id = stores(db()).deals().create(uow, d).id;
    Id person_id = stores(db()).contacts().create(uow, contact("Wile", "Coyote")).id;
    stores(db()).relations().link_company(uow, person_id, kb, true);
    return std::tuple{ka, kb, deal_id, person_id};
  });
  MergeRequest r;
  r.type = ObjectType::kCompany;
  r.survivor = keep;
  r.losers = {drop};
  merge(r);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).deals().get(uow, deal).company_id, keep);
    EXPECT_EQ(stores(db()).companies().get(uow, keep).domain, "acme.example");
    EXPECT_EQ(stores(db()).relations().contacts_of(uow, keep).size(), 1u);
    EXPECT_EQ(stores(db()).relations().companies_of(uow, person)[0].company_id, keep);
    EXPECT_EQ(stores(db()).companies().get(uow, drop).merged_into, keep);
  });
}

TEST_P(DuplicatesTest, RejectsBadMergesAndAFailureHalfwayChangesNothing) {
  Contact a = make("Ada", "Lovelace", "ada@example.com");
  Contact b = make("Ada", "Lovelace", "ada2@example.com");
  auto expect_invalid = [&](MergeRequest r, const char* field) {
    try {
      merge(r);
      ADD_FAILURE() << "accepted a bad merge (" << field << ")";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field);
    }
  };
  MergeRequest r;
  r.type = ObjectType::kContact;
  r.survivor = a.id;
  r.losers = {a.id};
  expect_invalid(r, "losers");  // merging a record with itself
  r.losers = {};
  expect_invalid(r, "losers");
  r.losers = {b.id, b.id};
  expect_invalid(r, "losers");
  r.type = ObjectType::kDeal;
  r.losers = {b.id};
  expect_invalid(r, "type");
  r.type = ObjectType::kContact;
  r.winners = {{"email", 424242}};
  expect_invalid(r, "winners");
  r.winners = {{"created_at", b.id}};
  expect_invalid(r, "created_at");
  r.winners = {};
  Company co = db().transact([&](UnitOfWork& uow) {
    Company c;
    c.name = "Not a contact";
    return stores(db()).companies().create(uow, c);
  });
  r.losers = {co.id + 1000};
  // There is no merging across types: one request names one type, and its ids are read
  // as that type. A contact id that does not exist is NotFound.
  EXPECT_THROW(merge(r), NotFound);

  // Halfway: a required custom field defined after the records were made, which only the
  // survivor was given since. The merge takes it from the loser, who has none: it moves
  // links and archives the loser, then the survivor's write (which empties a required
  // field) fails.
  Activity act = db().transact([&](UnitOfWork& uow) {
    Activity x;
    x.subject = "Call";
    x = stores(db()).activities().create(uow, x);
    stores(db()).relations().link_activity(uow, x.id, {ObjectType::kContact, b.id});
    CustomFieldDefinition must;
    must.object_type = ObjectType::kContact;
    must.name = "region";
    must.required = true;
    stores(db()).custom_fields().define(uow, must);
    Patch<Contact> region;
    region.set_custom("region", std::string("EMEA"));
    a = stores(db()).contacts().patch(uow, a.id, region).record;
    return x;
  });
  r.losers = {b.id};
  r.winners = {{"custom.region", b.id}};
  EXPECT_THROW(merge(r), ValidationError);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).contacts().get(uow, b.id), b) << "the loser is untouched";
    EXPECT_EQ(stores(db()).contacts().get(uow, a.id), a);
    EXPECT_EQ(stores(db()).relations().activity_targets(uow, act.id),
              (std::vector<ObjectRef>{{ObjectType::kContact, b.id}}));
    EXPECT_EQ(stores(db()).duplicates().of(uow, {ObjectType::kContact, a.id}).size(), 1u);
  });
}

}  // namespace
}  // namespace banyan::test
