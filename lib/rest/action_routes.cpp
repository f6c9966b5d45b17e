// The routes that are more than a record's field changes: lead conversion, finding and
// merging duplicates, moving and reopening deals, a deal's stage history.
#include "api_context.hpp"
#include "openapi.hpp"
#include "references.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// POST /v1/leads/{id}/convert {"company_id"?, "deal"?: {"pipeline_id", "stage_id",
// "title"?, "amount"?, "expected_close"?, "contact_role"?}}; the ids may be keys
// (references.hpp), the stage by name within the deal's pipeline.
HttpResponse convert_lead(ApiContext& api, RouteCall& c) {
  const Who& who = c.principal();
  const Id lead_id = c.id();
  const json body = api.body_object(c.request);
  only_keys(body, {"company_id", "deal"});
  store::LeadConversion req;
  req.lead_id = lead_id;
  std::optional<RecordKey> company, pipeline, stage;
  if (body.contains("company_id") && !body["company_id"].is_null())
    company = record_key(body["company_id"], "company_id");
  if (body.contains("deal") && !body["deal"].is_null()) {
    const json& d = body["deal"];
    if (!d.is_object()) throw ValidationError("deal: must be an object", "deal");
    only_keys(d, {"pipeline_id", "stage_id", "title", "amount", "expected_close", "contact_role"},
              "deal.");
    store::LeadConversion::NewDeal deal;
    // The deal's own fields read as a deal's, so they are checked the same way.
    Deal shape;
    json fields = json::object();
    for (const char* k : {"title", "amount", "expected_close"})
      if (d.contains(k)) fields[k] = d[k];
    apply_json(shape, fields);
    if (d.contains("pipeline_id")) pipeline = record_key(d["pipeline_id"], "deal.pipeline_id");
    if (d.contains("stage_id"))
      stage = record_key(d["stage_id"], "deal.stage_id", /*by_name=*/true);
    deal.title = shape.title;
    deal.amount = shape.amount;
    deal.expected_close = shape.expected_close;
    if (d.contains("contact_role")) {
      if (!d["contact_role"].is_string())
        throw ValidationError("deal.contact_role: must be a string", "deal.contact_role");
      deal.contact_role = parse_deal_role(d["contact_role"].get<std::string>());
    }
    req.deal = deal;
  }
  return api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, who);
    store::LeadConversion given = req;
    if (company) given.company_id = resolver.id(ObjectType::kCompany, *company, "company_id");
    if (given.deal && pipeline)
      given.deal->pipeline_id = resolver.id(ObjectType::kPipeline, *pipeline, "deal.pipeline_id");
    if (given.deal && stage)
      given.deal->stage_id =
          resolver.id(ObjectType::kStage, *stage, "deal.stage_id", given.deal->pipeline_id);
    const auto done = api.engine.convert_lead(uow, who, given);
    return json_response(200, json{{"lead", to_json(done.lead)},
                                   {"contact", to_json(done.contact)},
                                   {"company", to_json(done.company)},
                                   {"company_created", done.company_created},
                                   {"deal", done.deal ? to_json(*done.deal) : json(nullptr)}});
  });
}

// POST /v1/{contacts|companies|leads}/{id}/merge {"losers": [ids], "winners"?: {field: id}}
template <typename T>
HttpResponse merge(ApiContext& api, RouteCall& c,
                   RecordService<T> (Engine::*service)(const security::Principal&)) {
  const Who& who = c.principal();
  const auto repo = (api.engine.*service)(who);
  const Id survivor = c.id();
  const json body = api.body_object(c.request);
  only_keys(body, {"losers", "winners"});
  store::MergeRequest req;
  req.type = T::kType;
  req.survivor = survivor;
  if (!body.contains("losers") || !body["losers"].is_array() || body["losers"].empty())
    throw ValidationError("losers: a list of one or more records is required", "losers");
  std::vector<RecordKey> losers;
  for (std::size_t i = 0; i < body["losers"].size(); ++i)
    losers.push_back(record_key(body["losers"][i], "losers[" + std::to_string(i) + "]"));
  std::vector<std::pair<std::string, RecordKey>> winners;
  if (body.contains("winners")) {
    if (!body["winners"].is_object())
      throw ValidationError("winners: an object of field name to record", "winners");
    for (const auto& [field, key] : body["winners"].items())
      winners.emplace_back(field, record_key(key, "winners." + field));
  }
  return api.write(c, [&](store::UnitOfWork& uow) {
    Resolver resolver(uow, api.engine, who);
    store::MergeRequest given = req;
    for (std::size_t i = 0; i < losers.size(); ++i)
      given.losers.push_back(resolver.id(T::kType, losers[i], "losers[" + std::to_string(i) + "]"));
    for (const auto& [field, key] : winners)
      given.winners[field] = resolver.id(T::kType, key, "winners." + field);
    const auto done = api.engine.merge(uow, who, given);
    const T merged = repo.get(uow, done.survivor);
    HttpResponse out =
        json_response(200, json{{"survivor", to_json(merged)}, {"merged", done.merged}});
    out.headers.emplace_back("ETag", etag_of(merged.version));
    return out;
  });
}

void refuse_parameters(const RouteCall& c, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : c.target.query)
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw ValidationError(key + ": no such parameter", key);
}

json rules_json(const std::vector<store::DuplicateRule>& rules) {
  json out = json::array();
  for (const auto rule : rules) out.push_back(std::string(store::to_string(rule)));
  return out;
}

// GET /v1/{contacts|companies|leads}/{id}/duplicates: the likely duplicates of one record.
HttpResponse duplicates_of(ApiContext& api, RouteCall& c, ObjectType type) {
  refuse_parameters(c, {});
  const ObjectRef record{type, c.id()};
  const auto matches = api.db.read(
      [&](store::UnitOfWork& uow) { return api.engine.duplicates(uow, c.principal(), record); });
  json items = json::array();
  for (const auto& m : matches) items.push_back({{"id", m.id}, {"rules", rules_json(m.rules)}});
  return json_response(200, json{{"items", items}});
}

// GET /v1/{contacts|companies|leads}/duplicates?limit=: groups of likely duplicates.
HttpResponse duplicate_groups(ApiContext& api, RouteCall& c, ObjectType type) {
  refuse_parameters(c, {"limit"});
  std::size_t limit = 100;
  if (const auto given = query_value(c.target, "limit")) {
    const auto v = parse_integer(*given);
    if (!v || *v < 1 || *v > 1000) throw ValidationError("limit: a number from 1 to 1000", "limit");
    limit = static_cast<std::size_t>(*v);
  }
  const auto groups = api.db.read([&](store::UnitOfWork& uow) {
    return api.engine.duplicate_groups(uow, c.principal(), type, limit);
  });
  json items = json::array();
  for (const auto& g : groups)
    items.push_back({{"rule", std::string(store::to_string(g.rule))}, {"ids", g.ids}});
  return json_response(200, json{{"items", items}});
}

// POST /v1/deals/{id}/stage {"stage_id"} (If-Match optional): a patch of the stage, so
// the status follows its kind. POST /v1/deals/{id}/reopen {"stage_id"?}. The stage may be
// a key (references.hpp), by name within the deal's pipeline.
HttpResponse move_deal(ApiContext& api, RouteCall& c, bool reopen) {
  const Who& who = c.principal();
  const Id deal_id = c.id();
  const HttpRequest& r = c.request;
  const json body = reopen && r.body.empty() ? json::object() : api.body_object(r);
  only_keys(body, {"stage_id"});
  std::optional<RecordKey> key;
  if (!reopen || (body.contains("stage_id") && !body["stage_id"].is_null())) {
    if (!body.contains("stage_id"))
      throw ValidationError("stage_id: a stage is required", "stage_id");
    key = record_key(body["stage_id"], "stage_id", /*by_name=*/true);
  }
  const auto expected = if_match(r);
  return api.write(c, [&](store::UnitOfWork& uow) {
    std::optional<Id> stage;
    if (key) {
      Resolver resolver(uow, api.engine, who);
      const auto pipeline = [&]() -> std::optional<Id> {
        if (key->name.empty()) return std::nullopt;
        return api.engine.deals(who).get(uow, deal_id).pipeline_id;
      };
      stage = resolver.id(ObjectType::kStage, *key, "stage_id", pipeline());
    }
    if (reopen)
      return record_response(200, api.engine.reopen_deal(uow, who, deal_id, stage, expected));
    Patch<Deal> patch;
    patch.values.stage_id = *stage;
    patch.name("stage_id");
    patch.expected_version = expected;
    return record_response(200, api.engine.deals(who).patch(uow, deal_id, patch).record);
  });
}

HttpResponse stage_history(ApiContext& api, RouteCall& c) {
  const Id deal_id = c.id();
  auto history = api.db.read([&](store::UnitOfWork& uow) {
    return api.engine.stage_history(uow, c.principal(), deal_id);
  });
  json items = json::array();
  for (const auto& move : history) {
    items.push_back(
        {{"from_stage_id", move.from_stage_id ? json(*move.from_stage_id) : json(nullptr)},
         {"to_stage_id", move.to_stage_id},
         {"changed_at", format_timestamp(move.changed_at)},
         {"changed_by", move.changed_by ? json(*move.changed_by) : json(nullptr)},
         {"seconds_in_previous_stage",
          move.time_in_previous_stage
              ? json(std::chrono::duration<double>(*move.time_in_previous_stage).count())
              : json(nullptr)}});
  }
  return json_response(200, json{{"items", items}});
}

void document_convert(Builder& b, json& o) {
  const json& deal_input = b.schemas()["DealInput"]["properties"];
  Builder::body(o, {{"type", "object"},
                    {"properties",
                     {{"company_id", nullable(id_schema())},
                      {"deal", nullable(object_of({{"pipeline_id", deal_input["pipeline_id"]},
                                                   {"stage_id", deal_input["stage_id"]},
                                                   {"title", deal_input["title"]},
                                                   {"amount", deal_input["amount"]},
                                                   {"expected_close", deal_input["expected_close"]},
                                                   {"contact_role", enum_schema(DealRole::kOther)}},
                                                  {"pipeline_id", "stage_id"}))}}},
                    {"additionalProperties", false}});
  o["responses"]["200"] =
      Builder::ok("What the conversion made",
                  object_of({{"lead", schema_ref("Lead")},
                             {"contact", schema_ref("Contact")},
                             {"company", schema_ref("Company")},
                             {"company_created", {{"type", "boolean"}}},
                             {"deal", nullable(schema_ref("Deal"))}},
                            {"lead", "contact", "company", "company_created", "deal"}));
}

// POST /v1/{contacts|companies|leads}/{id}/merge
template <typename T>
Route merge_route(const std::string& base, const std::string& name,
                  RecordService<T> (Engine::*service)(const security::Principal&)) {
  return {"POST",
          "/v1/" + base + "/{id}/merge",
          Guard::RouteClass::kBulk,
          RouteAccess::kPrincipal,
          [service](ApiContext& api, RouteCall& c) { return merge<T>(api, c, service); },
          {"merge_" + base,
           "Merge duplicates into this record (the survivor)",
           {400, 404, 409, 415, 422},
           [name](Builder&, json& o) {
             Builder::body(
                 o, object_of(
                        {{"losers", {{"type", "array"}, {"items", id_schema()}, {"minItems", 1}}},
                         {"winners",
                          {{"type", "object"},
                           {"description", "Per field, the record whose value the survivor keeps"},
                           {"additionalProperties", id_schema()}}}},
                        {"losers"}));
             o["responses"]["200"] =
                 Builder::ok("The survivor and the merged ids",
                             object_of({{"survivor", schema_ref(name)},
                                        {"merged", {{"type", "array"}, {"items", id_schema()}}}},
                                       {"survivor", "merged"}),
                             {"ETag"});
           }}};
}

json rule_schema() { return {{"type", "string"}, {"enum", {"email", "phone", "domain", "name"}}}; }

// GET /v1/{base}/{id}/duplicates and GET /v1/{base}/duplicates
void add_duplicate_routes(RouteTable& table, const std::string& base, ObjectType type) {
  table.add({"GET",
             "/v1/" + base + "/{id}/duplicates",
             Guard::RouteClass::kRead,
             RouteAccess::kPrincipal,
             [type](ApiContext& api, RouteCall& c) { return duplicates_of(api, c, type); },
             {"duplicates_of_one_of_" + base,
              "The likely duplicates of this record",
              {404, 422},
              [](Builder&, json& o) {
                o["description"] =
                    "Records the caller may read that share an email, a phone number, a web "
                    "domain or a name that sounds alike; most rules first. A rule on a "
                    "sensitive field (a person's email or phone) counts only where the caller "
                    "sees that field on both records.";
                o["responses"]["200"] = Builder::ok(
                    "The matches",
                    list_of(object_of({{"id", id_schema()},
                                       {"rules", {{"type", "array"}, {"items", rule_schema()}}}},
                                      {"id", "rules"})));
              }}});
  table.add({"GET",
             "/v1/" + base + "/duplicates",
             Guard::RouteClass::kRead,
             RouteAccess::kPrincipal,
             [type](ApiContext& api, RouteCall& c) { return duplicate_groups(api, c, type); },
             {"duplicate_groups_" + base,
              "Groups of records that look like the same one",
              {403, 422},
              [](Builder&, json& o) {
                o["description"] =
                    "Groups of two or more records the caller may read that share a key, by "
                    "rule then key; narrowed as the duplicates of one record are.";
                Builder::query(o, "limit", "1 to 1000 groups (100)",
                               {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}});
                o["responses"]["200"] = Builder::ok(
                    "The groups",
                    list_of(object_of({{"rule", rule_schema()},
                                       {"ids", {{"type", "array"}, {"items", id_schema()}}}},
                                      {"rule", "ids"})));
              }}});
}

}  // namespace

void add_action_routes(RouteTable& table) {
  using enum Guard::RouteClass;
  const auto principal = RouteAccess::kPrincipal;
  table.add({"POST",
             "/v1/leads/{id}/convert",
             kWrite,
             principal,
             convert_lead,
             {"convert_lead",
              "Convert a lead into a contact, a company (new or given) and optionally a deal",
              {400, 404, 409, 415, 422},
              document_convert}});
  table.add(merge_route<Contact>("contacts", "Contact", &Engine::contacts));
  table.add(merge_route<Company>("companies", "Company", &Engine::companies));
  table.add(merge_route<Lead>("leads", "Lead", &Engine::leads));
  add_duplicate_routes(table, "contacts", ObjectType::kContact);
  add_duplicate_routes(table, "companies", ObjectType::kCompany);
  add_duplicate_routes(table, "leads", ObjectType::kLead);
  table.add({"POST",
             "/v1/deals/{id}/stage",
             kWrite,
             principal,
             [](ApiContext& api, RouteCall& c) { return move_deal(api, c, false); },
             {"move_deal",
              "Move a deal to another stage of its pipeline",
              {400, 404, 412, 415, 422},
              [](Builder&, json& o) {
                Builder::params(o, {"If-Match"});
                Builder::body(o, object_of({{"stage_id", id_schema()}}, {"stage_id"}));
                o["description"] =
                    "Moving to a won or lost stage wins or loses the deal (its status and "
                    "closed_at follow); a won or lost deal moves only once reopened.";
                o["responses"]["200"] = Builder::ok("The moved deal", schema_ref("Deal"), {"ETag"});
              }}});
  table.add(
      {"POST",
       "/v1/deals/{id}/reopen",
       kWrite,
       principal,
       [](ApiContext& api, RouteCall& c) { return move_deal(api, c, true); },
       {"reopen_deal",
        "Reopen a won or lost deal (open again, closed_at cleared; the event deal.reopened)",
        {400, 404, 409, 412, 415, 422},
        [](Builder&, json& o) {
          o["description"] =
              "Into `stage_id` (an open stage of its pipeline), or else the open stage it left "
              "when it closed. An empty body is fine.";
          Builder::params(o, {"If-Match"});
          o["requestBody"] = {
              {"required", false},
              {"content",
               {{"application/json",
                 {{"schema", object_of({{"stage_id", id_schema()}}, json::array())}}}}}};
          o["responses"]["200"] = Builder::ok("The reopened deal", schema_ref("Deal"), {"ETag"});
        }}});
  table.add(
      {"GET",
       "/v1/deals/{id}/stage-history",
       kRead,
       principal,
       stage_history,
       {"deal_stage_history", "Every stage move of a deal", {404}, [](Builder&, json& o) {
          const json nullable_id = {{"type", {"integer", "null"}}};
          o["responses"]["200"] = Builder::ok(
              "Oldest first",
              list_of(object_of({{"from_stage_id", nullable_id},
                                 {"to_stage_id", id_schema()},
                                 {"changed_at", time_schema()},
                                 {"changed_by", nullable_id},
                                 {"seconds_in_previous_stage", {{"type", {"number", "null"}}}}},
                                {"from_stage_id", "to_stage_id", "changed_at", "changed_by",
                                 "seconds_in_previous_stage"})));
        }}});
}

}  // namespace banyan::rest
