// The sagas that ship with Banyan: "deal_won" and "lead_conversion".
#include <nlohmann/json.hpp>

#include "banyan/errors.hpp"
#include "banyan/saga/saga.hpp"
#include "net/http_client.hpp"

namespace banyan::saga {
namespace {

using nlohmann::json;
using store::UnitOfWork;

Id id_of(const StepContext& ctx, const std::string& key) { return std::stoull(ctx.data.at(key)); }

// The tag with this name; created when missing if `create`.
std::optional<Id> tag_named(store::Database& db, UnitOfWork& uow, const std::string& name,
                            bool create) {
  store::PageRequest r;
  r.filter = store::Filter::eq("name", name);
  r.limit = 1;
  r.include_archived = true;
  auto page = db.tags().query(uow, r);
  if (!page.items.empty()) return page.items.front().id;
  if (!create) return std::nullopt;
  Tag t;
  t.name = name;
  return db.tags().create(uow, t).id;
}

void set_tag(store::Database& db, UnitOfWork& uow, const std::string& name, ObjectRef target,
             bool on) {
  const auto found = tag_named(db, uow, name, on);
  if (!found) return;  // nothing to take off
  const Id tag = *found;
  auto tags = db.relations().tags_of(uow, target);
  const bool has = std::find(tags.begin(), tags.end(), tag) != tags.end();
  if (on && !has) db.relations().tag(uow, tag, target);
  if (!on && has) db.relations().untag(uow, tag, target);
}

std::string billing_key(const StepContext& ctx) {
  return "deal-won-" + std::to_string(ctx.instance_id);
}

// 2xx is success; 4xx means the request itself is wrong (retrying cannot help, except
// 408 and 429); anything else may pass.
void check_billing_status(int status, const std::string& what, const std::string& body) {
  if (status >= 200 && status < 300) return;
  const std::string msg =
      what + ": billing answered " + std::to_string(status) + " " + body.substr(0, 200);
  if (status >= 400 && status < 500 && status != 408 && status != 429)
    throw messaging::PermanentError(msg);
  throw messaging::TransientError(msg);
}

// A remote step's call: the billing service out of reach is worth retrying, a URL that
// cannot work is not.
net::detail::HttpResponse call_billing(const std::string& method, const std::string& url,
                                       const std::string& body,
                                       const std::map<std::string, std::string>& headers,
                                       std::chrono::steady_clock::time_point deadline) {
  try {
    return net::detail::http_request(method, url, body, headers, deadline);
  } catch (const Unavailable& e) {
    // No answer: the request may have been done (a timeout after sending), or not.
    throw OutcomeUnknown(e.what());
  } catch (const ValidationError& e) {
    throw messaging::PermanentError(e.what());
  }
}

}  // namespace

SagaDefinition deal_won_saga(DealWonOptions options) {
  if (options.billing_url.empty()) throw ValidationError("billing_url: required", "billing_url");
  SagaDefinition def;
  def.name = "deal_won";
  def.retry = options.retry;
  def.lease = options.lease;
  // Every write that wins a deal (a create, a status, a move to a won stage) emits it.
  def.trigger_events = {"deal.won"};
  def.start_rule = [](const store::DomainEvent& e) -> std::optional<StartRequest> {
    const json p = json::parse(e.payload, nullptr, false);
    if (!p.is_object() || p.value("status", std::string()) != "won") return std::nullopt;
    StartRequest r;
    r.key = "deal-" + std::to_string(e.aggregate_id);
    r.subject = {ObjectType::kDeal, e.aggregate_id};
    r.data = {{"deal_id", std::to_string(e.aggregate_id)},
              {"title", p.value("title", std::string())},
              {"amount_minor", std::to_string(p.value("amount_minor", std::int64_t{0}))},
              {"currency", p.value("currency", std::string("USD"))}};
    return r;
  };

  Step flag;
  flag.name = "flag_onboarding";
  // (A run replayed after billing failed clears the flag that failure left.)
  flag.action = [](StepContext& ctx) {
    set_tag(*ctx.db, *ctx.uow, "billing-failed", ctx.subject, false);
    set_tag(*ctx.db, *ctx.uow, "onboarding", ctx.subject, true);
  };
  // Undone when billing fails for good: the deal keeps a flag saying so.
  flag.compensation = [](StepContext& ctx) {
    set_tag(*ctx.db, *ctx.uow, "onboarding", ctx.subject, false);
    set_tag(*ctx.db, *ctx.uow, "billing-failed", ctx.subject, true);
  };

  Step billing;
  billing.name = "provision_billing";
  billing.kind = Step::Kind::kRemote;
  billing.timeout = options.billing_timeout;
  billing.action = [url = options.billing_url](StepContext& ctx) {
    const json body{{"deal_id", ctx.data.at("deal_id")},
                    {"title", ctx.data.at("title")},
                    {"amount_minor", ctx.data.at("amount_minor")},
                    {"currency", ctx.data.at("currency")},
                    {"key", billing_key(ctx)}};
    auto r = call_billing("POST", url, body.dump(), {{"Idempotency-Key", billing_key(ctx)}},
                          ctx.deadline);
    check_billing_status(r.status, "provision", r.body);
    const json answer = json::parse(r.body, nullptr, false);
    ctx.data["billing_customer"] =
        answer.is_object() && answer.contains("id") ? answer["id"].dump() : billing_key(ctx);
  };
  billing.compensation = [url = options.billing_url](StepContext& ctx) {
    auto r = call_billing("DELETE", url + "/" + billing_key(ctx), "", {}, ctx.deadline);
    if (r.status != 404) check_billing_status(r.status, "deprovision", r.body);
  };

  Step task;
  task.name = "create_onboarding_task";
  task.action = [](StepContext& ctx) {
    Activity a;
    a.kind = ActivityKind::kTask;
    a.subject =
        "Onboard the customer of deal " + ctx.data.at("deal_id") + ": " + ctx.data.at("title");
    a.due_at = std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now() + std::chrono::hours(24 * 7));
    const Activity created = ctx.db->activities().create(*ctx.uow, a);
    ctx.db->relations().link_activity(*ctx.uow, created.id, ctx.subject);
    ctx.data["task_id"] = std::to_string(created.id);
  };
  task.compensation = [](StepContext& ctx) {
    if (ctx.data.count("task_id") != 0)
      ctx.db->activities().remove(*ctx.uow, id_of(ctx, "task_id"));
  };

  // Local steps take milliseconds; their bound only has to stay inside the lease.
  flag.timeout = task.timeout = options.lease / 2;
  def.steps = {flag, billing, task};
  return def;
}

SagaDefinition lead_conversion_saga(messaging::RetryPolicy retry) {
  SagaDefinition def;
  def.name = "lead_conversion";
  def.retry = retry;

  Step company;
  company.name = "create_company";
  company.action = [](StepContext& ctx) {
    const Lead lead = ctx.db->leads().get(*ctx.uow, id_of(ctx, "lead_id"));
    if (lead.converted())
      throw messaging::PermanentError("lead " + std::to_string(lead.id) + " is converted already");
    if (!lead.company_name || lead.company_name->find_first_not_of(" \t") == std::string::npos)
      return;
    Company c;
    c.name = *lead.company_name;
    c.owner_id = lead.owner_id;
    c.team_id = lead.team_id;
    ctx.data["company_id"] = std::to_string(ctx.db->companies().create(*ctx.uow, c).id);
  };
  company.compensation = [](StepContext& ctx) {
    if (ctx.data.count("company_id") != 0)
      ctx.db->companies().remove(*ctx.uow, id_of(ctx, "company_id"));
  };

  Step contact;
  contact.name = "create_contact";
  contact.action = [](StepContext& ctx) {
    const Lead lead = ctx.db->leads().get(*ctx.uow, id_of(ctx, "lead_id"));
    Contact c;
    c.first_name = lead.first_name;
    c.last_name = lead.last_name;
    c.email = lead.email;
    c.phone = lead.phone;
    c.owner_id = lead.owner_id;
    c.team_id = lead.team_id;
    const Contact created = ctx.db->contacts().create(*ctx.uow, c);
    if (ctx.data.count("company_id") != 0)
      ctx.db->relations().link_company(*ctx.uow, created.id, id_of(ctx, "company_id"),
                                       /*primary=*/true);
    ctx.data["contact_id"] = std::to_string(created.id);
  };
  contact.compensation = [](StepContext& ctx) {
    if (ctx.data.count("contact_id") != 0)
      ctx.db->contacts().remove(*ctx.uow, id_of(ctx, "contact_id"));
  };

  Step deal;
  deal.name = "open_deal";
  deal.action = [](StepContext& ctx) {
    if (ctx.data.count("pipeline_id") == 0) return;
    const Id pipeline = id_of(ctx, "pipeline_id");
    store::PageRequest r;
    r.filter = store::Filter::eq("pipeline_id", static_cast<std::int64_t>(pipeline));
    r.sort = {"position", false};
    r.limit = 1;
    auto stages = ctx.db->stages().query(*ctx.uow, r);
    if (stages.items.empty())
      throw ValidationError("pipeline_id: pipeline " + std::to_string(pipeline) + " has no stages",
                            "pipeline_id");
    const Lead lead = ctx.db->leads().get(*ctx.uow, id_of(ctx, "lead_id"));
    Deal d;
    d.title =
        lead.company_name.value_or(lead.first_name + " " + lead.last_name) + " - new business";
    d.pipeline_id = pipeline;
    d.stage_id = stages.items.front().id;
    d.amount = {std::stoll(ctx.data.at("amount_minor")), ctx.data.at("currency")};
    if (ctx.data.count("company_id") != 0) d.company_id = id_of(ctx, "company_id");
    d.owner_id = lead.owner_id;
    d.team_id = lead.team_id;
    const Deal created = ctx.db->deals().create(*ctx.uow, d);
    ctx.db->relations().add_deal_contact(*ctx.uow, created.id, id_of(ctx, "contact_id"),
                                         DealRole::kDecisionMaker);
    ctx.data["deal_id"] = std::to_string(created.id);
  };
  deal.compensation = [](StepContext& ctx) {
    if (ctx.data.count("deal_id") != 0) ctx.db->deals().remove(*ctx.uow, id_of(ctx, "deal_id"));
  };

  Step convert;
  convert.name = "convert_lead";
  convert.action = [](StepContext& ctx) {
    auto opt = [&](const char* key) {
      return ctx.data.count(key) != 0 ? std::optional<Id>(id_of(ctx, key)) : std::nullopt;
    };
    ctx.db->lead_converter().mark_converted(*ctx.uow, id_of(ctx, "lead_id"),
                                            id_of(ctx, "contact_id"), opt("company_id"),
                                            opt("deal_id"), opt("company_id").has_value());
  };

  def.steps = {company, contact, deal, convert};
  return def;
}

std::uint64_t start_lead_conversion(UnitOfWork& uow, const LeadConversionRequest& request) {
  StartRequest r;
  r.key = "lead-" + std::to_string(request.lead_id);
  r.subject = {ObjectType::kLead, request.lead_id};
  r.data["lead_id"] = std::to_string(request.lead_id);
  if (request.pipeline_id) r.data["pipeline_id"] = std::to_string(*request.pipeline_id);
  const Money amount = request.amount.value_or(Money{});
  r.data["amount_minor"] = std::to_string(amount.minor_units);
  r.data["currency"] = amount.currency;
  return SagaOrchestrator::start(uow, "lead_conversion", r);
}

}  // namespace banyan::saga
