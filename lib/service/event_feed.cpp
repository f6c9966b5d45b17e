// Engine::events: the relayed outbox by feed position, each event shown only to a
// principal that may read its record, its payload masked as that record would be.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "banyan/engine.hpp"
#include "banyan/errors.hpp"
#include "messaging/event_feed_store.hpp"
#include "messaging/queue_store.hpp"
#include "model/record_types.hpp"
#include "store/stores.hpp"

namespace banyan {
namespace {

using nlohmann::json;
using security::Action;

constexpr int kScanBatch = 500;
constexpr std::size_t kScanCap = 5000;  // events looked at per page, shown or not

std::optional<Id> id_in(const json& payload, const char* key) {
  const auto v = payload.find(key);
  if (v == payload.end() || !v->is_number_unsigned()) return std::nullopt;
  return v->get<Id>();
}

}  // namespace

EventFeedPage Engine::events(store::UnitOfWork& uow, const security::Principal& who,
                             const EventFeedRequest& request) {
  if (request.limit < 1 || request.limit > 1000)
    throw ValidationError("limit: must be between 1 and 1000", "limit");
  if (request.types.size() > 32) throw ValidationError("types: at most 32 patterns", "types");
  for (const auto& p : request.types) messaging::detail::validate_type_pattern(p, "types");
  const auto in_force = policy();
  bool reads_any = false;
  for (int t = 0; t <= static_cast<int>(ObjectType::kActivity); ++t)
    reads_any = reads_any || in_force->scope(who, Action::kRead, static_cast<ObjectType>(t)) !=
                                 security::Scope::kNone;
  if (!reads_any) throw PermissionDenied(who.name + " may read no records, so no events of them");
  auto stores = store::stores(database());

  EventFeedPage page;
  page.oldest = messaging::detail::feed_floor(uow);
  page.next = std::max(request.after, page.oldest);
  if (request.after != 0 && request.after < page.oldest) {
    page.expired = true;
    page.next = request.after;
    return page;
  }

  // Where an event's record stands: a user is its own, a team itself; else the owner and
  // team the payload carries (a write's snapshot, a deletion's facts), or, for an event
  // that carries neither (a link, a stage move, a merge), the record as it is now.
  std::map<std::pair<ObjectType, Id>, std::optional<security::RecordScope>> now;
  const auto standing = [&](const store::DomainEvent& e,
                            const json& payload) -> std::optional<security::RecordScope> {
    if (e.aggregate_type == ObjectType::kUser) return security::RecordScope{e.aggregate_id, {}};
    if (e.aggregate_type == ObjectType::kTeam) return security::RecordScope{{}, e.aggregate_id};
    if (payload.is_object() && (payload.contains("owner_id") || payload.contains("team_id")))
      return security::RecordScope{id_in(payload, "owner_id"), id_in(payload, "team_id")};
    const auto key = std::make_pair(e.aggregate_type, e.aggregate_id);
    if (auto known = now.find(key); known != now.end()) return known->second;
    std::optional<security::RecordScope> found;
    detail::with_record_type(e.aggregate_type, [&]<typename T>() {
      if (const auto r = stores.records<T>().find(uow, e.aggregate_id))
        found = security::RecordScope::of(*r);
    });
    now.emplace(key, found);
    return found;
  };
  std::map<ObjectType, std::vector<std::string>> sensitive_custom;
  const auto mask = [&](ObjectType type, json& payload) {
    if (!payload.is_object()) return;
    for (const auto& name : security::sensitive_fields(type))
      if (payload.contains(name)) payload[name] = nullptr;
    auto custom = payload.find("custom");
    if (custom == payload.end() || !custom->is_object()) return;
    auto names = sensitive_custom.find(type);
    if (names == sensitive_custom.end()) {
      std::vector<std::string> sensitive;
      for (const auto& d : stores.custom_fields().list(uow, type))
        if (d.sensitive) sensitive.push_back(d.name);
      names = sensitive_custom.emplace(type, std::move(sensitive)).first;
    }
    for (const auto& name : names->second)
      if (custom->contains(name)) (*custom)[name] = nullptr;
  };

  std::size_t scanned = 0;
  bool full = false;
  while (!full && scanned < kScanCap) {
    auto batch = messaging::detail::feed_after(uow, page.next, kScanBatch);
    for (auto& item : batch) {
      store::DomainEvent& event = item.event;
      ++scanned;
      page.next = item.position;
      const bool wanted =
          request.types.empty() ||
          std::any_of(request.types.begin(), request.types.end(), [&](const std::string& p) {
            return messaging::detail::type_matches(p, event.type);
          });
      if (!wanted ||
          in_force->scope(who, Action::kRead, event.aggregate_type) == security::Scope::kNone)
        continue;
      json payload = json::parse(event.payload, nullptr, false);
      const auto place = standing(event, payload);
      if (!place || !in_force->allows(who, Action::kRead, event.aggregate_type, *place)) continue;
      if (in_force->allows(who, Action::kReadSensitive, event.aggregate_type, *place)) {
        event.payload = stores.outbox().opened_payload(event);
      } else {
        mask(event.aggregate_type, payload);
        event.payload = payload.dump();
      }
      page.items.push_back({item.position, std::move(event)});
      full = page.items.size() == request.limit;
      if (full) break;
    }
    if (batch.size() < static_cast<std::size_t>(kScanBatch) && !full) break;
  }
  page.more = !messaging::detail::feed_after(uow, page.next, 1).empty();
  return page;
}

}  // namespace banyan
