// GET /v1/events: the event feed (Engine::events), with long-polling.
#include <algorithm>
#include <chrono>
#include <thread>

#include "api_context.hpp"
#include "openapi.hpp"

namespace banyan::rest {

namespace {

using namespace openapi;
using Clock = std::chrono::steady_clock;

constexpr auto kMaxWait = std::chrono::seconds(30);
constexpr auto kPollEvery = std::chrono::milliseconds(200);
// Waiting requests hold a handler thread each: past this many, a request answers at once.
constexpr int kMaxWaiting = 4;

std::chrono::milliseconds wait_of(const std::string& text) {
  std::string digits = text;
  if (!digits.empty() && digits.back() == 's') digits.pop_back();
  const auto v = parse_integer(digits);
  if (digits.empty() || !v || *v < 0 || *v > kMaxWait.count())
    throw ValidationError("wait: seconds to wait for an event, 0 to 30 (wait=30s)", "wait");
  return std::chrono::seconds(*v);
}

json event_json(const FeedEvent& f) {
  const store::DomainEvent& e = f.event;
  return {{"position", std::to_string(f.position)},
          {"id", e.id},
          {"type", e.type},
          {"record",
           {{"type", std::string(to_string(e.aggregate_type))},
            {"id", e.aggregate_id},
            {"version", e.aggregate_version}}},
          {"occurred_at", format_timestamp(e.occurred_at)},
          {"actor_id", e.actor ? json(*e.actor) : json(nullptr)},
          {"payload", json::parse(e.payload, nullptr, false)}};
}

// GET /v1/events?after=<next>&types=contact.*,deal.won&limit=100&wait=30s
HttpResponse events(ApiContext& api, RouteCall& c) {
  for (const auto& [key, value] : c.target.query)
    if (key != "after" && key != "types" && key != "limit" && key != "wait")
      throw ValidationError(key + ": no such parameter; the feed takes after, types, limit, wait",
                            key);
  EventFeedRequest request;
  if (const auto after = query_value(c.target, "after")) {
    const auto v = parse_integer(*after);
    if (!v || *v < 0)
      throw ValidationError("after: the next of the previous page (or 0 for the oldest)", "after");
    request.after = static_cast<std::uint64_t>(*v);
  }
  if (const auto types = query_value(c.target, "types")) request.types = split(*types, ',');
  if (const auto limit = query_value(c.target, "limit")) {
    const auto v = parse_integer(*limit);
    if (!v || *v < 1 || *v > 1000) throw ValidationError("limit: a number from 1 to 1000", "limit");
    request.limit = static_cast<std::size_t>(*v);
  }
  std::chrono::milliseconds wait{0};
  if (const auto given = query_value(c.target, "wait")) wait = wait_of(*given);
  const auto read = [&] {
    return api.db.read(
        [&](store::UnitOfWork& uow) { return api.engine.events(uow, c.principal(), request); });
  };
  EventFeedPage page = read();
  if (wait.count() > 0 && page.items.empty() && !page.more && !page.expired) {
    // Until an event comes or the wait ends, at the latest a second before the request's
    // deadline (the server's handler timeout), so the answer is never a 503.
    auto until = Clock::now() + wait;
    if (c.request.deadline != Clock::time_point{})
      until = std::min(until, c.request.deadline - std::chrono::seconds(1));
    if (api.waiting_feeds.fetch_add(1) < kMaxWaiting) {
      while (Clock::now() + kPollEvery < until) {
        std::this_thread::sleep_for(kPollEvery);
        request.after = page.next;
        page = read();
        if (!page.items.empty() || page.more || page.expired) break;
      }
    }
    api.waiting_feeds.fetch_sub(1);
  }
  if (page.expired)
    throw HttpError{410, "cursor_expired",
                    "events after " + std::to_string(request.after) +
                        " are past the outbox's retention and may be gone; read from after=0 "
                        "(and reconcile), or from after=" +
                        std::to_string(page.oldest)};
  json items = json::array();
  for (const auto& e : page.items) items.push_back(event_json(e));
  return json_response(
      200, json{{"items", items}, {"next", std::to_string(page.next)}, {"more", page.more}});
}

}  // namespace

void add_event_routes(RouteTable& table) {
  const json event =
      object_of({{"position", {{"type", "string"}}},
                 {"id", {{"type", "string"}}},
                 {"type", {{"type", "string"}}},
                 {"record", object_of({{"type", {{"type", "string"}}},
                                       {"id", id_schema()},
                                       {"version", {{"type", "integer"}, {"minimum", 0}}}},
                                      {"type", "id", "version"})},
                 {"occurred_at", time_schema()},
                 {"actor_id", {{"type", {"integer", "null"}}}},
                 {"payload", {{"type", "object"}}}},
                {"position", "id", "type", "record", "occurred_at", "actor_id", "payload"});
  const json page = object_of({{"items", {{"type", "array"}, {"items", event}}},
                               {"next", {{"type", "string"}}},
                               {"more", {{"type", "boolean"}}}},
                              {"items", "next", "more"});
  table.add(
      {"GET",
       "/v1/events",
       Guard::RouteClass::kRead,
       RouteAccess::kPrincipal,
       events,
       {"list_events",
        "Every change, in the order it committed, to catch up after downtime",
        {410, 422},
        [page](Builder&, json& o) {
          o["description"] =
              "The outbox's events (writes, deletions, links, stage moves, merges, conversions, "
              "applications' own events) in the order their commits became visible, once the "
              "relay has passed them (a host that relays: banyan-server does by default). Only "
              "events about records the caller may read, as it stood when the event happened "
              "(or, for an event that does not say, as it stands now); payloads masked as the "
              "record would be. Pass `next` back as `after`; events are kept as long as the "
              "outbox retention says (--outbox-retention, 7 days by default), and a cursor older "
              "than that is 410 cursor_expired.";
          Builder::query(o, "after", "The next of the previous page; 0 (the default) is the oldest",
                         {{"type", "string"}});
          Builder::query(o, "types",
                         "Comma-separated event type patterns (contact.*, deal.won, *); all "
                         "when absent",
                         {{"type", "string"}});
          Builder::query(o, "limit", "1 to 1000 (100)",
                         {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}});
          Builder::query(o, "wait",
                         "When nothing is new, wait up to this long for an event (0 to 30, as "
                         "30 or 30s), at most until a second before the server's handler "
                         "timeout; a few waiting requests at most, others answer at once",
                         {{"type", "string"}});
          o["responses"]["200"] = Builder::ok(
              "Events after `after`; `more` says more follow at once, else wait or poll", page);
        }}});
}

}  // namespace banyan::rest
