#include "store/duplicates.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "banyan/errors.hpp"
#include "model/writable_fields.hpp"
#include "store/audit.hpp"
#include "store/contact_points.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/match_keys.hpp"
#include "store/object_links.hpp"
#include "store/outbox_writer.hpp"
#include "store/repository.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

using detail::int_param;
using detail::text_param;

std::string_view to_string(DuplicateRule rule) noexcept {
  switch (rule) {
    case DuplicateRule::kEmail:
      return "email";
    case DuplicateRule::kPhone:
      return "phone";
    case DuplicateRule::kDomain:
      return "domain";
    case DuplicateRule::kName:
      return "name";
  }
  return "name";
}

namespace {

DuplicateRule parse_rule(const std::string& s) {
  for (auto r :
       {DuplicateRule::kEmail, DuplicateRule::kPhone, DuplicateRule::kDomain, DuplicateRule::kName})
    if (to_string(r) == s) return r;
  return DuplicateRule::kName;
}

void require_deduplicated(ObjectType type) {
  if (type != ObjectType::kContact && type != ObjectType::kCompany && type != ObjectType::kLead)
    throw ValidationError(
        "type: duplicates are found and merged for contacts, companies and "
        "leads only",
        "type");
}

using KeyRows = island::RowStore<odbrows::MatchKeyRow>;

std::vector<odbrows::MatchKeyRow> keys_where(
    island::Transaction& tx, ObjectType type,
    const std::function<void(island::SqlFragment&)>& more) {
  island::SqlFragment clause;
  clause.text("object_type = ");
  clause.param(text_param(std::string(to_string(type))));
  more(clause);
  clause.text(" ORDER BY object_id, id");
  return KeyRows::select(tx, clause);
}

// --- moving what refers to a loser ----------------------------------------------------

// Leads converted into the loser now point at the survivor.
void repoint_converted_leads(island::Transaction& tx, const char* column,
                             std::unique_ptr<std::uint64_t> odbrows::LeadRow::*pointer, Id from,
                             Id to) {
  for (auto& lead : island::RowStore<odbrows::LeadRow>::select(
           tx, island::SqlFragment().text(std::string(column) + " = " + std::to_string(from)))) {
    lead.*pointer = std::make_unique<std::uint64_t>(to);
    island::RowStore<odbrows::LeadRow>::update(tx, lead);
  }
}

void move_references(UnitOfWork& uow, detail::DatabaseState* db, ObjectType type, Id from, Id to) {
  island::Transaction& tx = Session(uow).tx();
  detail::move_object_links(tx, {type, from}, {type, to});
  const std::string f = std::to_string(from), s = std::to_string(to);
  if (type == ObjectType::kContact) {
    const bool has_primary =
        !island::RowStore<odbrows::ContactCompanyRow>::select(
             tx, island::SqlFragment().text("contact_id = " + s + " AND is_primary = 1"))
             .empty();
    detail::move_rows<odbrows::ContactCompanyRow>(
        tx, "contact_id = " + f, "contact_id = " + s,
        [](const odbrows::ContactCompanyRow& r) { return std::to_string(r.company_id); },
        [&](odbrows::ContactCompanyRow& r) {
          r.contact_id = to;
          if (has_primary) r.is_primary = false;
        });
    detail::move_rows<odbrows::DealContactRow>(
        tx, "contact_id = " + f, "contact_id = " + s,
        [](const odbrows::DealContactRow& r) { return std::to_string(r.deal_id); },
        [to](odbrows::DealContactRow& r) { r.contact_id = to; });
    repoint_converted_leads(tx, "converted_contact_id", &odbrows::LeadRow::converted_contact_id,
                            from, to);
  } else if (type == ObjectType::kCompany) {
    detail::move_rows<odbrows::ContactCompanyRow>(
        tx, "company_id = " + f, "company_id = " + s,
        [](const odbrows::ContactCompanyRow& r) { return std::to_string(r.contact_id); },
        [to](odbrows::ContactCompanyRow& r) { r.company_id = to; });
    // Deals change through their repository: versions bump, as for any edit.
    Repository<Deal> deals(db);
    PageRequest page;
    page.filter = Filter::eq("company_id", static_cast<std::int64_t>(from));
    page.include_archived = true;
    page.limit = 1000;
    do {
      auto result = deals.query(uow, page);
      for (Deal& d : result.items) {
        d.company_id = to;
        deals.update(uow, d);
      }
      page.cursor = result.next_cursor;
    } while (page.cursor);
    repoint_converted_leads(tx, "converted_company_id", &odbrows::LeadRow::converted_company_id,
                            from, to);
  }
}

template <typename T>
MergeResult merge_as(UnitOfWork& uow, detail::DatabaseState* db, const MergeRequest& request) {
  Repository<T> repo(db);
  T survivor = repo.get(uow, request.survivor);
  if (survivor.merged_into)
    throw Conflict("the survivor was itself merged into " + std::to_string(*survivor.merged_into),
                   "survivor");
  std::map<Id, T> records;
  std::vector<T> losers;
  for (Id id : request.losers) {
    T loser = repo.get(uow, id);
    if (loser.merged_into)
      throw Conflict(std::string(to_string(T::kType)) + " " + std::to_string(id) +
                         " was already merged into " + std::to_string(*loser.merged_into),
                     "losers");
    records.emplace(id, loser);
    losers.push_back(std::move(loser));
  }
  records.emplace(survivor.id, survivor);
  const T original = survivor;

  // The chosen values first, then blanks filled from the losers in order.
  std::set<std::string> chosen;
  for (const auto& [field, winner_id] : request.winners) {
    auto winner = records.find(winner_id);
    if (winner == records.end()) {
      throw ValidationError("winners: record " + std::to_string(winner_id) + " for " + field +
                                " is neither the survivor nor a loser",
                            "winners");
    }
    if (field.starts_with("custom.")) {
      const std::string name = field.substr(7);
      auto value = winner->second.custom.find(name);
      if (value == winner->second.custom.end()) {
        survivor.custom.erase(name);
      } else {
        survivor.custom[name] = value->second;
      }
    } else {
      const auto* f = banyan::detail::writable_field<T>(field);
      if (f == nullptr || !f->mergeable)
        throw ValidationError("winners: " + field + " is not a field a merge can choose", field);
      f->copy(survivor, winner->second);
    }
    chosen.insert(field);
  }
  for (const T& loser : losers) {
    // Blanks are filled from the losers in order, but never with a withheld value.
    const auto withheld_here = request.withheld.find(loser.id);
    auto withheld = [&](const std::string& field) {
      if (withheld_here == request.withheld.end()) return false;
      const auto& fields = withheld_here->second;
      return std::find(fields.begin(), fields.end(), field) != fields.end();
    };
    for (const auto& f : banyan::detail::writable_fields<T>()) {
      const std::string name(f.name);
      if (!f.mergeable || chosen.count(name) || withheld(name) || f.blank(loser)) continue;
      if (f.blank(survivor)) {
        f.copy(survivor, loser);
      } else if (f.gather) {
        f.gather(survivor, loser);  // a list: the survivor keeps every email, phone, address
      }
    }
    for (const auto& [name, value] : loser.custom)
      if (!chosen.count("custom." + name) && !withheld("custom." + name))
        survivor.custom.emplace(name, value);
  }

  if constexpr (detail::kHasContactPoints<T>) {
    // An email or phone taken from a loser becomes the primary entry of its list.
    if constexpr (requires { survivor.email; }) {
      if (survivor.email && survivor.email != original.email)
        detail::promote_primary(survivor.emails, *survivor.email, /*email=*/true);
    }
    if (survivor.phone && survivor.phone != original.phone)
      detail::promote_primary(survivor.phones, *survivor.phone, /*email=*/false);
  }

  MergeResult result;
  result.survivor = survivor.id;
  island::Transaction& tx = Session(uow).tx();
  for (const T& loser : losers) {
    move_references(uow, db, T::kType, loser.id, survivor.id);
    repo.archive(uow, loser.id);
    auto row = island::RowStore<typename detail::Entity<T>::Row>::find(tx, loser.id);
    const auto fields = Session(uow).custom_fields(T::kType);
    const nlohmann::json before = detail::row_payload<T>(*row, *fields);
    row->merged_into_id = std::make_unique<std::uint64_t>(survivor.id);
    island::RowStore<typename detail::Entity<T>::Row>::update(tx, *row);
    Session(uow).audit("merged", {T::kType, loser.id}, before,
                       detail::row_payload<T>(*row, *fields));
    result.merged.push_back(loser.id);
  }
  // Last, so that a survivor the definitions refuse (say, a required custom field
  // nobody has) fails the merge after everything else was tried: the caller rolls back.
  const T saved = repo.update(uow, survivor);
  detail::append_event(uow, std::string(to_string(T::kType)) + ".merged", {T::kType, saved.id},
                       saved.version, {{"survivor", saved.id}, {"merged", result.merged}});
  return result;
}

}  // namespace

std::vector<DuplicateMatch> Duplicates::of(UnitOfWork& uow, ObjectRef record) const {
  require_deduplicated(record.type);
  island::Transaction& tx = Session(uow).tx();
  if (!detail::exists(tx, detail::table_of(record.type), record.id))
    throw NotFound("no " + std::string(to_string(record.type)) + " with id " +
                   std::to_string(record.id));
  const auto own = keys_where(tx, record.type, [&](island::SqlFragment& q) {
    q.text(" AND object_id = ");
    q.param(int_param(static_cast<std::int64_t>(record.id)));
  });
  std::map<Id, std::set<DuplicateRule>> matches;
  for (const auto& k : own) {
    for (const auto& other : keys_where(tx, record.type, [&](island::SqlFragment& q) {
           q.text(" AND rule = ");
           q.param(text_param(k.rule));
           q.text(" AND match_key = ");
           q.param(text_param(k.match_key));
           q.text(" AND object_id <> ");
           q.param(int_param(static_cast<std::int64_t>(record.id)));
         }))
      matches[other.object_id].insert(parse_rule(k.rule));
  }
  std::vector<DuplicateMatch> out;
  out.reserve(matches.size());
  for (const auto& [id, rules] : matches) out.push_back({id, {rules.begin(), rules.end()}});
  std::stable_sort(out.begin(), out.end(), [](const DuplicateMatch& a, const DuplicateMatch& b) {
    return a.rules.size() > b.rules.size();
  });
  return out;
}

std::vector<DuplicateGroup> Duplicates::scan(UnitOfWork& uow, ObjectType type,
                                             std::size_t max_groups, std::size_t skip) const {
  require_deduplicated(type);
  island::Transaction& tx = Session(uow).tx();
  island::SqlFragment q;
  q.text("SELECT rule, match_key, COUNT(*) FROM match_keys WHERE object_type = ");
  q.param(text_param(std::string(to_string(type))));
  q.text(" GROUP BY rule, match_key HAVING COUNT(*) > 1 ORDER BY rule, match_key LIMIT " +
         std::to_string(std::max<std::size_t>(1, max_groups)) + " OFFSET " + std::to_string(skip));
  std::vector<DuplicateGroup> out;
  for (const auto& g : island::ViewStore<odbrows::MatchGroupView>::query(tx, q)) {
    DuplicateGroup group{parse_rule(g.rule), {}};
    for (const auto& k : keys_where(tx, type, [&](island::SqlFragment& c) {
           c.text(" AND rule = ");
           c.param(text_param(g.rule));
           c.text(" AND match_key = ");
           c.param(text_param(g.match_key));
         }))
      group.ids.push_back(k.object_id);
    out.push_back(std::move(group));
  }
  std::stable_sort(out.begin(), out.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
    return static_cast<int>(a.rule) < static_cast<int>(b.rule);
  });
  return out;
}

MergeResult Duplicates::merge(UnitOfWork& uow, const MergeRequest& request) const {
  require_deduplicated(request.type);
  if (request.losers.empty())
    throw ValidationError("losers: name at least one record to merge", "losers");
  std::set<Id> seen{request.survivor};
  for (Id id : request.losers) {
    if (!seen.insert(id).second) {
      throw ValidationError(id == request.survivor
                                ? "losers: a record cannot be merged into itself"
                                : "losers: record " + std::to_string(id) + " is listed twice",
                            "losers");
    }
  }
  switch (request.type) {
    case ObjectType::kContact:
      return merge_as<Contact>(uow, db_, request);
    case ObjectType::kCompany:
      return merge_as<Company>(uow, db_, request);
    default:
      return merge_as<Lead>(uow, db_, request);
  }
}

}  // namespace banyan::store
