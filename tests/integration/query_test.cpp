// Filters, sorting, keyset pagination and counts on both backends.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::Filter;
using store::PageRequest;
using store::UnitOfWork;
using store::Value;

class QueryTest : public StoreTest {
 protected:
  // Ten contacts: last names L0..L9; emails on the even ones; titles "CEO" on 0 and 5.
  void SetUp() override {
    StoreTest::SetUp();
    db().transact([&](UnitOfWork& uow) {
      for (int i = 0; i < 10; ++i) {
        Contact c = contact("F" + std::to_string(9 - i), "L" + std::to_string(i));
        if (i % 2 == 0) c.email = "p" + std::to_string(i) + "@example.com";
        if (i % 5 == 0) c.title = "CEO";
        ids_.push_back(stores(db()).contacts().create(uow, c).id);
      }
    });
  }

  std::vector<std::string> last_names(const Filter& f, store::Sort sort = {}) {
    return contact_last_names(f, std::move(sort));
  }

  std::vector<Id> ids_;
};
BANYAN_ON_BOTH_BACKENDS(QueryTest);

using Names = std::vector<std::string>;

TEST_P(QueryTest, ComparisonOperatorsFilterOnStandardFields) {
  EXPECT_EQ(last_names(Filter::eq("last_name", "L3")), Names{"L3"});
  EXPECT_EQ(last_names(Filter::ne("title", "CEO")).size(), 0u) << "SQL: NULL <> x is unknown";
  EXPECT_EQ(last_names(Filter::lt("last_name", "L2")), (Names{"L0", "L1"}));
  EXPECT_EQ(last_names(Filter::le("last_name", "L2")), (Names{"L0", "L1", "L2"}));
  EXPECT_EQ(last_names(Filter::gt("last_name", "L7")), (Names{"L8", "L9"}));
  EXPECT_EQ(last_names(Filter::ge("last_name", "L8")), (Names{"L8", "L9"}));
  EXPECT_EQ(last_names(Filter::in("last_name", {"L1", "L4", "nobody"})), (Names{"L1", "L4"}));
  EXPECT_EQ(last_names(Filter::in("last_name", {})), Names{});
  EXPECT_EQ(last_names(Filter::contains("email", "8@")), Names{"L8"});
  EXPECT_EQ(last_names(Filter::starts_with("email", "p6")), Names{"L6"});
  EXPECT_EQ(last_names(Filter::is_null("email")).size(), 5u);
  EXPECT_EQ(last_names(Filter::eq("title", std::monostate{})).size(), 8u);
  EXPECT_EQ(last_names(Filter::ne("title", std::monostate{})), (Names{"L0", "L5"}));
  EXPECT_EQ(last_names(Filter::ge("id", static_cast<std::int64_t>(ids_[8]))), (Names{"L8", "L9"}));
}

TEST_P(QueryTest, FiltersCombineWithAndOrNot) {
  auto ceo = Filter::eq("title", "CEO");
  auto has_email = !Filter::is_null("email");
  EXPECT_EQ(last_names(ceo && has_email), Names{"L0"});
  EXPECT_EQ(last_names(ceo || Filter::eq("last_name", "L3")), (Names{"L0", "L3", "L5"}));
  EXPECT_EQ(last_names(!(Filter::lt("last_name", "L8"))), (Names{"L8", "L9"}));
  EXPECT_EQ(last_names((ceo || Filter::eq("last_name", "L2")) && has_email), (Names{"L0", "L2"}));
}

TEST_P(QueryTest, LikeWildcardsInTheNeedleMatchThemselves) {
  db().transact([&](UnitOfWork& uow) {
    Contact c = contact("x", "100%_sure!");
    stores(db()).contacts().create(uow, c);
  });
  EXPECT_EQ(last_names(Filter::contains("last_name", "%_")), Names{"100%_sure!"});
  EXPECT_EQ(last_names(Filter::contains("last_name", "0%")), Names{"100%_sure!"});
  EXPECT_EQ(last_names(Filter::contains("last_name", "_")).size(), 1u);
  EXPECT_EQ(last_names(Filter::starts_with("last_name", "L")).size(), 10u);
  EXPECT_EQ(last_names(Filter::contains("last_name", "e!")).size(), 1u);
}

// People search as they type: "ada" finds "Ada", "émi" finds "ÉMILE" (Unicode's case
// mappings on both backends), while equality and `in` stay exact.
TEST_P(QueryTest, ContainsAndStartsWithIgnoreCaseWhileEqualityStaysExact) {
  db().transact([&](UnitOfWork& uow) {
    stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
    stores(db()).contacts().create(uow, contact("ÉMILE", "Zola"));
    stores(db()).contacts().create(uow, contact("Ωmega", "Greek"));
  });
  EXPECT_EQ(last_names(Filter::contains("first_name", "ada")), Names{"Lovelace"});
  EXPECT_EQ(last_names(Filter::starts_with("first_name", "AD")), Names{"Lovelace"});
  EXPECT_EQ(last_names(Filter::starts_with("first_name", "émi")), Names{"Zola"});
  EXPECT_EQ(last_names(Filter::contains("first_name", "Mil")), Names{"Zola"});
  EXPECT_EQ(last_names(Filter::contains("first_name", "ωMEGA")), Names{"Greek"});
  EXPECT_EQ(last_names(Filter::contains("last_name", "l")).size(), 12u)
      << "L0 to L9, Lovelace, Zola";
  EXPECT_TRUE(last_names(Filter::eq("first_name", "ada")).empty());
  EXPECT_TRUE(last_names(Filter::in("first_name", {std::string("émile")})).empty());
  EXPECT_EQ(last_names(Filter::eq("first_name", "Ada")), Names{"Lovelace"});
}

TEST_P(QueryTest, SortsOnAnyFieldBothWaysWithNullsFirstAscending) {
  EXPECT_EQ(last_names({}, {"first_name", false}).front(), "L9");
  EXPECT_EQ(last_names({}, {"first_name", true}).front(), "L0");
  Names by_email = last_names({}, {"email", false});
  EXPECT_EQ(Names(by_email.begin(), by_email.begin() + 5), (Names{"L1", "L3", "L5", "L7", "L9"}))
      << "NULLs first, ties by id";
  EXPECT_EQ(by_email[5], "L0");
  Names by_email_desc = last_names({}, {"email", true});
  EXPECT_EQ(by_email_desc.front(), "L8");
  EXPECT_EQ(by_email_desc.back(), "L1") << "NULLs last descending, ties by id descending";
}

// Sorting by title ascending (NULLs first), then email descending (NULLs last), then id:
// one page and pages of three both give the order worked out here from the rows.
TEST_P(QueryTest, SortsOnSeveralKeysAndPagesThroughThemInThatOrder) {
  struct Row {
    std::optional<std::string> title, email;
    Id id;
    std::string last_name;
  };
  std::vector<Row> rows;
  db().transact([&](UnitOfWork& uow) {
    // Ties on both keys: a second CEO without email and two more rows without either.
    for (const auto& [last, title] :
         {std::pair{"M0", "CEO"}, std::pair{"M1", ""}, std::pair{"M2", ""}}) {
      Contact c = contact("G", last);
      if (*title != '\0') c.title = title;
      stores(db()).contacts().create(uow, c);
    }
    PageRequest all;
    all.limit = 100;
    for (const Contact& c : stores(db()).contacts().query(uow, all).items)
      rows.push_back({c.title, c.email, c.id, c.last_name});
  });
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.title != b.title) return a.title < b.title;  // nullopt first
    if (a.email != b.email) return !b.email || (a.email && *a.email > *b.email);
    return a.id > b.id;  // ties by id in the last key's direction
  });
  Names expected;
  for (const Row& r : rows) expected.push_back(r.last_name);

  PageRequest r;
  r.sort = {"title", false};
  r.then_by = {{"email", true}};
  r.limit = 100;
  Names one_page;
  Names paged;
  db().transact([&](UnitOfWork& uow) {
    for (const Contact& c : stores(db()).contacts().query(uow, r).items)
      one_page.push_back(c.last_name);
    r.limit = 3;
    do {
      auto page = stores(db()).contacts().query(uow, r);
      for (const Contact& c : page.items) paged.push_back(c.last_name);
      r.cursor = page.next_cursor;
    } while (r.cursor);
  });
  EXPECT_EQ(one_page, expected);
  EXPECT_EQ(paged, expected);
}

TEST_P(QueryTest, RefusesTooManyRepeatedOrTrailingSortKeysAndCursorsOfOtherKeys) {
  db().transact([&](UnitOfWork& uow) {
    const auto refused = [&](const PageRequest& r, const char* why) {
      try {
        stores(db()).contacts().query(uow, r);
        ADD_FAILURE() << "accepted " << why;
      } catch (const ValidationError& e) {
        EXPECT_EQ(e.field(), "sort") << why;
      }
    };
    PageRequest r;
    r.sort = {"title", false};
    r.then_by = {{"email", false}, {"first_name", false}, {"last_name", false}, {"id", false}};
    refused(r, "five keys");
    r.then_by = {{"email", false}, {"title", true}};
    refused(r, "a key named twice");
    r.then_by = {{"id", false}, {"email", false}};
    refused(r, "a key after id");

    r.then_by = {{"email", true}};
    r.limit = 2;
    auto page = stores(db()).contacts().query(uow, r);
    ASSERT_TRUE(page.next_cursor);
    r.cursor = page.next_cursor;
    r.then_by = {{"email", false}};
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError)
        << "cursor of another direction on the second key";
    r.then_by = {};
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError)
        << "cursor of two keys on a one-key sort";
  });
}

TEST_P(QueryTest, RejectsUnknownFieldsWrongValueTypesAndBadCursors) {
  auto expect_field = [&](const Filter& f, const char* field) {
    try {
      last_names(f);
      ADD_FAILURE() << "accepted a bad filter on " << field;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field);
    }
  };
  expect_field(Filter::eq("shoe_size", "42"), "shoe_size");
  expect_field(Filter::eq("last_name", std::int64_t{3}), "last_name");
  expect_field(Filter::eq("created_at", "yesterday"), "created_at");
  expect_field(Filter::contains("id", "1"), "id");
  expect_field(Filter::lt("email", std::monostate{}), "email");
  expect_field(Filter::eq("last_name", "bad\xFF"), "last_name");
  db().transact([&](UnitOfWork& uow) {
    PageRequest r;
    r.cursor = "not-a-cursor!";
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError);
    r.cursor.reset();
    r.limit = 0;
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError);
    r.limit = 2;
    r.sort = {"last_name", false};
    auto page = stores(db()).contacts().query(uow, r);
    ASSERT_TRUE(page.next_cursor);
    r.sort = {"first_name", false};
    r.cursor = page.next_cursor;
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError)
        << "cursor of another sort";
    r.sort = {"bogus", false};
    EXPECT_THROW(stores(db()).contacts().query(uow, r), ValidationError);
  });
}

TEST_P(QueryTest, CountsWithFilters) {
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).contacts().count(uow), 10u);
    EXPECT_EQ(stores(db()).contacts().count(uow, Filter::is_null("email")), 5u);
    EXPECT_EQ(
        stores(db()).contacts().count(uow, Filter::eq("title", "CEO") && Filter::is_null("email")),
        1u);
  });
}

// Walk every page while rows are inserted before, between and after the cursor: each row
// that existed when the walk started is seen exactly once.
TEST_P(QueryTest, KeysetPagesStayCorrectWhileRowsAreInserted) {
  using Keys = std::vector<store::Sort>;
  for (const Keys& keys :
       {Keys{{"last_name", false}}, Keys{{"email", false}}, Keys{{"email", true}},
        Keys{{"id", true}}, Keys{{"first_name", true}}, Keys{{"title", false}, {"email", true}},
        Keys{{"title", true}, {"email", false}, {"last_name", true}}}) {
    const store::Sort& sort = keys.front();
    std::set<Id> seen;
    std::optional<std::string> cursor;
    int page_count = 0;
    int inserted = 0;
    do {
      auto page = db().transact([&](UnitOfWork& uow) {
        PageRequest r;
        r.sort = sort;
        r.then_by.assign(keys.begin() + 1, keys.end());
        r.limit = 3;
        r.cursor = cursor;
        return stores(db()).contacts().query(uow, r);
      });
      for (const Contact& c : page.items) {
        EXPECT_TRUE(seen.insert(c.id).second)
            << "row " << c.id << " seen twice, sort " << sort.field;
      }
      cursor = page.next_cursor;
      ++page_count;
      // Someone inserts rows sorting anywhere (first, middle, last) between our pages.
      db().transact([&](UnitOfWork& uow) {
        for (const char* last : {"A-new", "L4-new", "Z-new"}) {
          Contact c = contact("N" + std::to_string(inserted), last);
          if (inserted % 2 == 1) c.email = "n" + std::to_string(inserted) + "@example.com";
          stores(db()).contacts().create(uow, c);
          ++inserted;
        }
      });
    } while (cursor && page_count < 100);
    for (Id id : ids_)
      EXPECT_TRUE(seen.count(id)) << "row " << id << " skipped, sort " << sort.field;
    db().transact([&](UnitOfWork& uow) {
      // Remove the newcomers for the next sort.
      PageRequest r;
      r.filter = Filter::starts_with("first_name", "N");
      r.limit = 1000;
      for (const Contact& c : stores(db()).contacts().query(uow, r).items)
        stores(db()).contacts().remove(uow, c.id);
    });
  }
}

TEST_P(QueryTest, PagesCoverEverythingExactlyOnceWithoutInserts) {
  std::vector<Id> all;
  std::optional<std::string> cursor;
  do {
    auto page = db().transact([&](UnitOfWork& uow) {
      PageRequest r;
      r.sort = {"title", false};
      r.limit = 4;
      r.cursor = cursor;
      return stores(db()).contacts().query(uow, r);
    });
    EXPECT_LE(page.items.size(), 4u);
    for (const Contact& c : page.items) all.push_back(c.id);
    cursor = page.next_cursor;
  } while (cursor);
  std::vector<Id> expected = ids_;
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, expected);
}

TEST_P(QueryTest, FiltersOnTimesDatesIdsAndBooleans) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    for (int m = 1; m <= 4; ++m) {
      Deal d;
      d.title = "Q" + std::to_string(m);
      d.pipeline_id = p.pipeline.id;
      d.stage_id = m % 2 ? p.lead.id : p.won.id;
      d.amount = Money{m * 1000, "USD"};
      d.expected_close = std::chrono::year{2027} / m / 1;
      stores(db()).deals().create(uow, d);
    }
    User u;
    u.email = "off@example.com";
    u.name = "Off";
    u.active = false;
    stores(db()).users().create(uow, u);
  });
  db().transact([&](UnitOfWork& uow) {
    using std::chrono::year;
    Date march = year{2027} / 3 / 1;
    EXPECT_EQ(stores(db()).deals().count(uow, store::Filter::ge("expected_close", march)), 2u);
    EXPECT_EQ(stores(db()).deals().count(
                  uow, store::Filter::eq("stage_id", static_cast<std::int64_t>(p.won.id))),
              2u);
    EXPECT_EQ(
        stores(db()).deals().count(uow, store::Filter::gt("amount_minor", std::int64_t{2500})), 2u);
    // A deal in a won stage is won.
    EXPECT_EQ(stores(db()).deals().count(uow, store::Filter::eq("status", "open")), 2u);
    EXPECT_EQ(stores(db()).deals().count(uow, store::Filter::eq("status", "won")), 2u);
    EXPECT_THROW(stores(db()).deals().count(uow, store::Filter::eq("status", "pending")),
                 ValidationError);
    EXPECT_EQ(stores(db()).users().count(uow, store::Filter::eq("active", false)), 1u);
    Timestamp later = std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now() + std::chrono::hours(1));
    EXPECT_EQ(stores(db()).deals().count(uow, store::Filter::lt("created_at", later)), 4u);
    EXPECT_EQ(stores(db()).deals().count(uow, store::Filter::gt("created_at", later)), 0u);
  });
}

}  // namespace
}  // namespace banyan::test
