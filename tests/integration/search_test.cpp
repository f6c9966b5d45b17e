// Full-text search on both backends (SQLite FTS5, MariaDB InnoDB FULLTEXT).
#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::SearchRequest;
using store::UnitOfWork;

class SearchTest : public StoreTest {
 protected:
  std::vector<store::SearchHit> find(std::string query, std::vector<ObjectType> types = {}) {
    return db().transact([&](UnitOfWork& uow) {
      SearchRequest r;
      r.query = std::move(query);
      r.types = std::move(types);
      return stores(db()).search().search(uow, r);
    });
  }
  std::vector<std::string> titles(std::string query, std::vector<ObjectType> types = {}) {
    std::vector<std::string> out;
    for (const auto& hit : find(std::move(query), std::move(types))) out.push_back(hit.title);
    return out;
  }
};
BANYAN_ON_BOTH_BACKENDS(SearchTest);

using Titles = std::vector<std::string>;

TEST_P(SearchTest, FindsEveryKindOfRecordByPrefixRankedAcrossTypes) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Ada", "Lovelace", "ada@analytical.example"));
    Lead l;
    l.first_name = "Charles";
    l.last_name = "Babbage";
    l.email = "charles@engines.example";
    l.company_name = "Difference Engines";
    stores(db()).leads().create(uow, l);
    Company co;
    co.name = "Analytical Engines";
    co.domain = "analytical.example";
    stores(db()).companies().create(uow, co);
    Deal d;
    d.title = "Analytical engine prototype";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    stores(db()).deals().create(uow, d);
    Activity note;
    note.kind = ActivityKind::kNote;
    note.subject = "Meeting notes";
    note.body = "Discussed the analytical prototype with the board";
    stores(db()).activities().create(uow, note);
    Activity call;  // only notes are searchable
    call.kind = ActivityKind::kCall;
    call.subject = "Analytical call";
    stores(db()).activities().create(uow, call);
  });
  EXPECT_EQ(titles("lovelace"), Titles{"Ada Lovelace"});
  EXPECT_EQ(titles("LOVEL"), Titles{"Ada Lovelace"}) << "prefix, any case";
  EXPECT_EQ(titles("babbage"), Titles{"Charles Babbage"});
  EXPECT_EQ(titles("difference"), Titles{"Charles Babbage"}) << "a lead's company name";
  EXPECT_EQ(titles("charles@engines"), Titles{"Charles Babbage"}) << "emails";
  auto hits = find("analytical");
  ASSERT_EQ(hits.size(), 4u) << "contact (email), company, deal, note";
  // Title matches rank above body-only matches.
  EXPECT_TRUE(hits[0].record.type == ObjectType::kCompany ||
              hits[0].record.type == ObjectType::kDeal);
  EXPECT_TRUE(hits[1].record.type == ObjectType::kCompany ||
              hits[1].record.type == ObjectType::kDeal);
  for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].score, hits[i].score);
  EXPECT_EQ(titles("analytical prototype"),
            (Titles{"Analytical engine prototype", "Meeting notes"}))
      << "every word must match";
  EXPECT_EQ(titles("analytical", {ObjectType::kDeal}), Titles{"Analytical engine prototype"});
  EXPECT_TRUE(titles("nothing here").empty());
}

TEST_P(SearchTest, StaysInStepWithEveryWrite) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Grace", "Hopper"));
  });
  EXPECT_EQ(titles("hopper").size(), 1u);
  c.last_name = "Murray";
  c = db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, c); });
  EXPECT_TRUE(titles("hopper").empty());
  EXPECT_EQ(titles("murray"), Titles{"Grace Murray"});
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().archive(uow, c.id); });
  EXPECT_TRUE(titles("murray").empty()) << "archived records are not found";
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().restore(uow, c.id); });
  EXPECT_EQ(titles("murray").size(), 1u);
  {
    UnitOfWork uow = db().begin();
    Contact renamed = stores(db()).contacts().get(uow, c.id);
    renamed.last_name = "Rolledback";
    stores(db()).contacts().update(uow, renamed);
  }
  EXPECT_TRUE(titles("rolledback").empty()) << "the index rolls back with the write";
  EXPECT_EQ(titles("murray").size(), 1u);
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().remove(uow, c.id); });
  EXPECT_TRUE(titles("murray").empty());
}

TEST_P(SearchTest, TreatsQueryOperatorsAndQuotesAsPlainText) {
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Bobby", "Tables", "bobby@school.example"));
  });
  for (const char* q : {"bobby\" OR \"x", "bobby*", "+bobby -tables", "bobby') --", "NEAR(bobby)",
                        "tables:bobby", "\"bobby\""}) {
    EXPECT_NO_THROW(find(q)) << q;
  }
  EXPECT_EQ(titles("\"bobby\"").size(), 1u);
  EXPECT_EQ(titles("tables: bobby").size(), 1u);
  for (const char* bad : {"", "   ", "!!!", "--"}) {
    try {
      find(bad);
      ADD_FAILURE() << "accepted the query '" << bad << "'";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "query");
    }
  }
  EXPECT_THROW(find(std::string("bad\xFF")), ValidationError);
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) {
    SearchRequest r;
    r.query = "bobby";
    r.limit = 0;
    stores(db()).search().search(uow, r);
  }),
               ValidationError);
}

TEST_P(SearchTest, FindsUnicodeWords) {
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Zoë", "Ångström"));
    stores(db()).contacts().create(uow, contact("Léa", "Müller"));
  });
  EXPECT_EQ(titles("ångström"), Titles{"Zoë Ångström"});
  EXPECT_EQ(titles("Müll"), Titles{"Léa Müller"});
}

}  // namespace
}  // namespace banyan::test
