// What the write tests over HTTP share: a server without the bulk and write limits, and
// helpers that define custom fields and check that a value comes back as sent.
#pragma once

#include <string>
#include <vector>

#include "server_fixture.hpp"

namespace banyan::test {

class ServerWritesTest : public ServerTest {
 protected:
  // Imports send a hundred batches in a row: the bulk limit is not what these test.
  std::vector<std::string> server_args() const override {
    return {"--rate-bulk", "off", "--rate-writes", "off"};
  }

  // The headers of a request made with an API key's secret.
  static std::vector<std::pair<std::string, std::string>> as(const std::string& key) {
    return {{"authorization", "Bearer " + key}};
  }
  json ok(const std::string& method, const std::string& target, const json& body = nullptr,
          int status = 0, std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto r = call(method, target, body, std::move(headers));
    const int expected = status != 0 ? status : method == "POST" ? 201 : 200;
    EXPECT_EQ(r.status, expected) << method << " " << target << ": " << r.body;
    return r.body.empty() || r.status != expected ? json() : parsed(r);
  }
  // What every write leaves behind; a refused or unchanged write adds nothing to any.
  struct Traces {
    std::string events, audit, versions;
    friend bool operator==(const Traces&, const Traces&) = default;
  };
  Traces traces() {
    return {scratch().raw("SELECT COUNT(*) FROM outbox_events"),
            scratch().raw("SELECT COUNT(*) FROM audit_log"),
            scratch().raw("SELECT COALESCE(SUM(version), 0) FROM contacts") + "/" +
                scratch().raw("SELECT COALESCE(SUM(version), 0) FROM deals")};
  }
  // A refusal with this status, code and field, which changes nothing.
  void refused(const std::string& method, const std::string& target, const json& body, int status,
               const std::string& code, const std::string& field,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    const Traces before = traces();
    const auto r = call(method, target, body, std::move(headers));
    expect_problem(r, status, code);
    if (r.header("content-type") == "application/problem+json") {
      EXPECT_EQ(parsed(r).value("field", std::string()), field) << r.body;
    }
    EXPECT_EQ(traces(), before) << method << " " << target << " changed something";
  }
  json define(const json& definition) { return ok("POST", "/v1/custom-fields", definition); }
  std::vector<std::int64_t> ids_of(const std::string& target) {
    std::vector<std::int64_t> out;
    const json page = ok("GET", target);
    for (const auto& item : page["items"]) out.push_back(item["id"].get<std::int64_t>());
    return out;
  }
  // A pipeline with an open, a won and a lost stage.
  struct Pipe {
    json pipeline, qualify, propose, won, lost;
  };
  Pipe pipeline() {
    Pipe p;
    p.pipeline = ok("POST", "/v1/pipelines", {{"name", "New business"}});
    auto stage = [&](const char* name, int position, int probability, const char* kind) {
      return ok("POST", "/v1/stages",
                {{"pipeline_id", p.pipeline["id"]},
                 {"name", name},
                 {"position", position},
                 {"win_probability", probability},
                 {"kind", kind}});
    };
    p.qualify = stage("Qualify", 1, 10, "open");
    p.propose = stage("Propose", 2, 50, "open");
    p.won = stage("Closed won", 3, 100, "won");
    p.lost = stage("Closed lost", 4, 0, "lost");
    return p;
  }

  // One custom field type over HTTP: values written in their natural JSON form come back
  // as `read` says, filter and sort by the definition's type, and each bad value is a 422
  // naming the field that creates nothing.
  struct TypeCase {
    json definition;            // name "f", on contacts
    std::vector<json> written;  // three values, in ascending order where the type orders
    std::vector<json> read;     // as the API answers them
    std::string filter;         // selects exactly the second contact
    bool sorts = true;
    std::vector<json> bad;
  };
  void round_trip(const TypeCase& t) {
    json definition = t.definition;
    definition["object_type"] = "contact";
    definition["name"] = "f";
    define(definition);
    std::vector<json> made;
    for (std::size_t i = 0; i < t.written.size(); ++i) {
      made.push_back(ok("POST", "/v1/contacts",
                        {{"first_name", "C"},
                         {"last_name", std::to_string(i)},
                         {"custom", {{"f", t.written[i]}}}}));
      EXPECT_EQ(made.back()["custom"]["f"], t.read[i]) << "as written: " << t.written[i];
      EXPECT_EQ(ok("GET", "/v1/contacts/" + made.back()["id"].dump())["custom"]["f"], t.read[i])
          << "read back";
    }
    const auto second = made[1]["id"].get<std::int64_t>();
    EXPECT_EQ(ids_of("/v1/contacts?" + t.filter), std::vector<std::int64_t>{second}) << t.filter;
    if (t.sorts) {
      std::vector<std::int64_t> ascending;
      for (const auto& m : made) ascending.push_back(m["id"].get<std::int64_t>());
      EXPECT_EQ(ids_of("/v1/contacts?sort=custom.f"), ascending);
      std::reverse(ascending.begin(), ascending.end());
      EXPECT_EQ(ids_of("/v1/contacts?sort=-custom.f"), ascending);
    }
    // A patch, an upsert and a batch take the same forms.
    const std::string path = "/v1/contacts/" + made[0]["id"].dump();
    EXPECT_EQ(ok("PATCH", path, {{"custom", {{"f", t.written[2]}}}})["custom"]["f"], t.read[2]);
    EXPECT_EQ(ok("POST", "/v1/contacts/upsert",
                 {{"external_id", "x-1"},
                  {"first_name", "U"},
                  {"custom", {{"f", t.written[1]}}}})["record"]["custom"]["f"],
              t.read[1]);
    EXPECT_EQ(ok("POST", "/v1/contacts/batch",
                 {{"items",
                   {{{"first_name", "B"},
                     {"custom", {{"f", t.written[0]}}}}}}})["items"][0]["custom"]["f"],
              t.read[0]);
    for (const auto& bad : t.bad) {
      refused("POST", "/v1/contacts", {{"first_name", "Bad"}, {"custom", {{"f", bad}}}}, 422,
              "validation", "custom.f");
      refused("PATCH", path, {{"custom", {{"f", bad}}}}, 422, "validation", "custom.f");
    }
  }
};

}  // namespace banyan::test
