// The event feed over HTTP on both backends: an integration that was away catches up on
// every change, deletions included, in commit order; masking, patterns, long-polling and
// an expired cursor.
#include <future>

#include "server_writes_fixture.hpp"

namespace banyan::test {
namespace {

class ServerEventsTest : public ServerWritesTest {
 protected:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Every event after `after` (waiting up to 10 s for the relay to pass the writes made
  // so far, which end with `last_type`), as "type record-id"; sets `after` to the end.
  std::vector<std::string> catch_up(std::string& after, const std::string& last_type,
                                    const Headers& headers = {}, const std::string& types = "") {
    std::vector<std::string> out;
    for (int round = 0; round < 200; ++round) {
      const json page =
          ok("GET",
             "/v1/events?limit=2&wait=1&after=" + after + (types.empty() ? "" : "&types=" + types),
             nullptr, 200, headers);
      for (const auto& e : page["items"])
        out.push_back(e["type"].get<std::string>() + " " + e["record"]["id"].dump());
      after = page["next"].get<std::string>();
      if (!page["more"].get<bool>() && !out.empty() && out.back().starts_with(last_type)) break;
    }
    return out;
  }
  // The feed's end now (after the relay has passed a marker write).
  std::string end_of_feed() {
    const json marker = ok("POST", "/v1/tags", {{"name", "marker-" + std::to_string(++markers_)}});
    std::string after = "0";
    catch_up(after, "tag.created " + marker["id"].dump());
    return after;
  }

 private:
  int markers_ = 0;
};

using Lines = std::vector<std::string>;

TEST_P(ServerEventsTest, AnIntegrationThatWasAwayCatchesUpOnEveryChangeDeletesIncluded) {
  std::string cursor = end_of_feed();
  // While the integration is away: creates, a change, a link, a deletion.
  const json acme = ok("POST", "/v1/companies", {{"name", "Acme"}, {"external_id", "acct-1"}});
  const json ada =
      ok("POST", "/v1/contacts",
         {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"email", "ada@example.com"}});
  const std::string ada_path = "/v1/contacts/" + ada["id"].dump();
  ok("PATCH", ada_path, {{"title", "Countess"}});
  ok("PUT", ada_path + "/companies/" + acme["id"].dump(), json::object());
  EXPECT_EQ(call("DELETE", "/v1/companies/" + acme["id"].dump()).status, 204);
  const std::string acme_id = acme["id"].dump(), ada_id = ada["id"].dump();
  EXPECT_EQ(
      catch_up(cursor, "company.deleted"),
      (Lines{"company.created " + acme_id, "contact.created " + ada_id, "contact.updated " + ada_id,
             "contact.company_linked " + ada_id, "company.deleted " + acme_id}));
  const json tail = ok("GET", "/v1/events?after=" + cursor);
  EXPECT_TRUE(tail["items"].empty()) << "caught up";
  // The deletion says which record it was, by its external id too.
  const json everything = ok("GET", "/v1/events?types=company.deleted&limit=1000");
  const json& gone = everything["items"].back();
  EXPECT_EQ(gone["record"]["id"], acme["id"]);
  EXPECT_EQ(gone["payload"]["external_id"], "acct-1");
}

TEST_P(ServerEventsTest, EventsAreMaskedAndScopedAsTheRecordsAre) {
  const std::string reader = key_for("reader@example.com", {"read_only"});
  const std::string cursor = end_of_feed();
  ok("POST", "/v1/contacts", {{"last_name", "Secret"}, {"email", "secret@example.com"}});
  std::string as_admin = cursor, as_reader = cursor;
  const Lines seen = catch_up(as_admin, "contact.created");
  ASSERT_EQ(seen.size(), 1u);
  const json mine = ok("GET", "/v1/events?types=contact.created&after=" + cursor);
  EXPECT_EQ(mine["items"][0]["payload"]["email"], "secret@example.com");
  const json theirs =
      ok("GET", "/v1/events?types=contact.created&after=" + cursor, nullptr, 200, as(reader));
  ASSERT_EQ(theirs["items"].size(), 1u);
  EXPECT_TRUE(theirs["items"][0]["payload"]["email"].is_null());
  EXPECT_EQ(theirs["items"][0]["payload"]["last_name"], "Secret");
}

TEST_P(ServerEventsTest, ALongPollAnswersWhenAnEventComes) {
  const std::string cursor = end_of_feed();
  // Another connection waits (the feed answers it once the relay passes the write, or at
  // once if the write was relayed before it looked).
  auto waiting = std::async(std::launch::async, [&] {
    HttpClient client(port_);
    return client.request("GET", "/v1/events?types=contact.*&wait=8s&after=" + cursor, "",
                          {{"authorization", "Bearer " + admin_key_}});
  });
  ok("POST", "/v1/contacts", {{"last_name", "Awaited"}});
  const HttpReply reply = waiting.get();
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json page = parsed(reply);
  ASSERT_EQ(page["items"].size(), 1u) << page.dump();
  EXPECT_EQ(page["items"][0]["payload"]["last_name"], "Awaited");
}

TEST_P(ServerEventsTest, BadParametersAre422AndAnExpiredCursorIs410) {
  refused("GET", "/v1/events?after=-1", nullptr, 422, "validation", "after");
  refused("GET", "/v1/events?after=x", nullptr, 422, "validation", "after");
  refused("GET", "/v1/events?limit=0", nullptr, 422, "validation", "limit");
  refused("GET", "/v1/events?types=con%20tact.*", nullptr, 422, "validation", "types");
  refused("GET", "/v1/events?wait=31s", nullptr, 422, "validation", "wait");
  refused("GET", "/v1/events?since=1", nullptr, 422, "validation", "since");
  const std::string cursor = end_of_feed();
  // What retention records when it deletes events up to a position (its own test runs
  // the deletion itself).
  scratch().raw("UPDATE event_feed SET purged_through = " + cursor);
  expect_problem(call("GET", "/v1/events?after=1"), 410, "cursor_expired");
  EXPECT_EQ(call("GET", "/v1/events?after=" + cursor).status, 200);
  EXPECT_EQ(call("GET", "/v1/events").status, 200);
}

BANYAN_ON_BOTH_BACKENDS(ServerEventsTest);

}  // namespace
}  // namespace banyan::test
