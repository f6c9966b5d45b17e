// Repository<T> on both backends: the life of a record, versions, upserts, bad input.
#include <string>
#include <thread>

#include "store/stores.hpp"
#include "store_fixture.hpp"

namespace banyan::test {
namespace {

using store::Filter;
using store::UnitOfWork;

class RepositoryTest : public StoreTest {};
BANYAN_ON_BOTH_BACKENDS(RepositoryTest);

TEST_P(RepositoryTest, CreateAssignsIdVersionAndAuditColumns) {
  User owner = db().transact([&](UnitOfWork& uow) {
    User u;
    u.email = "owner@example.com";
    u.name = "Owner";
    return stores(db()).users().create(uow, u);
  });
  Contact c = db().transact(
      [&](UnitOfWork& uow) {
        Contact in = contact("Ada", "Lovelace", "ada@example.com");
        in.owner_id = owner.id;
        in.id = 999;      // ignored
        in.version = 42;  // ignored
        return stores(db()).contacts().create(uow, in);
      },
      owner.id);
  EXPECT_GT(c.id, 0u);
  EXPECT_EQ(c.version, 1u);
  EXPECT_EQ(c.created_by, owner.id);
  EXPECT_EQ(c.updated_by, owner.id);
  EXPECT_EQ(c.created_at, c.updated_at);
  EXPECT_FALSE(c.archived());
  Contact read =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(read, c);
}

TEST_P(RepositoryTest, UpdateBumpsTheVersionAndKeepsCreationColumns) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
  });
  c.title = "Countess";
  c.created_by = 12345;  // history is not the caller's to rewrite
  Contact updated =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().update(uow, c); }, 7);
  EXPECT_EQ(updated.version, 2u);
  EXPECT_EQ(updated.title, "Countess");
  EXPECT_EQ(updated.created_by, std::nullopt);
  EXPECT_EQ(updated.updated_by, 7u);
  EXPECT_GE(updated.updated_at, updated.created_at);
}

TEST_P(RepositoryTest, RejectsAStaleVersionWithConflictAndChangesNothing) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
  });
  Contact first = c, second = c;
  first.title = "first";
  second.title = "second";
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, first); });
  try {
    db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, second); });
    FAIL() << "a stale update was accepted";
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "version");
  }
  Contact now =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(now.title, "first");
  EXPECT_EQ(now.version, 2u);
}

TEST_P(RepositoryTest, ArchiveHidesFromQueriesAndRestoreBringsBack) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
  });
  Contact archived =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().archive(uow, c.id); });
  EXPECT_TRUE(archived.archived());
  EXPECT_EQ(archived.version, 2u);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).contacts().count(uow), 0u);
    EXPECT_EQ(stores(db()).contacts().count(uow, {}, /*include_archived=*/true), 1u);
    EXPECT_TRUE(stores(db()).contacts().get(uow, c.id).archived()) << "get still reads it";
    EXPECT_EQ(stores(db()).contacts().archive(uow, c.id).version, 2u)
        << "archiving twice is a no-op";
  });
  Contact restored =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().restore(uow, c.id); });
  EXPECT_FALSE(restored.archived());
  EXPECT_EQ(restored.version, 3u);
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).contacts().count(uow), 1u); });
}

TEST_P(RepositoryTest, RemoveDeletesAndThenReportsNotFound) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
  });
  db().transact([&](UnitOfWork& uow) { stores(db()).contacts().remove(uow, c.id); });
  db().transact([&](UnitOfWork& uow) {
    EXPECT_FALSE(stores(db()).contacts().find(uow, c.id).has_value());
    EXPECT_THROW(stores(db()).contacts().get(uow, c.id), NotFound);
    EXPECT_THROW(stores(db()).contacts().remove(uow, c.id), NotFound);
    Contact ghost = c;
    EXPECT_THROW(stores(db()).contacts().update(uow, ghost), NotFound);
  });
}

TEST_P(RepositoryTest, UpsertCreatesThenUpdatesByExternalId) {
  Company in;
  in.name = "Initech";
  in.external_id = "legacy-42";
  Company created =
      db().transact([&](UnitOfWork& uow) { return stores(db()).companies().upsert(uow, in); });
  in.name = "Initech Ltd";
  in.version = 0;  // upsert ignores the version it is given
  Company updated =
      db().transact([&](UnitOfWork& uow) { return stores(db()).companies().upsert(uow, in); });
  EXPECT_EQ(updated.id, created.id);
  EXPECT_EQ(updated.name, "Initech Ltd");
  EXPECT_EQ(updated.version, 2u);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).companies().count(uow), 1u);
    EXPECT_EQ(stores(db()).companies().find_by_external_id(uow, "legacy-42")->id, created.id);
    Company no_key;
    no_key.name = "x";
    EXPECT_THROW(stores(db()).companies().upsert(uow, no_key), ValidationError);
  });
}

TEST_P(RepositoryTest, ExternalIdsAreUniquePerObjectType) {
  db().transact([&](UnitOfWork& uow) {
    Contact a = contact("A", "A");
    a.external_id = "ext-1";
    stores(db()).contacts().create(uow, a);
    Company co;
    co.name = "Same key, other type";
    co.external_id = "ext-1";
    EXPECT_NO_THROW(stores(db()).companies().create(uow, co));
  });
  try {
    db().transact([&](UnitOfWork& uow) {
      Contact b = contact("B", "B");
      b.external_id = "ext-1";
      stores(db()).contacts().create(uow, b);
    });
    FAIL();
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "external_id");
  }
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).contacts().count(uow), 1u); });
}

TEST_P(RepositoryTest, DuplicateUserEmailIsAConflictOnTheEmailField) {
  User u;
  u.email = "sam@example.com";
  u.name = "Sam";
  db().transact([&](UnitOfWork& uow) { stores(db()).users().create(uow, u); });
  try {
    db().transact([&](UnitOfWork& uow) { stores(db()).users().create(uow, u); });
    FAIL();
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "email");
  }
}

// Each bad record must give ValidationError naming `field`, and store nothing.
struct BadContact {
  const char* what;
  const char* field;
  Contact record;
};

TEST_P(RepositoryTest, RejectsBadInputWithTheOffendingFieldAndStoresNothing) {
  const std::string long_text(256, 'x');
  std::vector<BadContact> cases = {
      {"malformed email", "email", contact("Ada", "L", "ada.example.com")},
      {"over-long name", "last_name", contact("Ada", long_text)},
      {"missing names", "last_name", contact("", " ")},
      {"invalid UTF-8", "first_name", contact("Ad\xC3\x28", "L")},
      {"NUL byte", "last_name", contact("Ada", std::string("L\0x", 3))},
      {"over-long title", "title",
       [&] {
         Contact c = contact("Ada", "L");
         c.title = long_text;
         return c;
       }()},
      {"empty external id", "external_id",
       [&] {
         Contact c = contact("Ada", "L");
         c.external_id = "";
         return c;
       }()},
      {"owner that does not exist", "owner_id",
       [&] {
         Contact c = contact("Ada", "L");
         c.owner_id = 424242;
         return c;
       }()},
  };
  for (const BadContact& bad : cases) {
    try {
      db().transact([&](UnitOfWork& uow) { stores(db()).contacts().create(uow, bad.record); });
      ADD_FAILURE() << bad.what << " was accepted";
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), bad.field) << bad.what;
    }
  }
  db().transact(
      [&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).contacts().count(uow, {}, true), 0u); });
}

TEST_P(RepositoryTest, RejectsBadDealsStagesAndTags) {
  SalesPipeline p = make_pipeline();
  Pipeline other = db().transact([&](UnitOfWork& uow) {
    return stores(db()).pipelines().create(uow, named<Pipeline>("Other"));
  });
  auto deal = [&] {
    Deal d;
    d.title = "Big one";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    d.amount = Money{100000, "EUR"};
    return d;
  };
  auto expect_invalid = [&](auto repo, auto record, const char* field) {
    try {
      db().transact([&](UnitOfWork& uow) { repo.create(uow, record); });
      ADD_FAILURE() << "accepted a record with a bad " << field;
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), field);
    }
  };
  Deal d = deal();
  d.pipeline_id = other.id;  // stage belongs to another pipeline
  expect_invalid(stores(db()).deals(), d, "stage_id");
  d = deal();
  d.amount.currency = "euro";
  expect_invalid(stores(db()).deals(), d, "currency");
  d = deal();
  d.amount.minor_units = -1;
  expect_invalid(stores(db()).deals(), d, "amount");
  d = deal();
  d.company_id = 999999;
  expect_invalid(stores(db()).deals(), d, "company_id");
  Stage s;
  s.pipeline_id = p.pipeline.id;
  s.name = "Too likely";
  s.position = 9;
  s.win_probability = 101;
  expect_invalid(stores(db()).stages(), s, "win_probability");
  Tag t;
  t.name = "vip";
  t.color = "red";
  expect_invalid(stores(db()).tags(), t, "color");
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).deals().count(uow), 0u); });
}

TEST_P(RepositoryTest, StoresSqlMetacharactersQuotesAndUnicodeVerbatim) {
  const std::vector<std::string> nasty = {
      "Robert'); DROP TABLE contacts;--",  "\"double\" and 'single' quotes",
      "back\\slash \\' \\\" %_ wildcards", "semi;colon -- comment /* block */",
      "😀 emoji, ünïcödé, 中文, עברית",     "`backticks` and $dollar$ and ?question?",
  };
  for (const std::string& s : nasty) {
    Contact in = contact(s, s, "o'neil+" + std::to_string(s.size()) + "@example.com");
    in.phone = s;
    in.title = s;
    in.external_id = s;
    Contact out =
        db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().create(uow, in); });
    Contact back =
        db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, out.id); });
    EXPECT_EQ(back.first_name, s);
    EXPECT_EQ(back.last_name, s);
    EXPECT_EQ(back.phone, s);
    EXPECT_EQ(back.title, s);
    EXPECT_EQ(back.external_id, s);
    db().transact([&](UnitOfWork& uow) {
      EXPECT_EQ(stores(db()).contacts().count(uow, Filter::eq("last_name", s)), 1u) << s;
      EXPECT_EQ(stores(db()).contacts().count(uow, Filter::contains("title", s)), 1u) << s;
      EXPECT_EQ(stores(db()).contacts().find_by_external_id(uow, s)->id, out.id);
    });
  }
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).contacts().count(uow), nasty.size()) << "the table is still there";
  });
}

// The same, for every string field of every other record type.
TEST_P(RepositoryTest, EveryStringFieldOfEveryTypeRoundTripsVerbatim) {
  const std::string s = "O'Brien \"the\" \\ 100% _x_ ; DROP TABLE t;-- 😀";
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    auto round_trip = [&](auto repo, auto record) {
      auto stored = repo.create(uow, record);
      EXPECT_EQ(repo.get(uow, stored.id), stored);
      return stored;
    };
    User u;
    u.email = "o'brien+x@example.com";
    u.name = s;
    u.external_id = s;
    EXPECT_EQ(round_trip(stores(db()).users(), u).name, s);
    EXPECT_EQ(round_trip(stores(db()).teams(), named<Team>(s)).name, s);
    EXPECT_EQ(round_trip(stores(db()).tags(), named<Tag>(s)).name, s);
    EXPECT_EQ(round_trip(stores(db()).pipelines(), named<Pipeline>(s)).name, s);
    Company co;
    co.name = co.domain.emplace(s);
    co.industry = co.phone = co.website = s;
    EXPECT_EQ(round_trip(stores(db()).companies(), co).website, s);
    Lead l;
    l.first_name = l.last_name = s;
    l.phone = l.company_name = l.source = s;
    l.email = "lead@example.com";
    EXPECT_EQ(round_trip(stores(db()).leads(), l).company_name, s);
    Stage st;
    st.pipeline_id = p.pipeline.id;
    st.name = s;
    st.position = 99;
    EXPECT_EQ(round_trip(stores(db()).stages(), st).name, s);
    Deal d;
    d.title = s;
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    EXPECT_EQ(round_trip(stores(db()).deals(), d).title, s);
    Activity a;
    a.subject = s;
    a.body = s + "\n" + s;
    EXPECT_EQ(round_trip(stores(db()).activities(), a).body, s + "\n" + s);
  });
}

TEST_P(RepositoryTest, ARejectedUpdateChangesNothing) {
  Contact c = db().transact([&](UnitOfWork& uow) {
    return stores(db()).contacts().create(uow, contact("Ada", "Lovelace", "ada@example.com"));
  });
  for (const char* bad_email : {"not an email", "ada@\xFF.com"}) {
    Contact next = c;
    next.last_name = "Changed";
    next.email = bad_email;
    EXPECT_THROW(db().transact([&](UnitOfWork& uow) { stores(db()).contacts().update(uow, next); }),
                 ValidationError);
  }
  Contact now =
      db().transact([&](UnitOfWork& uow) { return stores(db()).contacts().get(uow, c.id); });
  EXPECT_EQ(now, c);
}

TEST_P(RepositoryTest, WorkPastItsCommitDeadlineIsRolledBackAndOtherThreadsAreUnaffected) {
  {
    store::CommitDeadline deadline(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
    EXPECT_THROW(db().transact([&](UnitOfWork& uow) {
      stores(db()).contacts().create(uow, contact("Ada", "Late"));
    }),
                 Unavailable);
    // Another thread has no deadline.
    std::thread([&] {
      db().transact([&](UnitOfWork& uow) {
        stores(db()).contacts().create(uow, contact("Ada", "Elsewhere"));
      });
    }).join();
    {
      store::CommitDeadline later(std::chrono::steady_clock::now() +
                                  std::chrono::minutes(1));  // the innermost holds
      db().transact(
          [&](UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Ada", "Inner")); });
    }
    EXPECT_TRUE(store::CommitDeadline::current().has_value());
  }
  EXPECT_FALSE(store::CommitDeadline::current().has_value());
  db().transact(
      [&](UnitOfWork& uow) { stores(db()).contacts().create(uow, contact("Ada", "After")); });
  const auto names = db().read([&](UnitOfWork& uow) {
    std::vector<std::string> out;
    for (const auto& c : stores(db()).contacts().query(uow, {}).items) out.push_back(c.last_name);
    return out;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"Elsewhere", "Inner", "After"}));
}

TEST_P(RepositoryTest, AFailedUnitOfWorkLeavesNothingBehind) {
  SalesPipeline p = make_pipeline();
  EXPECT_THROW(db().transact([&](UnitOfWork& uow) {
    Company co;
    co.name = "Halfway Inc";
    co = stores(db()).companies().create(uow, co);
    stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
    Deal d;
    d.title = "never";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    d.company_id = co.id;
    stores(db()).deals().create(uow, d);
    stores(db()).contacts().create(uow, contact("Bad", "Email", "nope"));  // throws
  }),
               ValidationError);
  db().transact([&](UnitOfWork& uow) {
    EXPECT_EQ(stores(db()).companies().count(uow, {}, true), 0u);
    EXPECT_EQ(stores(db()).contacts().count(uow, {}, true), 0u);
    EXPECT_EQ(stores(db()).deals().count(uow, {}, true), 0u);
  });
}

TEST_P(RepositoryTest, AnUncommittedUnitOfWorkRollsBackWhenDestroyed) {
  {
    UnitOfWork uow = db().begin();
    stores(db()).contacts().create(uow, contact("Ada", "Lovelace"));
  }
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).contacts().count(uow), 0u); });
  UnitOfWork done = db().begin();
  done.commit();
  EXPECT_FALSE(done.active());
  EXPECT_THROW(stores(db()).contacts().count(done), Conflict) << "an ended unit of work is refused";
}

TEST_P(RepositoryTest, EveryRecordTypeRoundTrips) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    Team team = stores(db()).teams().create(uow, named<Team>("EMEA"));
    User u;
    u.email = "rep@example.com";
    u.name = "Rep";
    u.team_id = team.id;
    u = stores(db()).users().create(uow, u);
    EXPECT_EQ(stores(db()).users().get(uow, u.id), u);
    Tag t;
    t.name = "vip";
    t.color = "#ff0000";
    t = stores(db()).tags().create(uow, t);
    EXPECT_EQ(stores(db()).tags().get(uow, t.id), t);
    Company co;
    co.name = "Acme";
    co.domain = "acme.test";
    co.employee_count = 250;
    co.owner_id = u.id;
    co.team_id = team.id;
    co = stores(db()).companies().create(uow, co);
    EXPECT_EQ(stores(db()).companies().get(uow, co.id), co);
    Lead l;
    l.first_name = "Lee";
    l.last_name = "Prospect";
    l.status = LeadStatus::kQualified;
    l.source = "web";
    l = stores(db()).leads().create(uow, l);
    EXPECT_EQ(stores(db()).leads().get(uow, l.id), l);
    Deal d;
    d.title = "Acme expansion";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.proposal.id;
    d.amount = Money{1234567, "USD"};
    d.expected_close = std::chrono::year{2027} / 3 / 31;
    d.company_id = co.id;
    d.status = DealStatus::kOpen;
    d = stores(db()).deals().create(uow, d);
    EXPECT_EQ(stores(db()).deals().get(uow, d.id), d);
    Activity a;
    a.kind = ActivityKind::kMeeting;
    a.subject = "Kick-off";
    a.body = std::string(100000, 'b');
    a.due_at = Timestamp(std::chrono::microseconds(1790000000123456));
    a = stores(db()).activities().create(uow, a);
    EXPECT_EQ(stores(db()).activities().get(uow, a.id), a) << "microseconds survive";
    EXPECT_EQ(stores(db()).stages().get(uow, p.won.id), p.won);
    EXPECT_EQ(stores(db()).pipelines().get(uow, p.pipeline.id), p.pipeline);
  });
}

TEST_P(RepositoryTest, RefusesToDeleteRecordsOthersStillReferTo) {
  SalesPipeline p = make_pipeline();
  db().transact([&](UnitOfWork& uow) {
    Deal d;
    d.title = "Keeps the stage";
    d.pipeline_id = p.pipeline.id;
    d.stage_id = p.lead.id;
    stores(db()).deals().create(uow, d);
  });
  try {
    db().transact([&](UnitOfWork& uow) { stores(db()).stages().remove(uow, p.lead.id); });
    FAIL();
  } catch (const Conflict& e) {
    EXPECT_EQ(e.field(), "stage_id");
  }
  EXPECT_THROW(
      db().transact([&](UnitOfWork& uow) { stores(db()).pipelines().remove(uow, p.pipeline.id); }),
      Conflict);
  db().transact([&](UnitOfWork& uow) { EXPECT_EQ(stores(db()).stages().count(uow), 4u); });
}

}  // namespace
}  // namespace banyan::test
