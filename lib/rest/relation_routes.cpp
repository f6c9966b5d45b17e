// The links between records over REST: contacts and their companies, deals and their
// contacts with a role, activities and the records they concern, tags on records. Each is
// listed from either side; PUT makes or changes a link, DELETE breaks it. The checks are
// RelationService's: both ends readable (404 as if missing otherwise), the owning side
// writable (403); the event and the audit entry of a change are in its transaction.
#include "api_context.hpp"
#include "openapi.hpp"
#include "references.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;

// The collections whose records activities concern and tags mark.
struct Collection {
  const char* path;  // "contacts"
  ObjectType type;
};
constexpr Collection kTargets[] = {{"companies", ObjectType::kCompany},
                                   {"contacts", ObjectType::kContact},
                                   {"leads", ObjectType::kLead},
                                   {"deals", ObjectType::kDeal}};
constexpr Collection kTaggable[] = {{"companies", ObjectType::kCompany},
                                    {"contacts", ObjectType::kContact},
                                    {"leads", ObjectType::kLead},
                                    {"deals", ObjectType::kDeal},
                                    {"activities", ObjectType::kActivity}};

// The request's body as an object: none at all reads as {}.
json optional_body(ApiContext& api, const RouteCall& c) {
  return c.request.body.empty() ? json::object() : api.body_object(c.request);
}

json items(json list) { return json{{"items", std::move(list)}}; }

json company_link(const store::ContactCompanyLink& l) {
  return {{"contact_id", l.contact_id}, {"company_id", l.company_id}, {"primary", l.primary}};
}

json deal_link(const store::DealContactLink& l) {
  return {{"deal_id", l.deal_id}, {"contact_id", l.contact_id}, {"role", to_string(l.role)}};
}

json record_ref(ObjectRef r) {
  return {{"object_type", std::string(to_string(r.type))}, {"object_id", r.id}};
}

// A write of one link: {"changed": bool, ...the link}.
template <typename Change>
HttpResponse link_write(ApiContext& api, RouteCall& c, json link, Change change) {
  return api.write(c, [&](store::UnitOfWork& uow) {
    const bool changed = change(uow, api.engine.relations(c.principal()));
    link["changed"] = changed;
    return json_response(200, link);
  });
}

template <typename List>
HttpResponse link_read(ApiContext& api, RouteCall& c, List list) {
  return json_response(200, api.db.read([&](store::UnitOfWork& uow) {
    return items(list(uow, api.engine.relations(c.principal())));
  }));
}

// ---- contacts and companies ----------------------------------------------------------------

HttpResponse put_contact_company(ApiContext& api, RouteCall& c) {
  const Id contact = c.id();
  const Id company = parse_id(c.params.at(1));
  const json body = optional_body(api, c);
  only_keys(body, {"primary"});
  bool primary = false;
  if (body.contains("primary")) {
    if (!body["primary"].is_boolean())
      throw ValidationError("primary: must be true or false", "primary");
    primary = body["primary"].get<bool>();
  }
  return link_write(api, c, company_link({contact, company, primary}),
                    [&](store::UnitOfWork& uow, const RelationService& rel) {
                      return rel.link_company(uow, contact, company, primary);
                    });
}

HttpResponse delete_contact_company(ApiContext& api, RouteCall& c) {
  const Id contact = c.id();
  const Id company = parse_id(c.params.at(1));
  return link_write(api, c, json{{"contact_id", contact}, {"company_id", company}},
                    [&](store::UnitOfWork& uow, const RelationService& rel) {
                      return rel.unlink_company(uow, contact, company);
                    });
}

// ---- deals and contacts --------------------------------------------------------------------

HttpResponse put_deal_contact(ApiContext& api, RouteCall& c) {
  const Id deal = c.id();
  const Id contact = parse_id(c.params.at(1));
  const json body = optional_body(api, c);
  only_keys(body, {"role"});
  DealRole role = DealRole::kOther;
  if (body.contains("role")) {
    if (!body["role"].is_string()) throw ValidationError("role: must be a string", "role");
    role = parse_deal_role(body["role"].get<std::string>());
  }
  return link_write(api, c, deal_link({deal, contact, role}),
                    [&](store::UnitOfWork& uow, const RelationService& rel) {
                      return rel.add_deal_contact(uow, deal, contact, role);
                    });
}

HttpResponse delete_deal_contact(ApiContext& api, RouteCall& c) {
  const Id deal = c.id();
  const Id contact = parse_id(c.params.at(1));
  return link_write(api, c, json{{"deal_id", deal}, {"contact_id", contact}},
                    [&](store::UnitOfWork& uow, const RelationService& rel) {
                      return rel.remove_deal_contact(uow, deal, contact);
                    });
}

// ---- activities and tags -------------------------------------------------------------------

// {collection}/{target_id} of an activity target's path: the record it names (404 for a
// collection activities do not concern).
ObjectRef target_of(const RouteCall& c) {
  const std::string& collection = c.params.at(1);
  for (const auto& t : kTargets)
    if (collection == t.path) return {t.type, parse_id(c.params.at(2))};
  throw HttpError{
      404, "no_route",
      "activities concern companies, contacts, leads and deals, not '" + collection + "'"};
}

HttpResponse activity_target(ApiContext& api, RouteCall& c, bool link) {
  const Id activity = c.id();
  const ObjectRef target = target_of(c);
  json answer = record_ref(target);
  answer["activity_id"] = activity;
  return link_write(api, c, answer, [&](store::UnitOfWork& uow, const RelationService& rel) {
    return link ? rel.link_activity(uow, activity, target)
                : rel.unlink_activity(uow, activity, target);
  });
}

HttpResponse record_tag(ApiContext& api, RouteCall& c, ObjectType type, bool link) {
  const ObjectRef record{type, c.id()};
  const Id tag = parse_id(c.params.at(1));
  json answer = record_ref(record);
  answer["tag_id"] = tag;
  return link_write(api, c, answer, [&](store::UnitOfWork& uow, const RelationService& rel) {
    return link ? rel.tag(uow, tag, record) : rel.untag(uow, tag, record);
  });
}

// ---- the OpenAPI side ----------------------------------------------------------------------

const json kChanged = {{"type", "boolean"},
                       {"description", "Whether the call changed anything (false: it was so)"}};

json company_link_schema() {
  return object_of({{"contact_id", id_schema()},
                    {"company_id", id_schema()},
                    {"primary", {{"type", "boolean"}}}},
                   {"contact_id", "company_id", "primary"});
}

json role_schema() {
  json names = json::array();
  for (auto r :
       {DealRole::kDecisionMaker, DealRole::kChampion, DealRole::kInfluencer,
        DealRole::kEconomicBuyer, DealRole::kTechnicalBuyer, DealRole::kEndUser, DealRole::kOther})
    names.push_back(std::string(to_string(r)));
  return {{"type", "string"}, {"enum", names}};
}

json deal_link_schema() {
  return object_of({{"deal_id", id_schema()}, {"contact_id", id_schema()}, {"role", role_schema()}},
                   {"deal_id", "contact_id", "role"});
}

json record_ref_schema() {
  return object_of({{"object_type", {{"type", "string"}}}, {"object_id", id_schema()}},
                   {"object_type", "object_id"});
}

// `schema` with "changed" added.
json with_changed(json schema) {
  schema["properties"]["changed"] = kChanged;
  schema["required"].push_back("changed");
  return schema;
}

json id_item(const char* name) { return object_of({{name, id_schema()}}, {name}); }

std::function<void(Builder&, json&)> lists(const std::string& what, const json& item) {
  return [what, item](Builder&, json& o) {
    o["description"] = "Only the linked records the caller may read are listed.";
    o["responses"]["200"] = Builder::ok(what, list_of(item));
  };
}

std::function<void(Builder&, json&)> writes(const std::string& what, const json& answer,
                                            const json& body = nullptr) {
  return [what, answer, body](Builder&, json& o) {
    if (!body.is_null()) {
      o["requestBody"] = {{"required", false},
                          {"content", {{"application/json", {{"schema", body}}}}}};
    }
    o["responses"]["200"] = Builder::ok(what, answer);
  };
}

}  // namespace

namespace {

bool takes_tags(ObjectType type) {
  for (const auto& t : kTaggable)
    if (t.type == type) return true;
  return false;
}

// body[name] as a list of at most 100, or null when absent.
const json* link_list(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end()) return nullptr;
  if (!it->is_array()) throw ValidationError(std::string(name) + ": must be a list", name);
  if (it->size() > 100) throw ValidationError(std::string(name) + ": at most 100 at once", name);
  return &*it;
}

std::string at(const char* name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

// A record to link, given at `where` as its key or as an object of its key and `extra`
// (a flag, a role): the key, and `extra`'s value (null when absent).
std::pair<RecordKey, json> keyed_item(const json& item, const std::string& where,
                                      const char* extra) {
  if (!item.is_object()) return {record_key(item, where), json()};
  only_keys(item, {"id", "external_id", extra}, where + ".");
  json key = item;
  json value;
  if (const auto it = key.find(extra); it != key.end()) {
    value = *it;
    key.erase(it);
  }
  return {record_key(key, where), std::move(value)};
}

}  // namespace

CreateLinks take_links(ObjectType type, json& body) {
  CreateLinks links;
  if (takes_tags(type)) {
    if (const json* tags = link_list(body, "tags")) {
      for (std::size_t i = 0; i < tags->size(); ++i)
        links.tags.push_back(record_key((*tags)[i], at("tags", i)));
      body.erase("tags");
    }
  }
  if (type == ObjectType::kContact) {
    if (const json* companies = link_list(body, "companies")) {
      int primaries = 0;
      for (std::size_t i = 0; i < companies->size(); ++i) {
        const std::string where = at("companies", i);
        auto [key, primary] = keyed_item((*companies)[i], where, "primary");
        if (!primary.is_null() && !primary.is_boolean())
          throw ValidationError(where + ".primary: must be true or false", where + ".primary");
        const bool is_primary = primary.is_boolean() && primary.get<bool>();
        primaries += is_primary ? 1 : 0;
        links.companies.emplace_back(std::move(key), is_primary);
      }
      if (primaries > 1)
        throw ValidationError("companies: at most one primary company", "companies");
      body.erase("companies");
    }
  }
  if (type == ObjectType::kDeal) {
    if (const json* contacts = link_list(body, "contacts")) {
      for (std::size_t i = 0; i < contacts->size(); ++i) {
        const std::string where = at("contacts", i);
        auto [key, named_role] = keyed_item((*contacts)[i], where, "role");
        DealRole role = DealRole::kOther;
        if (!named_role.is_null()) {
          if (!named_role.is_string())
            throw ValidationError(where + ".role: must be a string", where + ".role");
          try {
            role = parse_deal_role(named_role.get<std::string>());
          } catch (const ValidationError& e) {
            throw ValidationError(where + ".role: " + e.what(), where + ".role");
          }
        }
        links.contacts.emplace_back(std::move(key), role);
      }
      body.erase("contacts");
    }
  }
  if (type == ObjectType::kActivity) {
    if (const json* targets = link_list(body, "targets")) {
      for (std::size_t i = 0; i < targets->size(); ++i) {
        const json& item = (*targets)[i];
        const std::string where = at("targets", i);
        if (!item.is_object())
          throw ValidationError(
              where + R"(: must be {"type": "contact", "id": n} or with "external_id")", where);
        only_keys(item, {"type", "id", "external_id"}, where + ".");
        const auto t = item.find("type");
        if (t == item.end() || !t->is_string())
          throw ValidationError(where + ".type: one of company, contact, lead, deal",
                                where + ".type");
        const Collection* target = nullptr;
        for (const auto& c : kTargets)
          if (to_string(c.type) == t->get<std::string>()) target = &c;
        if (target == nullptr)
          throw ValidationError(where + ".type: one of company, contact, lead, deal",
                                where + ".type");
        json key = item;
        key.erase("type");
        links.targets.emplace_back(target->type, record_key(key, where));
      }
      body.erase("targets");
    }
  }
  return links;
}

void link_created(Resolver& resolver, ObjectRef record, const CreateLinks& links) {
  store::UnitOfWork& uow = resolver.uow();
  const RelationService relations = resolver.engine().relations(resolver.principal());
  auto each = [&](const char* name, std::size_t i, const std::function<void()>& link) {
    try {
      link();
    } catch (const NotFound& e) {
      throw ValidationError(at(name, i) + ": " + e.what(), at(name, i));
    }
  };
  for (std::size_t i = 0; i < links.companies.size(); ++i) {
    const auto& link = links.companies[i];
    const Id company = resolver.id(ObjectType::kCompany, link.first, at("companies", i));
    each("companies", i, [&] { relations.link_company(uow, record.id, company, link.second); });
  }
  for (std::size_t i = 0; i < links.tags.size(); ++i) {
    const Id tag = resolver.id(ObjectType::kTag, links.tags[i], at("tags", i));
    each("tags", i, [&] { relations.tag(uow, tag, record); });
  }
  for (std::size_t i = 0; i < links.contacts.size(); ++i) {
    const auto& link = links.contacts[i];
    const Id contact = resolver.id(ObjectType::kContact, link.first, at("contacts", i));
    each("contacts", i, [&] { relations.add_deal_contact(uow, record.id, contact, link.second); });
  }
  for (std::size_t i = 0; i < links.targets.size(); ++i) {
    const auto& [type, key] = links.targets[i];
    const ObjectRef target{type, resolver.id(type, key, at("targets", i))};
    each("targets", i, [&] { relations.link_activity(uow, record.id, target); });
  }
}

bool document_create_links(ObjectType type, json& schema) {
  if (!takes_tags(type)) return false;
  json& properties = schema["properties"];
  {
    properties["tags"] = {{"type", "array"},
                          {"maxItems", 100},
                          {"items", reference_schema()},
                          {"description", "Tags to put on the new record (each <type>.tagged)"}};
  }
  if (type == ObjectType::kContact) {
    const json item = {
        {"anyOf",
         {id_schema(), object_of({{"id", id_schema()}, {"primary", {{"type", "boolean"}}}}, {"id"}),
          object_of({{"external_id", {{"type", "string"}, {"minLength", 1}}},
                     {"primary", {{"type", "boolean"}}}},
                    {"external_id"})}}};
    properties["companies"] = {{"type", "array"},
                               {"maxItems", 100},
                               {"items", item},
                               {"description",
                                "Companies to link the new contact to, at most one primary (each "
                                "contact.company_linked)"}};
  }
  if (type == ObjectType::kDeal) {
    const json role = {{"type", "string"},
                       {"enum",
                        {"decision_maker", "champion", "influencer", "economic_buyer",
                         "technical_buyer", "end_user", "other"}}};
    const json item = {
        {"anyOf",
         {id_schema(), object_of({{"id", id_schema()}, {"role", role}}, {"id"}),
          object_of({{"external_id", {{"type", "string"}, {"minLength", 1}}}, {"role", role}},
                    {"external_id"})}}};
    properties["contacts"] = {{"type", "array"},
                              {"maxItems", 100},
                              {"items", item},
                              {"description",
                               "Contacts of the new deal, each in a role, other by default (each "
                               "deal.contact_linked)"}};
  }
  if (type == ObjectType::kActivity) {
    const json kind = {{"type", "string"}, {"enum", {"company", "contact", "lead", "deal"}}};
    const json item = {
        {"anyOf",
         {object_of({{"type", kind}, {"id", id_schema()}}, {"type", "id"}),
          object_of({{"type", kind}, {"external_id", {{"type", "string"}, {"minLength", 1}}}},
                    {"type", "external_id"})}}};
    properties["targets"] = {{"type", "array"},
                             {"maxItems", 100},
                             {"items", item},
                             {"description",
                              "The records the new activity concerns (each "
                              "activity.target_linked)"}};
  }
  return true;
}

void add_relation_routes(RouteTable& table) {
  using enum Guard::RouteClass;
  const auto principal = RouteAccess::kPrincipal;
  const std::vector<int> read_errors{404};
  const std::vector<int> write_errors{400, 404, 409, 415, 422};

  // Contacts and companies.
  table.add({"GET",
             "/v1/contacts/{id}/companies",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id contact = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& l : rel.companies_of(uow, contact))
                   out.push_back(company_link(l));
                 return out;
               });
             },
             {"list_contact_companies", "The companies a contact works with, the primary first",
              read_errors, lists("The links", company_link_schema())}});
  table.add({"GET",
             "/v1/companies/{id}/contacts",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id company = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& l : rel.contacts_of(uow, company)) out.push_back(company_link(l));
                 return out;
               });
             },
             {"list_company_contacts", "The contacts linked to a company", read_errors,
              lists("The links", company_link_schema())}});
  table.add({"PUT",
             "/v1/contacts/{id}/companies/{company_id}",
             kWrite,
             principal,
             put_contact_company,
             {"link_contact_company",
              "Link a contact to a company, or change whether it is the contact's primary one "
              "(event contact.company_linked)",
              write_errors,
              writes("The link", with_changed(company_link_schema()),
                     object_of({{"primary", {{"type", "boolean"}, {"default", false}}}},
                               json::array()))}});
  table.add({"DELETE",
             "/v1/contacts/{id}/companies/{company_id}",
             kWrite,
             principal,
             delete_contact_company,
             {"unlink_contact_company",
              "Unlink a contact from a company (contact.company_unlinked)", write_errors,
              writes("What was unlinked", with_changed(object_of({{"contact_id", id_schema()},
                                                                  {"company_id", id_schema()}},
                                                                 {"contact_id", "company_id"})))}});

  // Deals and contacts.
  table.add({"GET",
             "/v1/deals/{id}/contacts",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id deal = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& l : rel.deal_contacts(uow, deal)) out.push_back(deal_link(l));
                 return out;
               });
             },
             {"list_deal_contacts", "A deal's contacts and their roles", read_errors,
              lists("The links", deal_link_schema())}});
  table.add({"GET",
             "/v1/contacts/{id}/deals",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id contact = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& l : rel.deals_of(uow, contact)) out.push_back(deal_link(l));
                 return out;
               });
             },
             {"list_contact_deals", "The deals a contact takes part in, with its role", read_errors,
              lists("The links", deal_link_schema())}});
  table.add({"PUT",
             "/v1/deals/{id}/contacts/{contact_id}",
             kWrite,
             principal,
             put_deal_contact,
             {"link_deal_contact",
              "Add a contact to a deal with a role, or change its role (deal.contact_linked)",
              write_errors,
              writes("The link", with_changed(deal_link_schema()),
                     object_of({{"role", role_schema()}}, json::array()))}});
  table.add(
      {"DELETE",
       "/v1/deals/{id}/contacts/{contact_id}",
       kWrite,
       principal,
       delete_deal_contact,
       {"unlink_deal_contact", "Remove a contact from a deal (deal.contact_unlinked)", write_errors,
        writes("What was unlinked",
               with_changed(object_of({{"deal_id", id_schema()}, {"contact_id", id_schema()}},
                                      {"deal_id", "contact_id"})))}});

  // Activities and the records they concern.
  json target_answer = record_ref_schema();
  target_answer["properties"]["activity_id"] = id_schema();
  target_answer["required"].push_back("activity_id");
  table.add({"GET",
             "/v1/activities/{id}/targets",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id activity = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& t : rel.activity_targets(uow, activity))
                   out.push_back(record_ref(t));
                 return out;
               });
             },
             {"list_activity_targets", "The records an activity concerns", read_errors,
              lists("The records", record_ref_schema())}});
  table.add({"PUT",
             "/v1/activities/{id}/targets/{collection}/{target_id}",
             kWrite,
             principal,
             [](ApiContext& api, RouteCall& c) { return activity_target(api, c, true); },
             {"link_activity_target",
              "Attach an activity to a company, contact, lead or deal (activity.target_linked)",
              write_errors, writes("The link", with_changed(target_answer))}});
  table.add(
      {"DELETE",
       "/v1/activities/{id}/targets/{collection}/{target_id}",
       kWrite,
       principal,
       [](ApiContext& api, RouteCall& c) { return activity_target(api, c, false); },
       {"unlink_activity_target", "Detach an activity from a record (activity.target_unlinked)",
        write_errors, writes("What was unlinked", with_changed(target_answer))}});
  for (const auto& t : kTargets) {
    const std::string path = std::string("/v1/") + t.path + "/{id}/activities";
    const ObjectType type = t.type;
    table.add(
        {"GET",
         path,
         kRead,
         principal,
         [type](ApiContext& api, RouteCall& c) {
           const ObjectRef record{type, c.id()};
           return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
             json out = json::array();
             for (Id a : rel.activities_of(uow, record)) out.push_back({{"activity_id", a}});
             return out;
           });
         },
         {std::string("list_") + t.path + "_activities", "The activities that concern a record",
          read_errors, lists("The activities", id_item("activity_id"))}});
  }

  // Tags.
  table.add({"GET",
             "/v1/tags/{id}/records",
             kRead,
             principal,
             [](ApiContext& api, RouteCall& c) {
               const Id tag = c.id();
               return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                 json out = json::array();
                 for (const auto& r : rel.tagged_with(uow, tag)) out.push_back(record_ref(r));
                 return out;
               });
             },
             {"list_tagged_records", "The records that carry a tag", read_errors,
              lists("The records", record_ref_schema())}});
  for (const auto& t : kTaggable) {
    const std::string base = std::string("/v1/") + t.path + "/{id}/tags";
    const ObjectType type = t.type;
    json tag_answer = record_ref_schema();
    tag_answer["properties"]["tag_id"] = id_schema();
    tag_answer["required"].push_back("tag_id");
    table.add({"GET",
               base,
               kRead,
               principal,
               [type](ApiContext& api, RouteCall& c) {
                 const ObjectRef record{type, c.id()};
                 return link_read(api, c, [&](store::UnitOfWork& uow, const RelationService& rel) {
                   json out = json::array();
                   for (Id tag : rel.tags_of(uow, record)) out.push_back({{"tag_id", tag}});
                   return out;
                 });
               },
               {std::string("list_") + t.path + "_tags", "The tags on a record", read_errors,
                lists("The tags", id_item("tag_id"))}});
    table.add({"PUT",
               base + "/{tag_id}",
               kWrite,
               principal,
               [type](ApiContext& api, RouteCall& c) { return record_tag(api, c, type, true); },
               {std::string("tag_") + t.path, "Put a tag on a record (event <type>.tagged)",
                write_errors, writes("The tag on the record", with_changed(tag_answer))}});
    table.add({"DELETE",
               base + "/{tag_id}",
               kWrite,
               principal,
               [type](ApiContext& api, RouteCall& c) { return record_tag(api, c, type, false); },
               {std::string("untag_") + t.path, "Take a tag off a record (event <type>.untagged)",
                write_errors, writes("What was taken off", with_changed(tag_answer))}});
  }
}

}  // namespace banyan::rest
