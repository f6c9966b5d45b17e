#include "store/deal_stages.hpp"

#include <map>
#include <string>

#include "banyan/errors.hpp"
#include "store/database_state.hpp"
#include "store/entity.hpp"
#include "store/repository.hpp"
#include "store/session.hpp"
#include "store/sql_builder.hpp"

namespace banyan::store {

using detail::int_param;

namespace {

std::vector<Money> as_money(const std::map<std::string, std::int64_t>& by_currency) {
  std::vector<Money> out;
  out.reserve(by_currency.size());
  for (const auto& [currency, minor] : by_currency) out.push_back(Money{minor, currency});
  return out;
}

}  // namespace

std::vector<StageChange> DealStages::history(UnitOfWork& uow, Id deal_id) const {
  island::Transaction& tx = Session(uow).tx();
  if (!detail::exists(tx, "deals", deal_id))
    throw NotFound("no deal with id " + std::to_string(deal_id));
  island::SqlFragment clause;
  clause.text("deal_id = ");
  clause.param(int_param(static_cast<std::int64_t>(deal_id)));
  clause.text(" ORDER BY changed_at, id");
  std::vector<StageChange> out;
  for (const auto& row : island::RowStore<odbrows::DealStageChangeRow>::select(tx, clause)) {
    StageChange c;
    c.deal_id = row.deal_id;
    c.from_stage_id = detail::value(row.from_stage_id);
    c.to_stage_id = row.to_stage_id;
    c.changed_at = detail::timestamp(row.changed_at);
    c.changed_by = detail::value(row.changed_by);
    if (row.time_in_previous_us)
      c.time_in_previous_stage = std::chrono::microseconds(*row.time_in_previous_us);
    out.push_back(c);
  }
  return out;
}

PipelineSummary DealStages::summary(UnitOfWork& uow, Id pipeline_id,
                                    std::optional<DealStatus> status,
                                    const CountedDeals& counted) const {
  PipelineSummary out;
  out.pipeline = Repository<Pipeline>(db_).get(uow, pipeline_id);

  PageRequest stages;
  stages.filter = Filter::eq("pipeline_id", static_cast<std::int64_t>(pipeline_id));
  stages.sort = {"position", false};
  stages.limit = 1000;
  std::map<Id, std::size_t> index;
  do {
    auto page = Repository<Stage>(db_).query(uow, stages);
    for (Stage& s : page.items) {
      index[s.id] = out.stages.size();
      out.stages.push_back(StageSummary{std::move(s), 0, {}, {}});
    }
    stages.cursor = page.next_cursor;
  } while (stages.cursor);

  island::Transaction& tx = Session(uow).tx();
  const bool mysql = db_->backend == island::Backend::kMysql;
  island::SqlFragment q;
  // MySQL sums integers as DECIMAL; the view reads a 64-bit integer.
  q.text(std::string("SELECT stage_id, currency, COUNT(*), ") +
         (mysql ? "CAST(SUM(amount_minor) AS SIGNED)" : "SUM(amount_minor)") +
         " FROM deals WHERE archived_at IS NULL AND pipeline_id = ");
  q.param(int_param(static_cast<std::int64_t>(pipeline_id)));
  if (status) {
    q.text(" AND status = ");
    q.param(detail::text_param(std::string(to_string(*status))));
  }
  if (!counted.all) {
    q.text(" AND (1 = 0");
    if (counted.owner_id) {
      q.text(" OR owner_id = ");
      q.param(int_param(static_cast<std::int64_t>(*counted.owner_id)));
    }
    for (Id team : counted.team_ids) {
      q.text(" OR team_id = ");
      q.param(int_param(static_cast<std::int64_t>(team)));
    }
    q.text(")");
  }
  q.text(" GROUP BY stage_id, currency ORDER BY stage_id, currency");

  std::vector<std::map<std::string, std::int64_t>> amounts(out.stages.size());
  std::vector<std::map<std::string, std::int64_t>> weighted(out.stages.size());
  std::map<std::string, std::int64_t> total, total_weighted;
  for (const auto& row : island::ViewStore<odbrows::StageTotalView>::query(tx, q)) {
    auto it = index.find(row.stage_id);
    if (it == index.end()) continue;  // a stage of another pipeline: not ours to show
    StageSummary& s = out.stages[it->second];
    const std::int64_t w = row.amount * s.stage.win_probability / 100;
    s.deals += static_cast<std::uint64_t>(row.deals);
    amounts[it->second][row.currency] += row.amount;
    weighted[it->second][row.currency] += w;
    total[row.currency] += row.amount;
    total_weighted[row.currency] += w;
    out.deals += static_cast<std::uint64_t>(row.deals);
  }
  for (std::size_t i = 0; i < out.stages.size(); ++i) {
    out.stages[i].amount = as_money(amounts[i]);
    out.stages[i].weighted_amount = as_money(weighted[i]);
  }
  out.amount = as_money(total);
  out.weighted_amount = as_money(total_weighted);
  return out;
}

}  // namespace banyan::store
