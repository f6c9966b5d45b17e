// The sagas that ship with Banyan: "deal_won" and "lead_conversion". Their steps are
// trusted jobs that act through the Engine as the system principal, like any other use
// case (the audit trail names the saga, instance and step as the origin). They live in
// the service layer, above the saga framework, for that reason.
#include <nlohmann/json.hpp>

#include "banyan/builtin_sagas.hpp"
#include "banyan/engine.hpp"
#include "banyan/errors.hpp"
#include "banyan/saga/saga.hpp"
#include "net/http_client.hpp"

namespace banyan::saga {
namespace {

using nlohmann::json;
using store::UnitOfWork;

Id id_of(const StepContext& ctx, const std::string& key) { return std::stoull(ctx.data.at(key)); }

// Who a step acts as.
const security::Principal& system() {
  static const security::Principal who = security::Principal::system();
  return who;
}

// The Engine a step acts through: one for the step, on the orchestrator's database (an
// Engine is cheap to make; its policy loads on first use).
Engine engine_of(const StepContext& ctx) { return Engine(*ctx.db); }

// The tag with this name; created when missing if `create`.
std::optional<Id> tag_named(Engine& engine, UnitOfWork& uow, const std::string& name, bool create) {
  store::PageRequest r;
  r.filter = store::Filter::eq("name", name);
  r.limit = 1;
  r.include_archived = true;
  auto page = engine.tags(system()).query(uow, r);
  if (!page.items.empty()) return page.items.front().id;
  if (!create) return std::nullopt;
  Tag t;
  t.name = name;
  return engine.tags(system()).create(uow, t).id;
}

void set_tag(StepContext& ctx, const std::string& name, bool on) {
  Engine engine = engine_of(ctx);
  const auto found = tag_named(engine, *ctx.uow, name, on);
  if (!found) return;  // nothing to take off
  const auto relations = engine.relations(system());
  const auto tags = relations.tags_of(*ctx.uow, ctx.subject);
  const bool has = std::find(tags.begin(), tags.end(), *found) != tags.end();
  if (on && !has) relations.tag(*ctx.uow, *found, ctx.subject);
  if (!on && has) relations.untag(*ctx.uow, *found, ctx.subject);
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

SagaDefinition deal_won_saga(const DealWonOptions& options) {
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
    set_tag(ctx, "billing-failed", false);
    set_tag(ctx, "onboarding", true);
  };
  // Undone when billing fails for good: the deal keeps a flag saying so.
  flag.compensation = [](StepContext& ctx) {
    set_tag(ctx, "onboarding", false);
    set_tag(ctx, "billing-failed", true);
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
    a.due_at = ctx.db->clock().wall() + std::chrono::hours(24 * 7);
    Engine engine = engine_of(ctx);
    const Activity created = engine.activities(system()).create(*ctx.uow, a);
    engine.relations(system()).link_activity(*ctx.uow, created.id, ctx.subject);
    ctx.data["task_id"] = std::to_string(created.id);
  };
  task.compensation = [](StepContext& ctx) {
    if (ctx.data.count("task_id") != 0)
      engine_of(ctx).activities(system()).remove(*ctx.uow, id_of(ctx, "task_id"));
  };

  // Local steps take milliseconds; their bound only has to stay inside the lease.
  flag.timeout = task.timeout = options.lease / 2;
  def.steps = {flag, billing, task};
  return def;
}

// Each step is one step of Engine::convert_lead (Engine::conversion_company and the
// rest), taken as the system principal, so a lead converted through the saga becomes what
// a direct conversion makes of it (custom values and company matching included); the
// saga adds only the undoing of each step when a later one fails.
SagaDefinition lead_conversion_saga(messaging::RetryPolicy retry) {
  SagaDefinition def;
  def.name = "lead_conversion";
  def.retry = retry;

  Step company;
  company.name = "choose_company";
  company.action = [](StepContext& ctx) {
    store::LeadConversion request;
    request.lead_id = id_of(ctx, "lead_id");
    try {
      const auto chosen = engine_of(ctx).conversion_company(*ctx.uow, system(), request);
      ctx.data["company_id"] = std::to_string(chosen.company.id);
      if (chosen.created) ctx.data["company_created"] = "1";
    } catch (const Conflict& e) {  // converted already: running again cannot help
      throw messaging::PermanentError(e.what(), ErrorCode::kConflict);
    }
  };
  company.compensation = [](StepContext& ctx) {
    if (ctx.data.count("company_created") != 0)
      engine_of(ctx).companies(system()).remove(*ctx.uow, id_of(ctx, "company_id"));
  };

  Step contact;
  contact.name = "create_contact";
  contact.action = [](StepContext& ctx) {
    const Contact created = engine_of(ctx).conversion_contact(
        *ctx.uow, system(), id_of(ctx, "lead_id"), id_of(ctx, "company_id"));
    ctx.data["contact_id"] = std::to_string(created.id);
  };
  contact.compensation = [](StepContext& ctx) {
    if (ctx.data.count("contact_id") != 0)
      engine_of(ctx).contacts(system()).remove(*ctx.uow, id_of(ctx, "contact_id"));
  };

  Step deal;
  deal.name = "open_deal";
  deal.action = [](StepContext& ctx) {
    if (ctx.data.count("pipeline_id") == 0) return;
    store::LeadConversion::NewDeal spec;
    spec.pipeline_id = id_of(ctx, "pipeline_id");
    spec.amount = {std::stoll(ctx.data.at("amount_minor")), ctx.data.at("currency")};
    const Deal created =
        engine_of(ctx).conversion_deal(*ctx.uow, system(), id_of(ctx, "lead_id"),
                                       id_of(ctx, "company_id"), id_of(ctx, "contact_id"), spec);
    ctx.data["deal_id"] = std::to_string(created.id);
  };
  deal.compensation = [](StepContext& ctx) {
    if (ctx.data.count("deal_id") != 0)
      engine_of(ctx).deals(system()).remove(*ctx.uow, id_of(ctx, "deal_id"));
  };

  Step convert;
  convert.name = "convert_lead";
  convert.action = [](StepContext& ctx) {
    const std::optional<Id> deal_id =
        ctx.data.count("deal_id") != 0 ? std::optional<Id>(id_of(ctx, "deal_id")) : std::nullopt;
    engine_of(ctx).finish_conversion(*ctx.uow, system(), id_of(ctx, "lead_id"),
                                     id_of(ctx, "contact_id"), id_of(ctx, "company_id"), deal_id,
                                     ctx.data.count("company_created") != 0);
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
