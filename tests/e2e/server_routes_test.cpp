// banyan-server as a real process, on SQLite and on MariaDB, driven over real HTTP: the
// routes beyond one record's CRUD (conversion, merge, stage moves, batches and upserts,
// custom fields and their filters, the administrators' routes, list queries) and the
// typed problems that bad bodies get.
#include <nlohmann/json.hpp>

#include <thread>

#include "server_fixture.hpp"
#include "store/stores.hpp"

namespace banyan::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST_P(ServerTest, LeadConversionMergeAndStageMovesAreEndpoints) {
  auto create = [&](const std::string& base, const json& body) {
    auto r = call("POST", "/v1/" + base, body);
    EXPECT_EQ(r.status, 201) << base << ": " << r.body;
    return parsed(r);
  };
  const json pipeline = create("pipelines", {{"name", "New"}});
  const json qualify =
      create("stages", {{"pipeline_id", pipeline["id"]}, {"name", "Qualify"}, {"position", 1}});
  const json propose =
      create("stages", {{"pipeline_id", pipeline["id"]}, {"name", "Propose"}, {"position", 2}});
  create("stages",
         {{"pipeline_id", pipeline["id"]}, {"name", "Won"}, {"position", 3}, {"kind", "won"}});
  create("stages",
         {{"pipeline_id", pipeline["id"]}, {"name", "Lost"}, {"position", 4}, {"kind", "lost"}});
  const json lead = create("leads", {{"first_name", "Grace"},
                                     {"last_name", "Brewster"},
                                     {"email", "grace@umbrella.example"},
                                     {"company_name", "Umbrella"}});
  const std::string convert = "/v1/leads/" + lead["id"].dump() + "/convert";
  // A bad deal is refused with the field named, and converts nothing.
  auto r = call(
      "POST", convert,
      {{"deal", {{"pipeline_id", pipeline["id"]}, {"stage_id", qualify["id"]}, {"colour", 1}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "deal.colour");
  r = call("POST", convert,
           {{"deal",
             {{"pipeline_id", pipeline["id"]},
              {"stage_id", qualify["id"]},
              {"amount", {{"minor_units", 500000}, {"currency", "USD"}}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json done = parsed(r);
  EXPECT_FALSE(done["lead"]["converted_at"].is_null());
  EXPECT_EQ(done["contact"]["email"], "grace@umbrella.example");
  EXPECT_EQ(done["company"]["name"], "Umbrella");
  EXPECT_TRUE(done["company_created"].get<bool>());
  EXPECT_EQ(done["deal"]["stage_id"], qualify["id"]);
  expect_problem(call("POST", convert, json::object()), 409, "conflict");  // converted already
  expect_problem(call("POST", "/v1/leads/999/convert", json::object()), 404, "not_found");

  // The deal moves a stage; its history shows both entries.
  const std::string deal = "/v1/deals/" + done["deal"]["id"].dump();
  r = call("POST", deal + "/stage", {{"stage_id", propose["id"]}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["stage_id"], propose["id"]);
  expect_problem(
      call("POST", deal + "/stage", {{"stage_id", qualify["id"]}}, {{"If-Match", "\"1\""}}), 412,
      "stale_version");
  expect_problem(call("POST", deal + "/stage", {{"stage_id", "next"}}), 422, "validation");
  const json history = parsed(call("GET", deal + "/stage-history"))["items"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[0]["from_stage_id"].is_null());
  EXPECT_EQ(history[1]["from_stage_id"], qualify["id"]);
  EXPECT_EQ(history[1]["to_stage_id"], propose["id"]);

  // Two contacts merge into one; the survivor keeps the email the request names.
  const json keep =
      create("contacts", {{"first_name", "Ada"}, {"last_name", "L"}, {"email", "ada@old.example"}});
  const json dup = create(
      "contacts", {{"first_name", "Ada"}, {"last_name", "Lovelace"}, {"email", "ada@new.example"}});
  r = call("POST", "/v1/contacts/" + keep["id"].dump() + "/merge",
           {{"losers", {dup["id"]}}, {"winners", {{"email", dup["id"]}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["survivor"]["email"], "ada@new.example");
  EXPECT_EQ(parsed(r)["merged"], json::array({dup["id"]}));
  EXPECT_EQ(parsed(call("GET", "/v1/contacts/" + dup["id"].dump()))["merged_into"], keep["id"]);
  expect_problem(
      call("POST", "/v1/contacts/" + keep["id"].dump() + "/merge", {{"losers", json::array()}}),
      422, "validation");
  expect_problem(call("POST", "/v1/deals/1/merge", {{"losers", {2}}}), 404, "no_route");
  expect_problem(call("GET", convert), 405, "method_not_allowed");
}

TEST_P(ServerTest, BatchCreateAndUpsertAreAllOrNothingAndNameTheBadItem) {
  auto r = call(
      "POST", "/v1/contacts/batch",
      {{"items",
        {{{"first_name", "A"}}, {{"first_name", "B"}, {"email", "bad"}}, {{"first_name", "C"}}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "items[1].email");
  EXPECT_EQ(contacts_in_db(), 0);
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back({{"first_name", "N" + std::to_string(i)}});
  expect_problem(call("POST", "/v1/contacts/batch", {{"items", many}}), 422, "validation");
  many.erase(many.begin());
  r = call("POST", "/v1/contacts/batch", {{"items", many}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parsed(r)["items"].size(), 100u);
  EXPECT_EQ(contacts_in_db(), 100);

  // Upsert by external id: created, then updated in place; a duplicate in the database
  // fails the whole call.
  r = call("POST", "/v1/companies/upsert",
           {{"items",
             {{{"external_id", "crm-1"}, {"name", "Acme"}},
              {{"external_id", "crm-2"}, {"name", "Globex"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto first = parsed(r)["items"];
  EXPECT_EQ(first[0]["outcome"], "created");
  EXPECT_EQ(parsed(r)["created"], 2);
  r = call("POST", "/v1/companies/upsert",
           {{"items", {{{"external_id", "crm-1"}, {"name", "Acme Corp"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["items"][0]["outcome"], "updated");
  EXPECT_EQ(parsed(r)["items"][0]["record"]["id"], first[0]["record"]["id"]);
  EXPECT_EQ(parsed(r)["items"][0]["record"]["name"], "Acme Corp");
  EXPECT_EQ(parsed(r)["items"][0]["record"]["version"], 2);
  r = call("POST", "/v1/companies/upsert", {{"items", {{{"name", "No key"}}}}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "items[0].external_id");
  r = call("POST", "/v1/users/batch",
           {{"items",
             {{{"email", "a@example.com"}, {"name", "A"}},
              {{"email", "a@example.com"}, {"name", "Twin"}}}}});
  expect_problem(r, 409, "conflict");
  EXPECT_EQ(parsed(r)["field"], "items[1].email");
  EXPECT_EQ(std::stoll(scratch().raw("SELECT COUNT(*) FROM users")), 1) << "only the test's admin";
  expect_problem(call("POST", "/v1/contacts/batch", {{"items", json::array()}}), 422, "validation");
  expect_problem(call("GET", "/v1/contacts/batch"), 405, "method_not_allowed");
}

TEST_P(ServerTest, ListsFilterOnCustomFieldsByTheirDefinedType) {
  db().transact([&](store::UnitOfWork& uow) {
    CustomFieldDefinition tier;
    tier.object_type = ObjectType::kContact;
    tier.name = "tier";
    tier.type = CustomFieldType::kEnum;
    tier.options = {"gold", "silver"};
    stores(db()).custom_fields().define(uow, tier);
    CustomFieldDefinition seats;
    seats.object_type = ObjectType::kContact;
    seats.name = "seats";
    seats.type = CustomFieldType::kNumber;
    stores(db()).custom_fields().define(uow, seats);
  });
  // The server rereads definitions within a second.
  HttpReply r;
  for (int i = 0; i < 100 && r.status != 201; ++i) {
    r = call("POST", "/v1/contacts",
             {{"first_name", "G"}, {"custom", {{"tier", "gold"}, {"seats", 12}}}});
    if (r.status != 201) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(parsed(r)["custom"], (json{{"tier", "gold"}, {"seats", 12}}));
  ASSERT_EQ(call("POST", "/v1/contacts",
                 {{"first_name", "S"}, {"custom", {{"tier", "silver"}, {"seats", 3}}}})
                .status,
            201);
  auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    const json page = parsed(call("GET", "/v1/contacts?" + query));
    for (const auto& item : page["items"]) out.push_back(item["first_name"]);
    return out;
  };
  EXPECT_EQ(names("custom.tier=gold"), std::vector<std::string>{"G"});
  EXPECT_EQ(names("custom.seats[gt]=5"), std::vector<std::string>{"G"});
  EXPECT_EQ(names("custom.seats[le]=5&custom.tier[in]=gold,silver"), std::vector<std::string>{"S"});
  expect_problem(call("GET", "/v1/contacts?custom.seats=many"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?custom.tier=bronze"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?custom.colour=red"), 422, "validation");
  expect_problem(
      call("POST", "/v1/contacts", {{"first_name", "B"}, {"custom", {{"tier", "bronze"}}}}), 422,
      "validation");
}

TEST_P(ServerTest, CustomFieldDefinitionsAreAResourceAndTheirRulesApplyToRecords) {
  auto r = call("POST", "/v1/custom-fields",
                {{"object_type", "contact"},
                 {"name", "tier"},
                 {"type", "enum"},
                 {"options", {"gold", "silver"}},
                 {"label", "Tier"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const json tier = parsed(r);
  const std::string path = "/v1/custom-fields/" + tier["id"].dump();
  EXPECT_EQ(r.header("location"), path);
  EXPECT_EQ(tier["type"], "enum");
  EXPECT_EQ(tier["options"], (json{"gold", "silver"}));
  expect_problem(call("POST", "/v1/custom-fields",
                      {{"object_type", "contact"}, {"name", "tier"}, {"type", "text"}}),
                 409, "conflict");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "contact"}, {"name", "Bad Name"}, {"type", "text"}});
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "name");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "planet"}, {"name", "x"}, {"type", "text"}});
  expect_problem(r, 422, "validation");
  r = call("POST", "/v1/custom-fields",
           {{"object_type", "contact"}, {"name", "x"}, {"type", "colour"}});
  expect_problem(r, 422, "validation");

  EXPECT_EQ(parsed(call("GET", "/v1/custom-fields?object_type=contact"))["items"].size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/custom-fields?object_type=deal"))["items"].size(), 0u);
  EXPECT_EQ(parsed(call("GET", path))["label"], "Tier");
  r = call("PATCH", path, {{"options", {"gold", "silver", "bronze"}}}, {{"If-Match", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["options"].size(), 3u);
  expect_problem(call("PATCH", path, {{"label", "Stale"}}, {{"If-Match", "1"}}), 412,
                 "stale_version");
  expect_problem(call("PATCH", path, {{"name", "level"}}), 422,
                 "validation");  // rename has its own call
  r = call("POST", path + "/rename", {{"name", "level"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["name"], "level");
  // Records follow the definition, also when the server learnt it from its own API.
  HttpReply made;
  for (int i = 0; i < 60 && made.status != 201; ++i) {
    made = call("POST", "/v1/contacts", {{"first_name", "A"}, {"custom", {{"level", "bronze"}}}});
    if (made.status != 201) std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(made.status, 201) << made.body;
  expect_problem(
      call("POST", "/v1/contacts", {{"first_name", "B"}, {"custom", {{"level", "platinum"}}}}), 422,
      "validation");
  r = call("POST", path + "/type", {{"type", "text"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parsed(r)["type"], "text");
  EXPECT_EQ(call("DELETE", path).status, 204);
  expect_problem(call("GET", path), 404, "not_found");
}

TEST_P(ServerTest, AdminEndpointsListShowReplayAndPurgeDeadLettersAndReportSagas) {
  for (int i = 1; i <= 3; ++i) add_dead_letter(i == 3 ? "mail" : "billing", i);
  auto r = call("GET", "/v1/admin/dead-letters?queue=billing");
  ASSERT_EQ(r.status, 200) << r.body;
  const json items = parsed(r)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["last_error"], "billing says 503");
  EXPECT_EQ(items[0]["event"]["type"], "deal.won");
  const std::string one = "/v1/admin/dead-letters/" + items[0]["id"].dump();
  EXPECT_EQ(parsed(call("GET", one))["id"], items[0]["id"]);
  const json stats = parsed(call("GET", "/v1/admin/dead-letters/stats"))["items"];
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0]["queue"], "billing");
  EXPECT_EQ(stats[0]["depth"], 2);
  r = call("POST", one + "/replay");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      std::stoll(scratch().raw("SELECT COUNT(*) FROM queue_messages WHERE queue = 'billing'")), 1);
  expect_problem(call("POST", one + "/replay"), 409, "conflict");  // replayed already
  EXPECT_EQ(parsed(call("POST", "/v1/admin/dead-letters/replay?queue=mail"))["replayed"], 1);
  EXPECT_EQ(parsed(call("GET", "/v1/admin/dead-letters"))["items"].size(),
            1u);  // replayed ones are history
  EXPECT_EQ(call("DELETE", one).status, 204);
  expect_problem(call("GET", one), 404, "not_found");
  expect_problem(call("GET", "/v1/admin/dead-letters?colour=red"), 422, "validation");
  EXPECT_EQ(parsed(call("GET", "/v1/admin/sagas"))["items"], json::array());
  expect_problem(call("GET", "/v1/admin/sagas/999"), 404, "not_found");
  expect_problem(call("POST", "/v1/admin/sagas"), 405, "method_not_allowed");
}

// The server runs the relay and the built-in sagas in-process: a lead conversion started
// by another process (here, the test) is carried out by the server and visible in admin.
TEST_P(ServerTest, TheServerRunsTheLeadConversionSagaInProcess) {
  const json lead = parsed(
      call("POST", "/v1/leads",
           {{"first_name", "Grace"}, {"last_name", "Brewster"}, {"company_name", "Umbrella"}}));
  const auto id = db().transact([&](store::UnitOfWork& uow) {
    return saga::start_lead_conversion(uow, {lead["id"].get<Id>(), std::nullopt, std::nullopt});
  });
  json instance;
  for (int i = 0; i < 400; ++i) {
    instance = parsed(call("GET", "/v1/admin/sagas/" + std::to_string(id)));
    if (instance["status"] == "completed") break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(instance["status"], "completed") << instance.dump();
  EXPECT_EQ(instance["saga"], "lead_conversion");
  const json converted = parsed(call("GET", "/v1/leads/" + lead["id"].dump()));
  EXPECT_EQ(converted["status"], "converted");
  EXPECT_FALSE(converted["converted_contact_id"].is_null());
  const json stats = parsed(call("GET", "/v1/admin/sagas"))["items"];
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["count"], 1);
}

TEST_P(ServerTest, ListsFilterSortSelectFieldsAndPageWithACursor) {
  for (const char* last : {"Hopper", "Lovelace", "Turing", "Liskov", "Knuth"})
    ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "X"}, {"last_name", last}}).status, 201);
  std::vector<std::string> names;
  std::string target = "/v1/contacts?limit=2&sort=-last_name&fields=last_name";
  for (int pages = 0; pages < 10; ++pages) {
    const json page = parsed(call("GET", target));
    EXPECT_LE(page["items"].size(), 2u);
    for (const auto& item : page["items"]) {
      EXPECT_EQ(item.size(), 2u);  // id and the field asked for
      names.push_back(item["last_name"]);
    }
    if (page["next"].is_null()) break;
    target = "/v1/contacts?limit=2&sort=-last_name&fields=last_name&cursor=" +
             page["next"].get<std::string>();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Turing", "Lovelace", "Liskov", "Knuth", "Hopper"}));
  auto items = parsed(call("GET", "/v1/contacts?last_name[starts_with]=L&sort=last_name"))["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["last_name"], "Liskov");
  items =
      parsed(call("GET", "/v1/contacts?last_name[in]=Knuth,Hopper&email[is_null]=true"))["items"];
  EXPECT_EQ(items.size(), 2u);
  items = parsed(call("GET", "/v1/contacts?id[gt]=4"))["items"];
  EXPECT_EQ(items.size(), 1u);
  EXPECT_EQ(parsed(call("GET", "/v1/contacts?created_at[lt]=2100-01-01T00:00:00Z"))["items"].size(),
            5u);
  // Bad parameters name what is wrong.
  expect_problem(call("GET", "/v1/contacts?limit=201"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?limit=0"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?shoe_size=9"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?id[gt]=many"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?last_name[like]=x"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?created_at[gt]=yesterday"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?sort=shoe_size"), 422, "validation");
  expect_problem(call("GET", "/v1/contacts?cursor=garbage"), 422, "validation");
}

TEST_P(ServerTest, BadBodiesGetATypedProblemAndChangeNothing) {
  ASSERT_EQ(call("POST", "/v1/contacts", {{"first_name", "Keep"}, {"last_name", "Me"}}).status,
            201);
  const auto before = contacts_in_db();
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    return client_->request("POST", "/v1/contacts", body, {{"Content-Type", type}});
  };
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  const std::string deep_object = R"({"first_name":)" + deep + "}";
  for (const std::string& body :
       {std::string(R"({"first_name":"Ada")"), std::string(R"({"first_name":"Ada"} trailing)"),
        std::string(R"({"first_name":"Ada","first_name":"Eve"})"), deep_object,
        std::string(R"({"first_name":"\ud800"})"), std::string("{\"first_name\":\"\xff\xfe\"}"),
        std::string(R"({"first_name":1e999999})"), std::string("{'first_name':'Ada'}"),
        std::string("nul"), std::string(R"({"first_name":"Ada",})")}) {
    const auto r = post(body);
    EXPECT_TRUE(r.status == 400 || r.status == 422) << r.status << " for " << body;
    expect_problem(r, r.status, r.status == 400 ? "malformed_json" : "validation");
  }
  expect_problem(post(R"([1,2])"), 422, "validation");
  expect_problem(post(R"({"first_name":"Ada"})", "text/plain"), 415, "unsupported_media_type");
  expect_problem(post(R"({"first_name":")" + std::string(70000, 'x') + R"("})"), 413,
                 "body_too_large");
  // Library validation: the field is named.
  auto r = post(R"({"first_name":"Ada","email":"not an address"})");
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "email");
  r = post(R"({"first_name":"Ada","id":99})");
  expect_problem(r, 422, "validation");
  EXPECT_EQ(parsed(r)["field"], "id");
  r = post(R"({"first_name":"Ada","shoe_size":9})");
  EXPECT_EQ(parsed(r)["field"], "shoe_size");
  r = post(R"({"first_name":42})");
  EXPECT_EQ(parsed(r)["field"], "first_name");
  r = post(R"({"first_name":"Ada","owner_id":-3})");
  EXPECT_EQ(parsed(r)["field"], "owner_id");
  EXPECT_EQ(contacts_in_db(), before);
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // still up
}

}  // namespace
}  // namespace banyan::test
