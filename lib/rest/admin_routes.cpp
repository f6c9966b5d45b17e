// Administrators' routes: dead letters, the audit trail, saga instances.
#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

json dead_letter_json(const messaging::DeadLetter& d) {
  return json{
      {"id", d.id},
      {"queue", d.queue},
      {"event",
       {{"id", d.event.id},
        {"sequence", d.event.sequence},
        {"type", d.event.type},
        {"aggregate_type", std::string(to_string(d.event.aggregate_type))},
        {"aggregate_id", d.event.aggregate_id},
        {"payload", d.event.payload}}},
      {"attempts", d.attempts},
      {"first_failed_at", format_timestamp(d.first_failed_at)},
      {"last_failed_at", format_timestamp(d.last_failed_at)},
      {"last_error", d.last_error},
      {"error_class", messaging::to_string(d.error_class)},
      {"consumer", d.consumer},
      {"dead_at", format_timestamp(d.dead_at)},
      {"replayed_at", d.replayed_at ? json(format_timestamp(*d.replayed_at)) : json(nullptr)},
      {"replays", d.replays}};
}

messaging::DeadLetterFilter dead_letter_filter(
    const std::vector<std::pair<std::string, std::string>>& query) {
  messaging::DeadLetterFilter f;
  for (const auto& [k, v] : query) {
    if (k == "queue")
      f.queue = v;
    else if (k == "type")
      f.event_type = v;
    else if (k == "error")
      f.error_contains = v;
    else if (k == "include_replayed")
      f.include_replayed = v == "true";
    else if (k != "limit" && k != "before")
      throw ValidationError(k + ": not a dead-letter filter", k);
  }
  return f;
}

// /v1/admin/dead-letters[/stats|/replay|/{id}[/replay]] and /v1/admin/sagas[/{id}]
// ---- the audit trail ----------------------------------------------------------------

Timestamp time_param(const Target& t, const char* name) {
  const auto v = query_value(t, name);
  const auto at = v ? query_time(*v) : std::nullopt;
  if (!at)
    throw ValidationError(std::string(name) + ": an RFC 3339 time, e.g. 2026-11-29T12:00:00Z",
                          name);
  return *at;
}

// ?object_type=&object_id=&actor_id=&from=&to=&after=&limit=
store::AuditQuery audit_query(const Target& t) {
  for (const auto& [key, value] : t.query) {
    static constexpr const char* kKnown[] = {"object_type", "object_id", "actor_id", "from",
                                             "to",          "after",     "limit"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      throw ValidationError(key + ": not a filter of the audit trail", key);
  }
  store::AuditQuery q;
  const auto type = query_value(t, "object_type");
  const auto object = query_value(t, "object_id");
  if (type.has_value() != object.has_value())
    throw ValidationError("object_type: object_type and object_id go together", "object_type");
  // Object 0 is no record: the entries of custom role definitions are on user 0.
  if (type) q.object = ObjectRef{parse_object_type(*type), *object == "0" ? 0 : parse_id(*object)};
  if (auto v = query_value(t, "actor_id")) q.actor_id = parse_id(*v);
  if (query_value(t, "from")) q.from = time_param(t, "from");
  if (query_value(t, "to")) q.to = time_param(t, "to");
  if (auto v = query_value(t, "after")) q.after = parse_id(*v);
  if (auto v = query_value(t, "limit")) {
    q.limit = std::strtoul(v->c_str(), nullptr, 10);
    if (q.limit < 1 || q.limit > 1000)
      throw ValidationError("limit: a number from 1 to 1000", "limit");
  }
  return q;
}

json audit_entry_json(const store::AuditEntry& e) {
  return {{"id", e.id},
          {"at", format_timestamp(e.at)},
          {"actor_id", e.actor_id ? json(*e.actor_id) : json(nullptr)},
          {"actor", e.actor},
          {"origin", e.origin},
          {"action", e.action},
          {"object_type", std::string(to_string(e.object.type))},
          {"object_id", e.object.id},
          {"changes", json::parse(e.changes, nullptr, false)},
          {"detail", e.detail},
          {"hash", e.hash}};
}

messaging::DeadLetterStore dead_letters(ApiContext& api, const RouteCall& c) {
  return admin(api, c).dead_letters();
}

// GET /v1/admin/dead-letters?queue=&type=&error=&include_replayed=&limit=&before=
HttpResponse list_dead_letters(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  std::size_t limit = 50;
  std::optional<std::uint64_t> before;
  if (auto v = query_value(c.target, "limit")) {
    limit = std::strtoul(v->c_str(), nullptr, 10);
    if (limit < 1 || limit > 200) throw ValidationError("limit: a number from 1 to 200", "limit");
  }
  if (auto v = query_value(c.target, "before")) before = parse_id(*v);
  json items = json::array();
  const auto page = dlq.list(dead_letter_filter(c.target.query), limit, before);
  for (const auto& d : page) items.push_back(dead_letter_json(d));
  return json_response(
      200,
      json{{"items", items},
           {"next", page.size() == limit ? json(std::to_string(page.back().id)) : json(nullptr)}});
}

HttpResponse dead_letter_stats(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  json items = json::array();
  for (const auto& q : dlq.stats())
    items.push_back({{"queue", q.queue},
                     {"depth", q.depth},
                     {"oldest_age_seconds", std::chrono::duration<double>(q.oldest_age).count()}});
  return json_response(200, json{{"items", items}});
}

HttpResponse replay_dead_letters(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  const auto report = dlq.replay(dead_letter_filter(c.target.query));
  json refused = json::array();
  for (const auto& no : report.refused) refused.push_back({{"id", no.id}, {"reason", no.reason}});
  return json_response(200, json{{"replayed", report.replayed}, {"refused", refused}});
}

HttpResponse get_dead_letter(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  return json_response(200, dead_letter_json(dlq.get(c.id())));
}

HttpResponse purge_dead_letter(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  const Id id = c.id();
  if (!dlq.purge(id)) throw NotFound("no dead letter with id " + std::to_string(id));
  return no_content();
}

HttpResponse replay_dead_letter(ApiContext& api, RouteCall& c) {
  auto dlq = dead_letters(api, c);
  dlq.replay(c.id());
  return json_response(200, json{{"replayed", 1}});
}

HttpResponse audit_entries(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const auto q = audit_query(c.target);
  const auto page =
      api.db.read([&](store::UnitOfWork& uow) { return service.audit_entries(uow, q); });
  json items = json::array();
  for (const auto& e : page) items.push_back(audit_entry_json(e));
  return json_response(
      200, json{{"items", items},
                {"next",
                 page.size() == q.limit ? json(std::to_string(page.back().id)) : json(nullptr)}});
}

HttpResponse verify_audit_trail(ApiContext& api, RouteCall& c) {
  const auto service = admin(api, c);
  const auto v =
      api.db.read([&](store::UnitOfWork& uow) { return service.verify_audit_trail(uow); });
  return json_response(200,
                       json{{"intact", v.intact},
                            {"entries", v.entries},
                            {"first_bad", v.first_bad == 0 ? json(nullptr) : json(v.first_bad)},
                            {"problem", v.problem}});
}

HttpResponse saga_stats(ApiContext& api, RouteCall& c) {
  json items = json::array();
  for (const auto& st : admin(api, c).saga_stats())
    items.push_back(
        {{"saga", st.saga}, {"status", saga::to_string(st.status)}, {"count", st.count}});
  return json_response(200, json{{"items", items}});
}

HttpResponse get_saga(ApiContext& api, RouteCall& c) {
  const auto i = admin(api, c).saga(c.id());
  json history = json::array();
  for (const auto& h : i.history)
    history.push_back({{"step", h.step},
                       {"what", h.what},
                       {"attempt", h.attempt},
                       {"at", format_timestamp(h.at)},
                       {"error", h.error}});
  return json_response(
      200,
      json{{"id", i.id},
           {"saga", i.saga},
           {"key", i.key},
           {"subject", {{"type", std::string(to_string(i.subject.type))}, {"id", i.subject.id}}},
           {"status", saga::to_string(i.status)},
           {"step", i.step},
           {"data", i.data},
           {"history", history},
           {"error", i.error},
           {"created_at", format_timestamp(i.created_at)},
           {"updated_at", format_timestamp(i.updated_at)}});
}

json saga_schema() {
  const json time = time_schema();
  return object_of({{"id", id_schema()},
                    {"saga", {{"type", "string"}}},
                    {"key", {{"type", "string"}}},
                    {"subject", object_of({{"type", enum_schema(ObjectType::kActivity)},
                                           {"id", {{"type", "integer"}}}},
                                          {"type", "id"})},
                    {"status", enum_schema(saga::SagaStatus::kFailed)},
                    {"step", {{"type", "integer"}}},
                    {"data",
                     {{"type", "object"},
                      {"additionalProperties", {{"type", "string"}}},
                      {"description", "What the steps have recorded, by name"}}},
                    {"history",
                     {{"type", "array"},
                      {"items", object_of({{"step", {{"type", "string"}}},
                                           {"what", {{"type", "string"}}},
                                           {"attempt", {{"type", "integer"}}},
                                           {"at", time},
                                           {"error", {{"type", "string"}}}},
                                          {"step", "what", "attempt", "at", "error"})}}},
                    {"error", {{"type", "string"}}},
                    {"created_at", time},
                    {"updated_at", time}},
                   {"id", "saga", "key", "subject", "status", "step", "data", "history", "error",
                    "created_at", "updated_at"});
}

void admin_schemas(Builder& b) {
  const json time = time_schema();
  const json nullable_id = {{"type", {"integer", "null"}}};
  const json any = json::object();
  json& schemas = b.schemas();
  schemas["DeadLetter"] = object_of(
      {{"id", id_schema()},
       {"queue", {{"type", "string"}}},
       {"event",
        object_of({{"id", {{"type", "string"}}},
                   {"sequence", {{"type", "integer"}}},
                   {"type", {{"type", "string"}}},
                   {"aggregate_type", enum_schema(ObjectType::kActivity)},
                   {"aggregate_id", {{"type", "integer"}}},
                   {"payload",
                    {{"type", "string"}, {"description", "The event's JSON payload, as text"}}}},
                  {"id", "sequence", "type", "aggregate_type", "aggregate_id", "payload"})},
       {"attempts", {{"type", "integer"}}},
       {"first_failed_at", time},
       {"last_failed_at", time},
       {"last_error", {{"type", "string"}}},
       {"error_class", enum_schema(messaging::ErrorClass::kPermanent)},
       {"consumer", {{"type", "string"}}},
       {"dead_at", time},
       {"replayed_at", {{"type", {"string", "null"}}, {"format", "date-time"}}},
       {"replays", {{"type", "integer"}}}},
      {"id", "queue", "event", "attempts", "first_failed_at", "last_failed_at", "last_error",
       "error_class", "consumer", "dead_at", "replayed_at", "replays"});
  schemas["FieldChange"] =
      object_of({{"entry", id_schema()},
                 {"at", time},
                 {"actor_id", nullable_id},
                 {"actor", {{"type", "string"}}},
                 {"action", {{"type", "string"}}},
                 {"field", {{"type", "string"}}},
                 {"before", any},
                 {"after", any}},
                {"entry", "at", "actor_id", "actor", "action", "field", "before", "after"});
  schemas["AuditEntry"] =
      object_of({{"id", id_schema()},
                 {"at", time},
                 {"actor_id", nullable_id},
                 {"actor", {{"type", "string"}}},
                 {"origin", {{"type", "string"}, {"description", "The client address"}}},
                 {"action",
                  {{"type", "string"},
                   {"enum",
                    {"created", "updated", "archived", "restored", "deleted", "merged", "converted",
                     "role_assigned", "role_revoked", "team_joined", "team_left", "api_key_created",
                     "api_key_revoked", "identity_linked", "identity_unlinked", "role_created",
                     "role_updated", "role_deleted", "denied"}}}},
                 {"object_type", enum_schema(ObjectType::kActivity)},
                 {"object_id", {{"type", "integer"}, {"minimum", 0}}},
                 {"changes",
                  {{"type", "object"},
                   {"description", "{\"field\": [before, after], ...}, values as stored"}}},
                 {"detail", {{"type", "string"}}},
                 {"hash", {{"type", "string"}}}},
                {"id", "at", "actor_id", "actor", "origin", "action", "object_type", "object_id",
                 "changes", "detail", "hash"});
}

}  // namespace

void add_admin_routes(RouteTable& table) {
  using enum Guard::RouteClass;
  const auto principal = RouteAccess::kPrincipal;
  const std::string base = "/v1/admin/dead-letters";
  const json dead_letter = schema_ref("DeadLetter");
  const json nullable_id = {{"type", {"integer", "null"}}};
  const auto filters = [](json& o) {
    Builder::query(o, "queue", "", {{"type", "string"}});
    Builder::query(o, "type", "Event type", {{"type", "string"}});
    Builder::query(o, "error", "Text in the last error", {{"type", "string"}});
    Builder::query(o, "include_replayed", "", {{"type", "boolean"}});
  };
  table.add_components(admin_schemas);
  table.add(
      {"GET",
       base,
       kRead,
       principal,
       list_dead_letters,
       {"list_dead_letters", "Dead letters, newest first", {422}, [=](Builder&, json& o) {
          filters(o);
          Builder::params(o, {"limit"});
          Builder::query(o, "before", "The `next` of the previous page", {{"type", "string"}});
          o["responses"]["200"] = Builder::ok("A page", page_of(dead_letter));
        }}});
  table.add({"GET",
             base + "/stats",
             kRead,
             principal,
             dead_letter_stats,
             {"dead_letter_stats", "Depth and oldest age per queue", {}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok(
                    "Per queue", list_of(object_of({{"queue", {{"type", "string"}}},
                                                    {"depth", {{"type", "integer"}}},
                                                    {"oldest_age_seconds", {{"type", "number"}}}},
                                                   {"queue", "depth", "oldest_age_seconds"})));
              }}});
  table.add(
      {"POST",
       base + "/replay",
       kBulk,
       principal,
       replay_dead_letters,
       {"replay_dead_letters",
        "Send the matching dead letters back to their queues (attempts reset)",
        {422},
        [=](Builder&, json& o) {
          filters(o);
          o["responses"]["200"] = Builder::ok(
              "How many went back, and those a saga could not take back, with why",
              object_of(
                  {{"replayed", {{"type", "integer"}, {"minimum", 0}}},
                   {"refused",
                    {{"type", "array"},
                     {"items", object_of({{"id", id_schema()}, {"reason", {{"type", "string"}}}},
                                         {"id", "reason"})}}}},
                  {"replayed", "refused"}));
        }}});
  table.add({"GET",
             base + "/{id}",
             kRead,
             principal,
             get_dead_letter,
             {"get_dead_letter", "A dead letter", {404}, [=](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("It", dead_letter);
              }}});
  table.add({"DELETE",
             base + "/{id}",
             kWrite,
             principal,
             purge_dead_letter,
             {"purge_dead_letter", "Purge a dead letter", {404}, [](Builder&, json& o) {
                o["responses"]["204"] = Builder::no_content();
              }}});
  table.add({"POST",
             base + "/{id}/replay",
             kBulk,
             principal,
             replay_dead_letter,
             {"replay_dead_letter",
              "Send one dead letter back to its queue (409 with the reason when its saga cannot "
              "take it back)",
              {404, 409},
              [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok(
                    "Sent back",
                    object_of({{"replayed", {{"type", "integer"}, {"minimum", 0}}}}, {"replayed"}));
              }}});
  table.add({"GET",
             "/v1/admin/audit",
             kRead,
             principal,
             audit_entries,
             {"list_audit_entries", "The audit trail, oldest first", {422}, [](Builder&, json& o) {
                Builder::query(o, "object_type", "With object_id: one record's entries",
                               enum_schema(ObjectType::kActivity));
                Builder::query(o, "object_id", "With object_type (user 0: custom role definitions)",
                               {{"type", "integer"}, {"minimum", 0}});
                Builder::query(o, "actor_id", "One actor's entries",
                               {{"type", "integer"}, {"minimum", 1}});
                Builder::query(o, "from", "At or after", time_schema());
                Builder::query(o, "to", "Before", time_schema());
                Builder::query(o, "after", "The `next` of the previous page", {{"type", "string"}});
                Builder::query(o, "limit", "1 to 1000 (100)",
                               {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}});
                o["responses"]["200"] = Builder::ok("A page", page_of(schema_ref("AuditEntry")));
              }}});
  table.add({"GET",
             "/v1/admin/audit/verify",
             kRead,
             principal,
             verify_audit_trail,
             {"verify_audit_trail",
              "Check every entry's number, link and hash, and the head",
              {},
              [=](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok(
                    "What was found", object_of({{"intact", {{"type", "boolean"}}},
                                                 {"entries", {{"type", "integer"}}},
                                                 {"first_bad", nullable_id},
                                                 {"problem", {{"type", "string"}}}},
                                                {"intact", "entries", "first_bad", "problem"}));
              }}});
  table.add({"GET",
             "/v1/admin/sagas",
             kRead,
             principal,
             saga_stats,
             {"saga_stats", "Saga instances by saga and status", {}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok(
                    "Counts", list_of(object_of({{"saga", {{"type", "string"}}},
                                                 {"status", enum_schema(saga::SagaStatus::kFailed)},
                                                 {"count", {{"type", "integer"}}}},
                                                {"saga", "status", "count"})));
              }}});
  table.add({"GET",
             "/v1/admin/sagas/{id}",
             kRead,
             principal,
             get_saga,
             {"get_saga", "One saga instance and its history", {404}, [](Builder&, json& o) {
                o["responses"]["200"] = Builder::ok("The instance", saga_schema());
              }}});
}

}  // namespace banyan::rest
