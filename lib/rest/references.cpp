// References by key (references.hpp): what a body names of other records, found as the
// caller may see them.
#include "references.hpp"

#include <algorithm>

#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// The fields that name another record, and what they name.
struct ReferenceField {
  const char* field;  // "company_id"
  const char* alias;  // the same without "_id": "company"
  ObjectType type;
};
constexpr ReferenceField kReferenceFields[] = {
    {"owner_id", "owner", ObjectType::kUser},
    {"team_id", "team", ObjectType::kTeam},
    {"company_id", "company", ObjectType::kCompany},
    {"pipeline_id", "pipeline", ObjectType::kPipeline},
    {"stage_id", "stage", ObjectType::kStage},
};

template <typename T>
std::optional<Id> id_by_external_id(Resolver& r,
                                    RecordService<T> (Engine::*service)(const security::Principal&),
                                    const std::string& external_id) {
  const auto found = (r.engine().*service)(r.principal()).find_by_external_id(r.uow(), external_id);
  return found ? std::optional<Id>(found->id) : std::nullopt;
}

std::optional<Id> by_external_id(Resolver& r, ObjectType type, const std::string& external_id) {
  switch (type) {
    case ObjectType::kUser:
      return id_by_external_id(r, &Engine::users, external_id);
    case ObjectType::kTeam:
      return id_by_external_id(r, &Engine::teams, external_id);
    case ObjectType::kTag:
      return id_by_external_id(r, &Engine::tags, external_id);
    case ObjectType::kCompany:
      return id_by_external_id(r, &Engine::companies, external_id);
    case ObjectType::kContact:
      return id_by_external_id(r, &Engine::contacts, external_id);
    case ObjectType::kLead:
      return id_by_external_id(r, &Engine::leads, external_id);
    case ObjectType::kPipeline:
      return id_by_external_id(r, &Engine::pipelines, external_id);
    case ObjectType::kStage:
      return id_by_external_id(r, &Engine::stages, external_id);
    case ObjectType::kDeal:
      return id_by_external_id(r, &Engine::deals, external_id);
    case ObjectType::kActivity:
      return id_by_external_id(r, &Engine::activities, external_id);
  }
  return std::nullopt;
}

}  // namespace

RecordKey record_key(const json& value, const std::string& place, bool by_name) {
  const std::string expected = std::string(R"(a record id (a positive integer), {"id": n} or )") +
                               R"({"external_id": "..."})" +
                               (by_name ? R"( or {"name": "..."})" : "");
  RecordKey key;
  if (value.is_number_unsigned() && value.get<std::uint64_t>() != 0) {
    key.id = value.get<Id>();
    return key;
  }
  if (!value.is_object() || value.size() != 1)
    throw ValidationError(place + ": " + expected, place);
  const auto& [member, given] = *value.items().begin();
  if (member == "id") return record_key(given, place + ".id", false);
  const bool named = by_name && member == "name";
  if ((member != "external_id" && !named) || !given.is_string() || given.get<std::string>().empty())
    throw ValidationError(place + ": " + expected, place);
  (named ? key.name : key.external_id) = given.get<std::string>();
  return key;
}

Id Resolver::id(ObjectType type, const RecordKey& key, const std::string& place,
                std::optional<Id> pipeline) {
  if (key.id != 0) return key.id;
  const std::string kind(to_string(type));
  if (key.name.empty()) {
    if (auto found = by_external_id(*this, type, key.external_id)) return *found;
    throw ValidationError(place + ": no " + kind + " with external id \"" + key.external_id + "\"",
                          place);
  }
  if (!pipeline || *pipeline == 0)
    throw ValidationError(place + ": a stage by name needs the deal's pipeline", place);
  store::PageRequest request;
  request.filter = store::Filter::eq("pipeline_id", static_cast<std::int64_t>(*pipeline)) &&
                   store::Filter::eq("name", key.name);
  request.limit = 2;
  const auto page = engine_->stages(*who_).query(*uow_, request);
  if (page.items.size() > 1)
    throw ValidationError(place + ": more than one stage named \"" + key.name + "\" in pipeline " +
                              std::to_string(*pipeline) + "; give its id",
                          place);
  if (page.items.empty())
    throw ValidationError(
        place + ": no stage named \"" + key.name + "\" in pipeline " + std::to_string(*pipeline),
        place);
  return page.items.front().id;
}

References take_references(const std::vector<std::string>& writable, json& body, bool creating) {
  References refs;
  for (const auto& f : kReferenceFields) {
    if (std::find(writable.begin(), writable.end(), f.field) == writable.end()) continue;
    const auto full = body.find(f.field);
    const auto alias = body.find(f.alias);
    if (alias != body.end() && full != body.end())
      throw ValidationError(
          std::string(f.alias) + ": give " + f.alias + " or " + f.field + ", not both", f.alias);
    const bool by_name = f.type == ObjectType::kStage;
    if (alias != body.end()) {
      refs.members.push_back({f.field, f.alias, f.type, record_key(*alias, f.alias, by_name)});
      body.erase(alias);
    } else if (full != body.end() && full->is_object()) {
      refs.members.push_back({f.field, f.field, f.type, record_key(*full, f.field, by_name)});
      body.erase(full);
    }
  }
  if (!creating) return refs;
  if (const auto at = body.find("created_at"); at != body.end()) {
    const auto t = at->is_string() ? parse_timestamp(at->get<std::string>()) : std::nullopt;
    if (!t)
      throw ValidationError("created_at: must be an RFC 3339 time (e.g. 2019-05-01T09:30:00Z)",
                            "created_at");
    refs.created_at = *t;
    body.erase(at);
  }
  if (const auto by = body.find("created_by"); by != body.end()) {
    refs.created_by = record_key(*by, "created_by");
    body.erase(by);
  }
  return refs;
}

template <typename T>
void resolve(Resolver& resolver, const References& refs, T& values, std::vector<std::string>* named,
             bool pipeline_given, const std::function<std::optional<Id>()>& stored_pipeline) {
  auto set = [&](const References::Member& m, Id id) {
    const JsonField<T>* field = json_field<T>(m.field);
    if (field == nullptr) throw ValidationError(m.place + ": no such field", m.place);
    field->set(values, json(id));
    if (named != nullptr) named->push_back(m.field);
  };
  // Stages by name last: they are looked for in the pipeline the others may have named.
  for (const auto& m : refs.members)
    if (m.key.name.empty()) set(m, resolver.id(m.type, m.key, m.place));
  for (const auto& m : refs.members) {
    if (m.key.name.empty()) continue;
    std::optional<Id> pipeline;
    if constexpr (std::is_same_v<T, Deal>) {
      const bool given = pipeline_given ||
                         (named != nullptr &&
                          std::find(named->begin(), named->end(), "pipeline_id") != named->end());
      if (given)
        pipeline = values.pipeline_id;
      else if (stored_pipeline)
        pipeline = stored_pipeline();
    }
    set(m, resolver.id(m.type, m.key, m.place, pipeline));
  }
  if (refs.created_at) values.created_at = *refs.created_at;
  if (refs.created_by)
    values.created_by = resolver.id(ObjectType::kUser, *refs.created_by, "created_by");
}

json reference_schema(bool by_name) {
  json keys = json::array(
      {id_schema(), object_of({{"id", id_schema()}}, {"id"}),
       object_of({{"external_id", {{"type", "string"}, {"minLength", 1}}}}, {"external_id"})});
  if (by_name)
    keys.push_back(object_of({{"name", {{"type", "string"}, {"minLength", 1}}}}, {"name"}));
  return {{"anyOf", keys}};
}

void document_references(json& schema) {
  json& properties = schema["properties"];
  for (const auto& f : kReferenceFields) {
    const auto it = properties.find(f.field);
    if (it == properties.end()) continue;
    const bool nullable_id = (*it)["type"].is_array();
    json ref = reference_schema(f.type == ObjectType::kStage);
    if (nullable_id) ref["anyOf"].push_back({{"type", "null"}});
    ref["description"] = std::string("A ") + std::string(to_string(f.type)) +
                         " by id or by key; also accepted as `" + f.alias + "`";
    properties[f.field] = ref;
    properties[f.alias] = ref;
  }
}

void document_creation(json& schema) {
  json& properties = schema["properties"];
  properties["created_at"] = time_schema();
  properties["created_at"]["description"] =
      "For migrated data: when the record was created in the system it comes from (not in the "
      "future). Needs the import action (the integration and admin roles)";
  properties["created_by"] = reference_schema();
  properties["created_by"]["description"] =
      "For migrated data: the user who created it, by id or external id. Needs the import action";
}

// T names a type in a declaration, where parentheses cannot go.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BANYAN_RESOLVE(T)                                                                     \
  template void resolve<T>(Resolver&, const References&, T&, std::vector<std::string>*, bool, \
                           const std::function<std::optional<Id>()>&);
// NOLINTEND(bugprone-macro-parentheses)
BANYAN_RESOLVE(User)
BANYAN_RESOLVE(Team)
BANYAN_RESOLVE(Tag)
BANYAN_RESOLVE(Company)
BANYAN_RESOLVE(Contact)
BANYAN_RESOLVE(Lead)
BANYAN_RESOLVE(Pipeline)
BANYAN_RESOLVE(Stage)
BANYAN_RESOLVE(Deal)
BANYAN_RESOLVE(Activity)
#undef BANYAN_RESOLVE

}  // namespace banyan::rest
