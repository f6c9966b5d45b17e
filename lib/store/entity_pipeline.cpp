// The sales entities: pipelines, their stages and the deals that move through them, with
// the rules that tie a deal's status to its stage's kind.
#include "store/database_state.hpp"
#include "store/entity_fields.hpp"
#include "store/outbox_writer.hpp"
#include "store/search_index.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store::detail {

std::span<const FieldDef<odbrows::PipelineRow>> Entity<Pipeline>::fields() {
  static const FieldDef<Row> own[] = {TEXT(name)};
  return own;
}
void Entity<Pipeline>::to_row(const Pipeline& in, Row& out) {
  record_to_row(in, out);
  out.name = in.name;
}
Pipeline Entity<Pipeline>::from_row(const Row& in) {
  Pipeline out;
  row_to_record(in, out);
  out.name = in.name;
  return out;
}
void Entity<Pipeline>::validate(const Pipeline& in) { validate_record(in); }
void Entity<Pipeline>::check_references(island::Transaction& tx, const Pipeline& in) {
  check_owner_and_team(tx, in);
}
std::span<const Referrer> Entity<Pipeline>::referrers() {
  static constexpr Referrer kReferrers[] = {{"stages", "pipeline_id"}, {"deals", "pipeline_id"}};
  return kReferrers;
}

// --- Stage -----------------------------------------------------------------------------
std::span<const FieldDef<odbrows::StageRow>> Entity<Stage>::fields() {
  static const FieldDef<Row> own[] = {ID(pipeline_id), TEXT(name), INT(position),
                                      INT(win_probability), ENUM(kind, parse_stage_kind)};
  return own;
}
void Entity<Stage>::to_row(const Stage& in, Row& out) {
  record_to_row(in, out);
  out.pipeline_id = in.pipeline_id;
  out.name = in.name;
  out.position = in.position;
  out.win_probability = in.win_probability;
  out.kind = std::string(to_string(in.kind));
}
Stage Entity<Stage>::from_row(const Row& in) {
  Stage out;
  row_to_record(in, out);
  out.pipeline_id = in.pipeline_id;
  out.name = in.name;
  out.position = in.position;
  out.win_probability = in.win_probability;
  out.kind = parse_stage_kind(in.kind);
  return out;
}
void Entity<Stage>::validate(const Stage& in) {
  validate_record(in);
  check_range("win_probability", in.win_probability, 0, 100);
  check_range("position", in.position, 0, 1000000);
}
void Entity<Stage>::check_references(island::Transaction& tx, const Stage& in) {
  check_owner_and_team(tx, in);
  require_exists(tx, "pipelines", in.pipeline_id, "pipeline_id");
}
std::span<const Referrer> Entity<Stage>::referrers() {
  static constexpr Referrer kReferrers[] = {{"deals", "stage_id"}};
  return kReferrers;
}

namespace {

std::int64_t count_where(island::Transaction& tx, const std::string& table,
                         const std::string& column, Id id) {
  island::SqlFragment q;
  q.text("SELECT COUNT(*) FROM " + table + " WHERE " + column + " = ");
  q.param(int_param(static_cast<std::int64_t>(id)));
  return island::query_int(tx, q);
}

// Refuses to take away the last stage of `kind` from a pipeline that holds deals: its
// deals could no longer be won, lost or reopened.
void keep_last_of_kind(island::Transaction& tx, Id pipeline, StageKind kind, const char* field) {
  if (count_where(tx, "deals", "pipeline_id", pipeline) == 0) return;
  island::SqlFragment q;
  q.text("SELECT COUNT(*) FROM stages WHERE pipeline_id = ");
  q.param(int_param(static_cast<std::int64_t>(pipeline)));
  q.text(" AND kind = ");
  q.param(text_param(std::string(to_string(kind))));
  if (island::query_int(tx, q) <= 1) {
    throw Conflict(std::string(field) + ": pipeline " + std::to_string(pipeline) +
                       " holds deals and this is its last " + std::string(to_string(kind)) +
                       " stage; a pipeline with deals keeps a stage of each kind",
                   field);
  }
}

}  // namespace

void Entity<Stage>::reconcile(Session& session, const Stage* stored, Stage& next, const Named*) {
  island::Transaction& tx = session.tx();
  if (stored == nullptr) return;
  const bool kind_changed = next.kind != stored->kind,
             moved = next.pipeline_id != stored->pipeline_id;
  if (!kind_changed && !moved) return;
  const char* field = kind_changed ? "kind" : "pipeline_id";
  if (const auto deals = count_where(tx, "deals", "stage_id", stored->id); deals > 0) {
    throw Conflict(std::string(field) + ": stage " + std::to_string(stored->id) + " holds " +
                       std::to_string(deals) + " deal(s); move them to another stage first",
                   field);
  }
  keep_last_of_kind(tx, stored->pipeline_id, stored->kind, field);
}

void Entity<Stage>::before_remove(island::Transaction& tx, const Row& row) {
  keep_last_of_kind(tx, row.pipeline_id, parse_stage_kind(row.kind), "id");
}

// --- Deal ------------------------------------------------------------------------------
std::span<const FieldDef<odbrows::DealRow>> Entity<Deal>::fields() {
  static const FieldDef<Row> own[] = {TEXT(title),        ID(pipeline_id),
                                      ID(stage_id),       INT(amount_minor),
                                      TEXT(currency),     OPT_DATE(expected_close),
                                      OPT_ID(company_id), ENUM(status, parse_deal_status),
                                      OPT_TIME(closed_at)};
  return own;
}
void Entity<Deal>::to_row(const Deal& in, Row& out) {
  record_to_row(in, out);
  out.title = in.title;
  out.pipeline_id = in.pipeline_id;
  out.stage_id = in.stage_id;
  out.amount_minor = in.amount.minor_units;
  out.currency = in.amount.currency;
  out.expected_close =
      in.expected_close ? std::make_unique<std::int64_t>(days(*in.expected_close)) : nullptr;
  out.company_id = column(in.company_id);
  out.status = std::string(to_string(in.status));
  out.closed_at = column(in.closed_at);
}
Deal Entity<Deal>::from_row(const Row& in) {
  Deal out;
  row_to_record(in, out);
  out.title = in.title;
  out.pipeline_id = in.pipeline_id;
  out.stage_id = in.stage_id;
  out.amount = Money{in.amount_minor, in.currency};
  if (in.expected_close) out.expected_close = date(*in.expected_close);
  out.company_id = value(in.company_id);
  out.status = parse_deal_status(in.status);
  out.closed_at = time_value(in.closed_at);
  return out;
}
void Entity<Deal>::validate(const Deal& in) {
  validate_record(in);
  check_currency("currency", in.amount.currency);
  if (in.amount.minor_units < 0) throw ValidationError("amount: must not be negative", "amount");
}
void Entity<Deal>::check_references(island::Transaction& tx, const Deal& in) {
  check_owner_and_team(tx, in);
  require_exists(tx, "pipelines", in.pipeline_id, "pipeline_id");
  auto stage = island::RowStore<odbrows::StageRow>::find(tx, in.stage_id);
  if (!stage || stage->pipeline_id != in.pipeline_id) {
    throw ValidationError("stage_id: no stage " + std::to_string(in.stage_id) + " in pipeline " +
                              std::to_string(in.pipeline_id),
                          "stage_id");
  }
  if (in.company_id) require_exists(tx, "companies", *in.company_id, "company_id");
}
std::span<const Referrer> Entity<Deal>::referrers() { return {}; }

namespace {

DealStatus status_of(StageKind kind) {
  switch (kind) {
    case StageKind::kWon:
      return DealStatus::kWon;
    case StageKind::kLost:
      return DealStatus::kLost;
    case StageKind::kOpen:
      break;
  }
  return DealStatus::kOpen;
}
StageKind kind_of(DealStatus status) {
  switch (status) {
    case DealStatus::kWon:
      return StageKind::kWon;
    case DealStatus::kLost:
      return StageKind::kLost;
    case DealStatus::kOpen:
      break;
  }
  return StageKind::kOpen;
}

// The first (or `last`) stage by position of `kind` in the pipeline, if any.
std::optional<Id> stage_of_kind(island::Transaction& tx, Id pipeline, StageKind kind,
                                bool last = false) {
  island::SqlFragment q;
  q.text("SELECT id FROM stages WHERE pipeline_id = ");
  q.param(int_param(static_cast<std::int64_t>(pipeline)));
  q.text(" AND kind = ");
  q.param(text_param(std::string(to_string(kind))));
  q.text(last ? " ORDER BY position DESC LIMIT 1" : " ORDER BY position LIMIT 1");
  const auto ids = island::query_ids(tx, q);
  if (ids.empty()) return std::nullopt;
  return ids.front();
}

// Deals live only in pipelines whose stages can take them through to the end.
void require_complete_pipeline(island::Transaction& tx, Id pipeline) {
  island::SqlFragment q;
  q.text("SELECT kind FROM stages WHERE pipeline_id = ");
  q.param(int_param(static_cast<std::int64_t>(pipeline)));
  q.text(" GROUP BY kind");
  bool has[3] = {false, false, false};
  for (const auto& cell : island::query_text(tx, q, 1))
    if (!cell.is_null) has[static_cast<int>(parse_stage_kind(cell.text))] = true;
  std::string missing;
  for (StageKind k : {StageKind::kOpen, StageKind::kWon, StageKind::kLost})
    if (!has[static_cast<int>(k)])
      missing += std::string(missing.empty() ? "" : ", ") + std::string(to_string(k));
  if (!missing.empty()) {
    throw ValidationError(
        "pipeline_id: pipeline " + std::to_string(pipeline) + " has no " + missing +
            " stage; deals need a pipeline with an open, a won and a lost stage (an "
            "administrator sets each stage's kind)",
        "pipeline_id");
  }
}

}  // namespace

void Entity<Deal>::reconcile(Session& session, const Deal* stored, Deal& next, const Named* named) {
  island::Transaction& tx = session.tx();
  const bool creating = stored == nullptr;
  const bool moves = creating || touches(named, "stage_id", next.stage_id != stored->stage_id) ||
                     touches(named, "pipeline_id", next.pipeline_id != stored->pipeline_id);
  const bool sets_status = creating || touches(named, "status", next.status != stored->status);
  const bool sets_close =
      touches(named, "closed_at",
              creating ? next.closed_at.has_value() : next.closed_at != stored->closed_at);
  const bool same_place = !creating && next.stage_id == stored->stage_id &&
                          next.pipeline_id == stored->pipeline_id && next.status == stored->status;
  if (!creating && stored->status != DealStatus::kOpen && (moves || sets_status) && !same_place) {
    const std::string id = std::to_string(stored->id);
    throw ValidationError(std::string(sets_status ? "status" : "stage_id") + ": deal " + id +
                              " is " + std::string(to_string(stored->status)) +
                              "; reopen it before changing its stage or status (POST /v1/deals/" +
                              id + "/reopen)",
                          sets_status ? "status" : "stage_id");
  }
  if ((moves || sets_status) && !same_place) {
    // A stage that is missing or of another pipeline is check_references' to refuse.
    const auto stage = island::RowStore<odbrows::StageRow>::find(tx, next.stage_id);
    if (!stage || stage->pipeline_id != next.pipeline_id) return;
    require_complete_pipeline(tx, next.pipeline_id);
    const StageKind kind = parse_stage_kind(stage->kind);
    const DealStatus by_stage = status_of(kind);
    // On create, "open" is the default: the stage says.
    const bool defaulted = creating && next.status == DealStatus::kOpen;
    if (moves && sets_status && !defaulted) {
      // Both given (a create's stage always is): they must agree.
      if (next.status != by_stage)
        throw ValidationError("status: '" + std::string(to_string(next.status)) +
                                  "' does not agree with stage " + std::to_string(next.stage_id) +
                                  ", a " + std::string(to_string(kind)) +
                                  " stage; name one of them, or both in agreement",
                              "status");
    } else if (moves || defaulted) {
      next.status = by_stage;
    } else if (next.status != by_stage) {
      // Only the status changes: the deal goes to its pipeline's first stage of that kind.
      const auto to = stage_of_kind(tx, next.pipeline_id, kind_of(next.status));
      if (to) next.stage_id = *to;  // require_complete_pipeline saw one
    }
  }
  // The close time belongs to closed deals: kept as given (imports), else the moment they
  // closed; an open deal has none.
  const bool closes =
      next.status != DealStatus::kOpen && (creating || stored->status == DealStatus::kOpen);
  if (next.status == DealStatus::kOpen) {
    if (next.closed_at && sets_close)
      throw ValidationError("closed_at: an open deal has no close time", "closed_at");
    next.closed_at.reset();
  } else if (closes) {
    if (!next.closed_at || !sets_close) next.closed_at = now_micros(session.database());
  } else if (!next.closed_at) {
    // Emptied by name is refused; a whole record that leaves it out keeps the stored one.
    if (named != nullptr && named->has("closed_at"))
      throw ValidationError(
          "closed_at: a " + std::string(to_string(next.status)) + " deal keeps its close time",
          "closed_at");
    next.closed_at = stored->closed_at;
  }
}

Id stage_to_reopen_in(island::Transaction& tx, const Deal& deal) {
  island::SqlFragment q;
  q.text("SELECT from_stage_id FROM deal_stage_changes WHERE deal_id = ");
  q.param(int_param(static_cast<std::int64_t>(deal.id)));
  q.text(" AND to_stage_id = ");
  q.param(int_param(static_cast<std::int64_t>(deal.stage_id)));
  q.text(" AND from_stage_id IS NOT NULL ORDER BY id DESC LIMIT 1");
  for (const Id left : island::query_ids(tx, q)) {
    const auto stage = island::RowStore<odbrows::StageRow>::find(tx, left);
    if (stage && stage->pipeline_id == deal.pipeline_id &&
        stage->kind == to_string(StageKind::kOpen))
      return left;
  }
  if (const auto last = stage_of_kind(tx, deal.pipeline_id, StageKind::kOpen, /*last=*/true))
    return *last;
  throw ValidationError("pipeline_id: pipeline " + std::to_string(deal.pipeline_id) +
                            " has no open stage to reopen the deal in",
                        "pipeline_id");
}

void require_open_stage(island::Transaction& tx, const Deal& deal, Id stage_id) {
  const auto stage = island::RowStore<odbrows::StageRow>::find(tx, stage_id);
  if (!stage || stage->pipeline_id != deal.pipeline_id)
    throw ValidationError("stage_id: no stage " + std::to_string(stage_id) + " in pipeline " +
                              std::to_string(deal.pipeline_id),
                          "stage_id");
  if (stage->kind != to_string(StageKind::kOpen))
    throw ValidationError("stage_id: stage " + std::to_string(stage_id) + " is a " + stage->kind +
                              " stage; a reopened deal goes to an open one",
                          "stage_id");
}
void Entity<Deal>::after_event(UnitOfWork& uow, const Row& row, const nlohmann::json& before,
                               const nlohmann::json& after) {
  // A deal that closes says so in an event of its own, whichever write closed it.
  const std::string status = after.value("status", std::string());
  const bool was = before.is_object() && before.value("status", std::string()) == status;
  if ((status == "won" || status == "lost") && !was)
    append_event(uow, "deal." + status, {ObjectType::kDeal, row.id}, row.version, after);
}

void Entity<Deal>::after_write(UnitOfWork& uow, const Row* before, const Row& after) {
  if (before != nullptr && before->stage_id == after.stage_id) return;
  island::Transaction& tx = Session(uow).tx();
  const std::optional<Id> actor = uow.actor();
  odbrows::DealStageChangeRow change;
  change.deal_id = after.id;
  change.to_stage_id = after.stage_id;
  change.changed_at = after.updated_at;
  change.changed_by = column(actor);
  if (before != nullptr) {
    change.from_stage_id = std::make_unique<std::uint64_t>(before->stage_id);
    // Time in the previous stage: since the change that put the deal there.
    island::SqlFragment q;
    q.text("SELECT COALESCE(MAX(changed_at), 0) FROM deal_stage_changes WHERE deal_id = ");
    q.param(int_param(static_cast<std::int64_t>(after.id)));
    const std::int64_t entered = island::query_int(tx, q);
    const std::int64_t since = entered > 0 ? entered : before->created_at;
    change.time_in_previous_us = std::make_unique<std::int64_t>(after.updated_at - since);
    append_event(uow, "deal.stage_changed", {ObjectType::kDeal, after.id}, after.version,
                 {{"deal_id", after.id},
                  {"pipeline_id", after.pipeline_id},
                  {"from_stage_id", before->stage_id},
                  {"to_stage_id", after.stage_id},
                  {"time_in_previous_stage_us", *change.time_in_previous_us}});
  }
  island::RowStore<odbrows::DealStageChangeRow>::insert(tx, change);
}

// --- Activity --------------------------------------------------------------------------
}  // namespace banyan::store::detail
